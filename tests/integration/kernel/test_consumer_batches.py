"""The consumer's batch path: one transaction per fetched batch, exactly once all the same."""

from __future__ import annotations

import asyncio
import json

import sqlalchemy as sa
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from sqlalchemy.ext.asyncio import AsyncEngine

from kernel.consumer import Consumer
from kernel.envelope import RecordedEvent
from kernel.naming import dead_letter_subject, events_subject
from kernel.schema import log_tables
from kernel.store import EventStore
from tests.integration.kernel.conftest import Tally
from tests.integration.kernel.test_consumer import (
    counted,
    make_consumer,
    wait_for_dead_letter,
    wait_until_acked,
)


async def fetch_all(nats_client: NatsClient, consumer: Consumer, count: int) -> list[Msg]:
    """`count` messages of the consumer's durable, fetched without handling them."""
    await consumer._ensure_dead_letter_stream()
    sub = await nats_client.jetstream().pull_subscribe_bind(
        durable=await consumer._ensure_consumer(), stream=consumer.subscription.stream
    )
    messages: list[Msg] = []
    while len(messages) < count:  # a fetch may return fewer than asked for
        messages += await sub.fetch(count - len(messages), timeout=10)
    await sub.unsubscribe()
    return messages


async def wait_until_pending(nats_client: NatsClient, consumer: Consumer, count: int) -> None:
    await consumer._ensure_dead_letter_stream()
    await consumer._ensure_consumer()
    js, s = nats_client.jetstream(), consumer.subscription
    async with asyncio.timeout(20):
        while True:  # JetStream has no event for "the relay caught up": poll its count
            if (await js.consumer_info(s.stream, s.durable)).num_pending >= count:
                return
            await asyncio.sleep(0.05)


async def test_a_batch_is_given_to_a_batch_handler_in_one_call_in_order(
    engine: AsyncEngine, relayed: EventStore, tally: Tally, nats_client: NatsClient,
    namespace: str, service_name: str,
) -> None:  # fmt: skip
    await relayed.append([counted(i) for i in range(1, 6)])
    consumer = make_consumer(engine, tally, nats_client, namespace, service_name, batched=True)
    messages = await fetch_all(nats_client, consumer, 5)

    await consumer.handle_batch(messages)
    await wait_until_acked(nats_client, consumer)

    assert tally.batches == [[1, 2, 3, 4, 5]]
    assert await tally.read(engine) == (5, 15)


async def test_a_poisoned_message_in_a_batch_is_dead_lettered_and_the_others_applied_once(
    engine: AsyncEngine, relayed: EventStore, tally: Tally, nats_client: NatsClient,
    namespace: str, service_name: str, stop: asyncio.Event,
) -> None:  # fmt: skip
    await relayed.append([counted(1), counted(2), counted(3, poison=True), counted(4)])
    consumer = make_consumer(engine, tally, nats_client, namespace, service_name, batched=True)
    await consumer.handle_batch(await fetch_all(nats_client, consumer, 4))  # batch, then 1 by 1

    task = asyncio.create_task(consumer.run(stop))  # the poison's retries, then dead letter
    js = nats_client.jetstream()
    dead = await wait_for_dead_letter(
        js, namespace, dead_letter_subject(namespace, consumer.subscription.durable)
    )
    await wait_until_acked(nats_client, consumer)
    stop.set()
    await task

    assert await tally.read(engine) == (3, 7)
    assert tally.batches[0] == [1, 2, 3, 4]  # tried together first, rolled back whole
    assert [1, 2, 3, 4] not in tally.batches[1:]
    assert json.loads(dead.data)["payload"] == {"i": 3, "poison": True}
    assert dead.headers is not None and dead.headers["Empreinte-Attempts"] == "3"


async def test_a_poison_retried_with_fresh_messages_no_longer_rolls_their_batch_back(
    engine: AsyncEngine, relayed: EventStore, tally: Tally, nats_client: NatsClient,
    namespace: str, service_name: str,
) -> None:  # fmt: skip
    await relayed.append([counted(1), counted(2, poison=True), counted(3)])
    consumer = make_consumer(engine, tally, nats_client, namespace, service_name, batched=True)
    await consumer.handle_batch(await fetch_all(nats_client, consumer, 3))  # 2 fails alone
    await relayed.append([counted(i) for i in (4, 5, 6)])
    tally.batches.clear()

    # the poison's retry (after its backoff) comes back among the fresh messages
    retried = await fetch_all(nats_client, consumer, 4)
    await consumer.handle_batch(retried)

    order = [json.loads(m.data)["payload"]["i"] for m in retried]
    cut = order.index(2)
    expected = [run for run in (order[:cut], [2], order[cut + 1 :]) if run]
    assert tally.batches == expected  # the fresh ones together, the poison alone
    assert await tally.read(engine) == (5, 1 + 3 + 4 + 5 + 6)


async def redeliver_after_two_committed(
    nats_client: NatsClient, consumer: Consumer, tally: Tally
) -> None:
    """The five events' 1st and 3rd applied, then the process dies before any ack: the batch
    comes again and is handled (what the handler was given is in `tally.batches`)."""
    first = await fetch_all(nats_client, consumer, 5)
    for msg in (first[0], first[2]):
        await consumer._apply(RecordedEvent.from_json(json.loads(msg.data)))
    for msg in first:
        await msg.nak()
    tally.batches.clear()
    await consumer.handle_batch(await fetch_all(nats_client, consumer, 5))
    await wait_until_acked(nats_client, consumer)


async def test_a_batch_redelivered_after_part_of_it_committed_applies_only_the_rest(
    engine: AsyncEngine, relayed: EventStore, tally: Tally, nats_client: NatsClient,
    namespace: str, service_name: str,
) -> None:  # fmt: skip
    await relayed.append([counted(i) for i in range(1, 6)])
    consumer = make_consumer(engine, tally, nats_client, namespace, service_name, batched=True)
    await redeliver_after_two_committed(nats_client, consumer, tally)

    assert tally.batches == [[2, 4, 5]]
    assert await tally.read(engine) == (5, 15)


async def test_without_markers_a_redelivered_event_reaches_the_handler_again(
    engine: AsyncEngine, relayed: EventStore, tally: Tally, nats_client: NatsClient,
    namespace: str, service_name: str,
) -> None:  # fmt: skip
    # for handlers idempotent by themselves; Tally is not, so the second application shows
    await relayed.append([counted(i) for i in range(1, 6)])
    consumer = make_consumer(
        engine, tally, nats_client, namespace, service_name, batched=True, markers=False
    )
    await redeliver_after_two_committed(nats_client, consumer, tally)

    assert tally.batches == [[1, 2, 3, 4, 5]]
    assert await tally.read(engine) == (7, 15 + 1 + 3)
    processed = log_tables(tally.schema).processed
    async with engine.connect() as conn:
        assert await conn.scalar(sa.select(sa.func.count()).select_from(processed)) == 0


async def test_two_replicas_on_one_durable_apply_nothing_twice(
    engine: AsyncEngine, relayed: EventStore, tally: Tally, nats_client: NatsClient,
    namespace: str, service_name: str, stop: asyncio.Event,
) -> None:  # fmt: skip
    recorded = await relayed.append([counted(i) for i in range(1, 201)])
    # Each event also replayed under another message id: both replicas may hold one at once.
    js = nats_client.jetstream()
    for event in recorded:
        await js.publish(
            events_subject(namespace, service_name, "Counted"),
            json.dumps(event.to_json()).encode(),
            headers={"Nats-Msg-Id": f"replay-{event.event_id}"},
        )
    replicas = [
        make_consumer(engine, tally, nats_client, namespace, service_name, batched=True)
        for _ in range(2)
    ]
    tasks = [asyncio.create_task(replica.run(stop)) for replica in replicas]
    for _ in range(200):
        await asyncio.wait_for(tally.seen.get(), 20)
    await wait_until_acked(nats_client, replicas[0])
    stop.set()
    await asyncio.gather(*tasks)

    assert await tally.read(engine) == (200, sum(range(1, 201)))
    assert tally.seen.empty()


async def test_an_idle_consumer_applies_a_lone_event_as_it_arrives_not_after_its_wait(
    engine: AsyncEngine, relayed: EventStore, tally: Tally, nats_client: NatsClient,
    namespace: str, service_name: str, stop: asyncio.Event,
) -> None:  # fmt: skip
    # A fetch of a whole batch from an empty consumer waits for the batch to fill or its
    # window to close: with a 10-minute window, a lone event would wait 10 minutes.
    consumer = make_consumer(
        engine, tally, nats_client, namespace, service_name, batched=True, idle_wait_s=600
    )
    task = asyncio.create_task(consumer.run(stop))
    await relayed.append([counted(1)])
    await asyncio.wait_for(tally.seen.get(), 30)  # the consumer is idle after this one
    await relayed.append([counted(2)])
    await asyncio.wait_for(tally.seen.get(), 30)
    task.cancel()  # it waits in a 10-minute fetch: stopping would wait that long
    await asyncio.gather(task, return_exceptions=True)

    assert tally.batches == [[1], [2]]


async def test_a_backlog_is_still_applied_in_batches_in_order(
    engine: AsyncEngine, relayed: EventStore, tally: Tally, nats_client: NatsClient,
    namespace: str, service_name: str, stop: asyncio.Event,
) -> None:  # fmt: skip
    await relayed.append([counted(i) for i in range(1, 31)])
    consumer = make_consumer(engine, tally, nats_client, namespace, service_name, batched=True)
    await wait_until_pending(nats_client, consumer, 30)  # the relay has published them all
    task = asyncio.create_task(consumer.run(stop))
    for _ in range(30):
        await asyncio.wait_for(tally.seen.get(), 20)
    stop.set()
    await task

    assert [i for batch in tally.batches for i in batch] == list(range(1, 31))
    assert max(len(batch) for batch in tally.batches) > 1
