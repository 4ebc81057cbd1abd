"""kill -9 a relay process while it publishes; the next relay must leave every event once."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

from nats.aio.client import Client as NatsClient

from kernel.naming import events_subject
from kernel.relay import Relay
from kernel.store import EventStore
from tests.integration.kernel.test_relay import events, stream_positions


async def test_a_relay_killed_mid_stream_is_resumed_without_loss_or_duplicates(
    store: EventStore, nats_client: NatsClient, namespace: str, database_url: str, nats_url: str
) -> None:
    await store.append(events(3000))
    seen = asyncio.Queue[None]()

    async def count(_: object) -> None:
        seen.put_nowait(None)

    watch = await nats_client.subscribe(events_subject(namespace, store.schema), cb=count)
    victim = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.integration.kernel.relay_process",
        database_url,
        nats_url,
        namespace,
        store.schema,
    )
    probe = Relay(store, nats_client, namespace=namespace, service=store.schema)
    async with asyncio.timeout(60):
        for _ in range(100):  # kill it once it is well under way
            await seen.get()
    os.kill(victim.pid, signal.SIGKILL)
    await victim.wait()
    await watch.unsubscribe()
    left_at = await probe.checkpoint()

    stop = asyncio.Event()
    task = asyncio.create_task(probe.run(stop))
    await asyncio.wait_for(probe.wait_published(3000), 60)
    stop.set()
    await task

    assert left_at < 3000  # it died with work left
    positions = await stream_positions(nats_client.jetstream(), namespace, store.schema)
    assert positions == list(range(1, 3001))
