"""Reading a whole JetStream stream in batches, for the rebuild: an ephemeral pull consumer
whose batches are requested by hand (JetStream's "next messages" request) and collected by a
subscription callback.

The client's own `fetch` waits for each message of a batch with a timer and a task of its
own, which cost the replay more than decoding the event did; here a message only lands in
the batch's list, and the batch is done when it holds what was asked for (or the server
says there is no more). The next batch is asked for as soon as the caller takes one, so it
travels while the caller writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json

from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js.api import DEFAULT_PREFIX, AckPolicy, ConsumerConfig, DeliverPolicy, Header
from nats.js.errors import NotFoundError

from kernel.consumer import stream_sequence

WAIT = 5.0  # seconds a batch may take before the stream counts as not answering


class StreamBatches:
    """The messages of `stream` (on `subject`) from sequence 1 up to `last`, batch by batch."""

    def __init__(self, nc: NatsClient, stream: str, subject: str, last: int, size: int) -> None:
        self.nc, self.stream, self.subject, self.last, self.size = nc, stream, subject, last, size
        self.consumer = ""
        self.sub: Subscription | None = None
        self.batch: list[Msg] = []
        self.finished = False
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def __aenter__(self) -> StreamBatches:
        config = ConsumerConfig(
            ack_policy=AckPolicy.NONE,
            deliver_policy=DeliverPolicy.ALL,
            # Removed by the server once idle this long, should we not remove it ourselves: a
            # batch asked for early sits there while the one before is written, which takes
            # the per-event path a minute or more (5,000 events at 100/s).
            inactive_threshold=900.0,
            filter_subject=self.subject,
        )
        self.consumer = str((await self.nc.jetstream().add_consumer(self.stream, config)).name)
        self.sub = await self.nc.subscribe(self.nc.new_inbox(), cb=self._received)
        await self._ask()
        return self

    async def __aexit__(self, *_: object) -> None:
        if self.sub is not None:
            await self.sub.unsubscribe()
        with contextlib.suppress(NotFoundError):
            await self.nc.jetstream().delete_consumer(self.stream, self.consumer)

    async def next(self) -> list[Msg]:
        """The next batch (the last one ends at `last`); [] once the stream is read."""
        if self.finished:
            return []
        try:
            await asyncio.wait_for(self.done, WAIT)
        except TimeoutError as error:
            raise RuntimeError("compute's stream stopped answering during the replay") from error
        batch, self.batch = self.batch, []
        if not batch:
            raise RuntimeError("compute's stream ended before its last sequence")
        if stream_sequence(batch[-1]) < self.last:
            self.done = asyncio.get_running_loop().create_future()
            await self._ask()
            return batch
        self.finished = True
        return [m for m in batch if stream_sequence(m) <= self.last]

    async def _ask(self) -> None:
        assert self.sub is not None
        subject = f"{DEFAULT_PREFIX}.CONSUMER.MSG.NEXT.{self.stream}.{self.consumer}"
        request = json.dumps({"batch": self.size, "no_wait": True}).encode()
        await self.nc.publish(subject, request, reply=self.sub.subject)

    async def _received(self, msg: Msg) -> None:
        # A status (no data, a Status header) ends a batch short: no more messages for now.
        if not msg.data and msg.headers and Header.STATUS in msg.headers:
            self._complete()
            return
        self.batch.append(msg)
        if len(self.batch) == self.size:
            self._complete()

    def _complete(self) -> None:
        if not self.done.done():
            self.done.set_result(None)
