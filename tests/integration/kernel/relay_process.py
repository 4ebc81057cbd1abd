"""A relay in a process of its own, for tests that kill it: python -m ... DB NATS NS SCHEMA."""

from __future__ import annotations

import asyncio
import sys

import nats

from kernel.db import create_engine
from kernel.relay import Relay
from kernel.store import EventStore


async def main(database_url: str, nats_url: str, namespace: str, schema: str) -> None:
    engine = create_engine(database_url, pool_size=2)
    client = await nats.connect(nats_url)
    relay = Relay(
        EventStore(engine, schema),
        client,
        namespace=namespace,
        service=schema,
        batch=25,
    )
    await relay.run(asyncio.Event())


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
