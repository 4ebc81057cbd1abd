from __future__ import annotations

import asyncio
import json

import pytest
import sqlalchemy as sa
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext

from kernel import wire
from kernel.envelope import NewEvent, RecordedEvent, canonical_json
from kernel.naming import events_stream, events_subject
from kernel.relay import CHECKPOINT, Relay
from kernel.store import EventStore


def events(n: int, start: int = 0) -> list[NewEvent]:
    return [
        NewEvent(f"s{i % 3}", "Counted", {"i": i}, tenant_id="acme")
        for i in range(start, start + n)
    ]


async def stream_positions(js: JetStreamContext, namespace: str, service: str) -> list[int]:
    """Every message in the service's stream, read back with an ephemeral ordered consumer."""
    info = await js.stream_info(events_stream(namespace, service))
    sub = await js.subscribe(events_subject(namespace, service), ordered_consumer=True)
    positions = []
    for _ in range(info.state.messages):
        msg = await sub.next_msg(timeout=5)
        positions.append(json.loads(msg.data)["global_position"])
    await sub.unsubscribe()
    return positions


async def until_checkpoint(relay: Relay, position: int) -> None:
    await asyncio.wait_for(relay.wait_published(position), 20)
    assert await relay.checkpoint() >= position


def make_relay(store: EventStore, nats_client: NatsClient, namespace: str, service: str) -> Relay:
    return Relay(store, nats_client, namespace=namespace, service=service, batch=50)


@pytest.fixture
def relay(store: EventStore, nats_client: NatsClient, namespace: str, service_name: str) -> Relay:
    return make_relay(store, nats_client, namespace, service_name)


async def test_relay_publishes_in_position_order_with_the_event_id_as_message_id(
    relay: Relay, nats_client: NatsClient, namespace: str, service_name: str, stop: asyncio.Event
) -> None:
    store = relay.store
    task = asyncio.create_task(relay.run(stop))
    await store.append(events(120))
    await until_checkpoint(relay, 120)
    await store.append(events(5, start=120))  # wakes the relay through LISTEN/NOTIFY
    await until_checkpoint(relay, 125)
    stop.set()
    await task

    js = nats_client.jetstream()
    assert await stream_positions(js, namespace, service_name) == list(range(1, 126))
    last = await js.get_last_msg(
        events_stream(namespace, service_name), events_subject(namespace, service_name, "Counted")
    )
    assert last.headers is not None
    assert last.headers["Nats-Msg-Id"] == json.loads(last.data)["event_id"]


async def test_relay_publishes_each_payload_as_the_log_stores_it(
    relay: Relay, nats_client: NatsClient, namespace: str, service_name: str, stop: asyncio.Event
) -> None:
    # Values whose text differs between JSON writers, and one orjson cannot parse (2**70).
    payload = {"z": [1e-05, 1e16, 0.1 + 0.2, 2**70], "a": {"é\n": None, "b": True}, "m": -0.0}
    [stored] = await relay.store.append([NewEvent("s", "Odd", payload, tenant_id="acme")])
    task = asyncio.create_task(relay.run(stop))
    await until_checkpoint(relay, stored.global_position)
    stop.set()
    await task

    msg = await nats_client.jetstream().get_last_msg(
        events_stream(namespace, service_name), events_subject(namespace, service_name, "Odd")
    )
    assert canonical_json(payload) in msg.data  # the stored text itself, not written again
    assert RecordedEvent.from_json(wire.decode(msg.data)) == stored  # consumers read the same


async def test_relay_restarted_after_publishing_but_before_checkpoint_publishes_once(
    store: EventStore, nats_client: NatsClient, namespace: str, service_name: str
) -> None:
    await store.append(events(80))
    first_stop = asyncio.Event()
    first = make_relay(store, nats_client, namespace, service_name)
    task = asyncio.create_task(first.run(first_stop))
    await until_checkpoint(first, 80)
    first_stop.set()
    await task
    # The crash window: JetStream has the events, the checkpoint does not say so.
    async with store.engine.begin() as conn:
        t = store.tables.checkpoints
        await conn.execute(sa.update(t).where(t.c.name == CHECKPOINT).values(position=30))
    await store.append(events(10, start=80))

    second_stop = asyncio.Event()
    second = make_relay(store, nats_client, namespace, service_name)
    task = asyncio.create_task(second.run(second_stop))
    await until_checkpoint(second, 90)
    second_stop.set()
    await task

    positions = await stream_positions(nats_client.jetstream(), namespace, service_name)
    assert positions == list(range(1, 91))


async def test_a_second_relay_waits_until_the_first_stops(
    store: EventStore, nats_client: NatsClient, namespace: str, service_name: str
) -> None:
    stop_a, stop_b = asyncio.Event(), asyncio.Event()
    relay_a = make_relay(store, nats_client, namespace, service_name)
    relay_b = make_relay(store, nats_client, namespace, service_name)
    task_a = asyncio.create_task(relay_a.run(stop_a))
    await asyncio.wait_for(relay_a.active.wait(), 10)
    task_b = asyncio.create_task(relay_b.run(stop_b))
    await store.append(events(3))
    await until_checkpoint(relay_a, 3)
    assert not relay_b.active.is_set()

    stop_a.set()
    await task_a
    await asyncio.wait_for(relay_b.active.wait(), 10)
    await store.append(events(2, start=3))
    await until_checkpoint(relay_b, 5)
    stop_b.set()
    await task_b
    assert await stream_positions(nats_client.jetstream(), namespace, service_name) == [
        1,
        2,
        3,
        4,
        5,
    ]


async def test_an_event_the_server_refuses_holds_back_the_rest_of_its_pipelined_batch(
    store: EventStore,
    nats_client: NatsClient,
    namespace: str,
    service_name: str,
    stop: asyncio.Event,
) -> None:
    # A batch goes out before any acknowledgement comes back; if the server refused one
    # event but stored the ones after it, the retry would put it behind them.
    relay = make_relay(store, nats_client, namespace, service_name)
    task = asyncio.create_task(relay.run(stop))
    await asyncio.wait_for(relay.active.wait(), 10)
    js, name = nats_client.jetstream(), events_stream(namespace, service_name)
    config = (await js.stream_info(name)).config
    config.max_msg_size = 1500  # the third event is bigger, until the relay's restart resets it
    await js.update_stream(config)

    sizes = [1, 1, 2000, 1, 1]
    await store.append(
        [NewEvent("s", "Counted", {"i": i, "pad": "x" * n}, "acme") for i, n in enumerate(sizes)]
    )
    await until_checkpoint(relay, 5)
    stop.set()
    await task

    assert await stream_positions(js, namespace, service_name) == [1, 2, 3, 4, 5]
