from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence

import pytest
import sqlalchemy as sa
from nats.aio.client import Client as NatsClient
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from kernel.envelope import RecordedEvent
from kernel.migrations import upgrade
from kernel.relay import Relay
from kernel.store import EventStore
from kernel.upcasting import Upcasters


@pytest.fixture
async def log_schema(engine: AsyncEngine) -> str:
    """A fresh service schema with the kernel's event log, built by the real migrations."""
    schema = f"k_{uuid.uuid4().hex[:10]}"
    await upgrade(engine, schema)
    return schema


@pytest.fixture
def upcasters() -> Upcasters:
    return Upcasters()


@pytest.fixture
async def store(engine: AsyncEngine, log_schema: str, upcasters: Upcasters) -> EventStore:
    return EventStore(engine, log_schema, upcasters)


class Tally:
    """A deliberately non-idempotent handler: applying an event twice would show."""

    def __init__(self, schema: str) -> None:
        self.schema = schema
        self.seen: asyncio.Queue[RecordedEvent] = asyncio.Queue()
        self.batches: list[list[int]] = []

    async def __call__(self, event: RecordedEvent, conn: AsyncConnection) -> None:
        if event.payload.get("poison"):
            raise ValueError(f"cannot count {event.payload['i']}: poisoned")
        await conn.execute(
            sa.text(f"UPDATE {self.schema}.tally SET n = n + 1, total = total + :i"),
            {"i": event.payload["i"]},
        )
        await self.seen.put(event)

    async def batch(self, events: Sequence[RecordedEvent], conn: AsyncConnection) -> None:
        """The batch-aware form: records what each call was given, then counts in order."""
        self.batches.append([e.payload["i"] for e in events])
        for event in events:
            await self(event, conn)

    async def read(self, engine: AsyncEngine) -> tuple[int, int]:
        async with engine.connect() as conn:
            row = (await conn.execute(sa.text(f"SELECT n, total FROM {self.schema}.tally"))).one()
            return int(row.n), int(row.total)


@pytest.fixture
async def tally(engine: AsyncEngine) -> Tally:
    schema = f"c_{uuid.uuid4().hex[:10]}"
    await upgrade(engine, schema)
    async with engine.begin() as conn:
        await conn.execute(sa.text(f"CREATE TABLE {schema}.tally (n int, total int)"))
        await conn.execute(sa.text(f"INSERT INTO {schema}.tally VALUES (0, 0)"))
    return Tally(schema)


@pytest.fixture
async def relayed(
    store: EventStore, nats_client: NatsClient, namespace: str, service_name: str
) -> AsyncIterator[EventStore]:
    """The producer's log, relayed to JetStream for the whole test."""
    stop = asyncio.Event()
    relay = Relay(store, nats_client, namespace=namespace, service=service_name)
    task = asyncio.create_task(relay.run(stop))
    await asyncio.wait_for(relay.active.wait(), 10)
    yield store
    stop.set()
    await task
