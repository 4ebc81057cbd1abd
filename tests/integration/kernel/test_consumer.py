from __future__ import annotations

import asyncio
import json

from nats.aio.client import Client as NatsClient
from sqlalchemy.ext.asyncio import AsyncEngine

from kernel.consumer import Batched, Consumer, Subscription
from kernel.envelope import NewEvent, RecordedEvent
from kernel.naming import dead_letter_stream, dead_letter_subject, events_stream, events_subject
from kernel.store import EventStore
from tests.integration.kernel.conftest import Tally


def make_consumer(
    engine: AsyncEngine, tally: Tally, nats_client: NatsClient, namespace: str, service: str,
    *, batched: bool = False, idle_wait_s: float = 1.0, markers: bool = True,
) -> Consumer:  # fmt: skip
    subscription = Subscription(
        durable=f"{service}_tally",
        stream=events_stream(namespace, service),
        subjects=[events_subject(namespace, service, "Counted")],
    )
    handler = Batched(tally.batch) if batched else tally
    return Consumer(
        engine, tally.schema, nats_client, subscription, handler,
        namespace=namespace, max_attempts=3, backoff_s=(0.05,), idle_wait_s=idle_wait_s,
        markers=markers,
    )  # fmt: skip


def counted(i: int, **extra: object) -> NewEvent:
    return NewEvent("s", "Counted", {"i": i, **extra}, tenant_id="acme")


async def test_each_event_is_applied_once_even_when_delivered_twice(
    engine: AsyncEngine, relayed: EventStore, tally: Tally, nats_client: NatsClient,
    namespace: str, service_name: str, stop: asyncio.Event,
) -> None:  # fmt: skip
    recorded = await relayed.append([counted(i) for i in range(1, 11)])
    # A duplicate replayed into the stream under another message id: dedup cannot catch it.
    dup = recorded[3]
    await nats_client.jetstream().publish(
        events_subject(namespace, service_name, "Counted"),
        json.dumps(dup.to_json()).encode(),
        headers={"Nats-Msg-Id": f"replay-{dup.event_id}"},
    )
    await relayed.append([counted(100)])
    consumer = make_consumer(engine, tally, nats_client, namespace, service_name)
    task = asyncio.create_task(consumer.run(stop))
    for _ in range(11):
        await asyncio.wait_for(tally.seen.get(), 10)
    await wait_until_acked(nats_client, consumer)
    stop.set()
    await task

    assert await tally.read(engine) == (11, sum(range(1, 11)) + 100)


async def test_a_message_redelivered_after_its_writes_committed_changes_nothing(
    engine: AsyncEngine, relayed: EventStore, tally: Tally, nats_client: NatsClient,
    namespace: str, service_name: str, stop: asyncio.Event,
) -> None:  # fmt: skip
    await relayed.append([counted(7)])
    consumer = make_consumer(engine, tally, nats_client, namespace, service_name)
    await consumer._ensure_dead_letter_stream()
    sub = await nats_client.jetstream().pull_subscribe_bind(
        durable=await consumer._ensure_consumer(), stream=consumer.subscription.stream
    )
    [msg] = await sub.fetch(1, timeout=10)
    await consumer._apply(RecordedEvent.from_json(json.loads(msg.data)))  # crash before the ack
    await msg.nak()
    await sub.unsubscribe()

    task = asyncio.create_task(consumer.run(stop))
    await wait_until_acked(nats_client, consumer)
    stop.set()
    await task
    assert await tally.read(engine) == (1, 7)
    info = await nats_client.jetstream().consumer_info(
        consumer.subscription.stream, consumer.subscription.durable
    )
    assert info.delivered.consumer_seq >= 2  # it really was delivered a second time


async def test_a_poisoned_message_goes_to_dead_letter_and_the_next_is_processed(
    engine: AsyncEngine, relayed: EventStore, tally: Tally, nats_client: NatsClient,
    namespace: str, service_name: str, stop: asyncio.Event,
) -> None:  # fmt: skip
    await relayed.append([counted(1), counted(2, poison=True), counted(3)])
    consumer = make_consumer(engine, tally, nats_client, namespace, service_name)
    task = asyncio.create_task(consumer.run(stop))
    for _ in range(2):
        await asyncio.wait_for(tally.seen.get(), 10)
    js = nats_client.jetstream()
    dead_subject = dead_letter_subject(namespace, consumer.subscription.durable)
    dead = await wait_for_dead_letter(js, namespace, dead_subject)
    stop.set()
    await task

    assert await tally.read(engine) == (2, 4)
    assert json.loads(dead.data)["payload"] == {"i": 2, "poison": True}
    assert dead.headers is not None
    assert "ValueError: cannot count 2: poisoned" in dead.headers["Empreinte-Error"]
    assert dead.headers["Empreinte-Attempts"] == "3"


async def wait_for_dead_letter(js, namespace: str, subject: str):  # type: ignore[no-untyped-def]
    sub = await js.subscribe(subject, stream=dead_letter_stream(namespace), ordered_consumer=True)
    msg = await sub.next_msg(timeout=20)
    await sub.unsubscribe()
    return msg


async def wait_until_acked(nats_client: NatsClient, consumer: Consumer) -> None:
    js, s = nats_client.jetstream(), consumer.subscription
    async with asyncio.timeout(20):
        while True:
            info = await js.consumer_info(s.stream, s.durable)
            if info.num_pending == 0 and info.num_ack_pending == 0:
                return
            await asyncio.sleep(0.05)
