"""Pulling a durable consumer by hand answers as nats-py's fetch did: what is there at once,
up to a batch; else the first message to come within the wait; else nothing."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import pytest
from nats.aio.client import Client as NatsClient
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from kernel.pulling import Pulls


@pytest.fixture
async def stream(nats_client: NatsClient) -> AsyncIterator[str]:
    name = f"PULLS{secrets.token_hex(4).upper()}"
    js = nats_client.jetstream()
    await js.add_stream(name=name, subjects=[f"{name.lower()}.>"])
    await js.add_consumer(name, ConsumerConfig(durable_name="d", ack_policy=AckPolicy.EXPLICIT,
                                               deliver_policy=DeliverPolicy.ALL))  # fmt: skip
    yield name
    await js.delete_stream(name)


async def _publish(nats_client: NatsClient, stream: str, count: int) -> None:
    js = nats_client.jetstream()
    for n in range(count):
        await js.publish(f"{stream.lower()}.e", str(n).encode())


async def test_a_pull_takes_what_is_there_up_to_a_batch(
    nats_client: NatsClient, stream: str
) -> None:
    await _publish(nats_client, stream, 7)
    async with Pulls(nats_client, stream, "d", 5) as pulls:
        first, second = await pulls.fetch(5.0), await pulls.fetch(5.0)
        for msg in first + second:
            await msg.ack()
        nothing = await pulls.fetch(0.2)  # the wait is the request's expiry: none comes

    assert [m.data for m in first] == [b"0", b"1", b"2", b"3", b"4"]
    assert [m.data for m in second] == [b"5", b"6"]
    assert nothing == []


async def test_a_pull_with_nothing_there_returns_the_first_message_to_come(
    nats_client: NatsClient, stream: str
) -> None:
    async with Pulls(nats_client, stream, "d", 5) as pulls:
        waiting = asyncio.create_task(pulls.fetch(30.0))
        await _publish(nats_client, stream, 1)
        found = await asyncio.wait_for(waiting, 10)  # long before the 30 s expiry

    assert [m.data for m in found] == [b"0"]
    assert found[0].metadata.num_delivered == 1
