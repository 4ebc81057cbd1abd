"""The relay against a NATS server that goes away while the service keeps appending."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path

import nats

from infra.nats import EmbeddedNats
from infra.process import free_port
from kernel.relay import Relay
from kernel.store import EventStore
from tests.integration.kernel.test_relay import events, stream_positions


async def test_appends_go_on_while_nats_is_down_and_all_are_published_in_order_after(
    store: EventStore, namespace: str, service_name: str
) -> None:
    # Started from this (main) thread: the server dies with the thread that started it.
    # Not pytest's tmp_path: every pytest start makes /tmp/pytest-of-root private again.
    server = EmbeddedNats(Path(tempfile.mkdtemp(prefix="empreinte-nats-")), port=free_port())
    url = server.start()
    client = await nats.connect(url, max_reconnect_attempts=-1, reconnect_time_wait=0.1)
    stop = asyncio.Event()
    relay = Relay(store, client, namespace=namespace, service=service_name)
    task = asyncio.create_task(relay.run(stop))
    try:
        await store.append(events(20))
        await asyncio.wait_for(relay.wait_published(20), 20)

        server.stop()
        for n in range(20, 50, 5):  # the service keeps accepting work: appends never need NATS
            assert len(await store.append(events(5, start=n))) == 5
        assert relay.published_position == 20

        server.start()
        await asyncio.wait_for(relay.wait_published(50), 60)
        assert await stream_positions(client.jetstream(), namespace, service_name) == list(
            range(1, 51)
        )
    finally:
        stop.set()
        await task
        await client.close()
        server.stop()
        shutil.rmtree(server.data_dir, ignore_errors=True)
