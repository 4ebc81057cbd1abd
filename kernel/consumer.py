"""The consumer: a durable JetStream pull consumer that applies each event exactly once.

A fetched batch is applied in one transaction: the "processed" markers of all its events in
one statement, the handler for the fresh ones, one COMMIT; then every message is acked. A
redelivery finds the marker and changes nothing. One COMMIT (one fsync) per batch instead of
per event is most of the consumer's throughput under a backlog.

If anything in the batch fails, the transaction rolls back whole and the batch's messages are
applied one per transaction, so a failure stays the failing message's own: it is retried
with backoff and, after `max_attempts`, goes to the dead-letter stream with the error text,
while the others are applied once. An outage never dead-letters.

A handler that already changes nothing for an event it applied before (a projection keyed
on the event's position, like reporting's) may go without markers (`markers=False`): it is
handed every event delivered, redeliveries included. A marker per event, kept forever, would
only repeat what its own rows say, at the cost of a row written and logged per event.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError, NotFoundError
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncEngine

from kernel import wire
from kernel.aio import wait_for_stop
from kernel.batching import (
    AfterCommit,
    Batched,
    Handler,
    Suspects,
    batch_handler,
    fresh_events,
    mark_processed,
)
from kernel.envelope import RecordedEvent
from kernel.metrics import CONSUMED, CONSUMER_LAG, DEAD_LETTERED, REDELIVERED
from kernel.naming import dead_letter_stream, dead_letter_subject
from kernel.pulling import Pulls
from kernel.schema import log_tables
from kernel.upcasting import Upcasters

log = logging.getLogger(__name__)

__all__ = ["AfterCommit", "Batched", "Consumer", "Handler", "Subscription", "is_outage"]


@dataclass(frozen=True)
class Subscription:
    """What a consumer reads: a stream, the subjects in it, and its durable name."""

    durable: str
    stream: str
    subjects: Sequence[str]


class Consumer:
    """Runs `handler` for every event on `subscription`, writing into `schema`.

    `handler` is per event, or `Batched` to be given each transaction's fresh events at once;
    with `markers=False`, the handler is given every event delivered and must itself make a
    redelivered one change nothing (see the module's docstring).
    """

    def __init__(
        self,
        engine: AsyncEngine,
        schema: str,
        nc: NatsClient,
        subscription: Subscription,
        handler: Handler | Batched,
        *,
        namespace: str,
        upcasters: Upcasters | None = None,
        max_attempts: int = 5,
        backoff_s: Sequence[float] = (0.1, 0.5, 2.0, 5.0),
        batch: int = 100,
        idle_wait_s: float = 1.0,
        one_per_transaction: bool = False,  # only to measure what batching saves (bench/)
        markers: bool = True,
    ) -> None:
        # pull requests go out on the client itself (kernel/pulling.py)
        self.engine, self.nc, self.js = engine, nc, nc.jetstream()
        self.processed = log_tables(schema).processed
        self.subscription, self.apply_events = subscription, batch_handler(handler)
        self.namespace, self.upcasters = namespace, upcasters or Upcasters()
        self.max_attempts, self.backoff_s, self.batch = max_attempts, backoff_s, batch
        self.together = not one_per_transaction
        self.idle_wait_s, self.markers = idle_wait_s, markers
        self.suspects = Suspects()

    async def run(self, stop: asyncio.Event) -> None:
        """Fetch and handle messages until `stop` is set; survive outages by retrying."""
        while not stop.is_set():
            try:
                await self._run(stop)
            except NotFoundError:  # the producer's relay has not created its stream yet
                log.info(
                    "consumer %s waits for stream %s",
                    self.subscription.durable,
                    self.subscription.stream,
                )
                await wait_for_stop(stop, 1.0)
            except Exception:
                log.exception("consumer %s failed; retrying", self.subscription.durable)
                await wait_for_stop(stop, 1.0)

    async def _run(self, stop: asyncio.Event) -> None:
        await self._ensure_dead_letter_stream()
        durable = await self._ensure_consumer()
        async with Pulls(self.nc, self.subscription.stream, durable, self.batch) as pulls:
            while not stop.is_set():
                # No latency cost in waiting for a whole batch: a pull takes what is there
                # and returns as soon as any message is (test_consumer_batches.py).
                messages = await pulls.fetch(self.idle_wait_s)
                if not messages:
                    continue
                await self.handle_batch(messages)
                pending = messages[-1].metadata.num_pending
                CONSUMER_LAG.labels(self.subscription.durable).set(pending)

    async def _ensure_consumer(self) -> str:
        s = self.subscription
        config = ConsumerConfig(
            durable_name=s.durable,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            filter_subjects=list(s.subjects),
            ack_wait=30.0,
            max_deliver=-1,  # we count attempts ourselves and dead-letter explicitly
            max_ack_pending=10_000,
        )
        await self.js.add_consumer(s.stream, config)
        return s.durable

    async def _ensure_dead_letter_stream(self) -> None:
        config = StreamConfig(
            name=dead_letter_stream(self.namespace),
            subjects=[dead_letter_subject(self.namespace, ">")],
            storage=StorageType.FILE,
        )
        try:
            await self.js.add_stream(config)
        except BadRequestError:
            await self.js.update_stream(config)

    async def handle_batch(self, messages: Sequence[Msg]) -> None:
        """Apply `messages` in one transaction or, if that fails, one message at a time.

        A message that failed on its own before is applied on its own, and the runs of
        messages around it together: a poison message retried with fresh ones would
        otherwise roll their whole batch back at each of its attempts."""
        runs = self.suspects.runs(messages) if self.together else ([m] for m in messages)
        for run in runs:
            if len(run) > 1 and await self._applied_together(run):
                continue
            for msg in run:
                await self.handle(msg)

    async def _applied_together(self, messages: Sequence[Msg]) -> bool:
        try:
            after = await self._apply_all([_decode(m, self.upcasters) for m in messages])
        except Exception as error:  # rolled back whole: let each message answer for itself
            log.warning("batch of %s failed, applying one by one: %r", len(messages), error)
            return False
        for msg in messages:
            if delivery_count(msg) > 1:
                REDELIVERED.labels(self.subscription.durable).inc()
            await msg.ack()
        CONSUMED.labels(self.subscription.durable).inc(len(messages))
        await _after_commit(after, self.subscription.durable)
        return True

    async def handle(self, msg: Msg) -> None:
        """Apply one message exactly once, or schedule its retry, or dead-letter it."""
        attempt = msg.metadata.num_delivered
        if attempt > 1:
            REDELIVERED.labels(self.subscription.durable).inc()
        try:
            await self._apply(_decode(msg, self.upcasters))
        except Exception as error:  # the handler's failure is data here: retry or dead-letter
            await self._failed(msg, attempt, error)
            return
        self.suspects.cleared(msg)
        await msg.ack()
        CONSUMED.labels(self.subscription.durable).inc()

    async def _apply(self, event: RecordedEvent) -> None:
        after = await self._apply_all([event])
        await _after_commit(after, self.subscription.durable)

    async def _apply_all(self, events: Sequence[RecordedEvent]) -> AfterCommit | None:
        """Markers (unless none are kept), then the handler for the fresh events, committed
        together."""
        async with self.engine.begin() as conn:
            if self.markers:
                new = await mark_processed(conn, self.processed, self.subscription.durable, events)
                events = fresh_events(events, new)
            return await self.apply_events(events, conn) if events else None

    async def _failed(self, msg: Msg, attempt: int, error: Exception) -> None:
        if is_outage(error):
            # The database (or a network) is down: no fault of this message. Wait, never
            # dead-letter it, however long the outage lasts.
            log.warning("outage while handling (attempt %s), retry later: %r", attempt, error)
            await msg.nak(delay=self.backoff_s[-1])
            return
        if attempt < self.max_attempts:
            self.suspects.failed(msg)
            delay = self.backoff_s[min(attempt - 1, len(self.backoff_s) - 1)]
            log.warning("handler failed (attempt %s), retry in %ss: %r", attempt, delay, error)
            await msg.nak(delay=delay)
            return
        log.error("handler failed %s times, dead-lettering: %r", attempt, error)
        await self.js.publish(
            dead_letter_subject(self.namespace, self.subscription.durable),
            msg.data,
            headers={
                "Empreinte-Error": f"{type(error).__name__}: {error}"[:4000],
                "Empreinte-Subject": msg.subject,
                "Empreinte-Attempts": str(attempt),
            },
        )
        await msg.term()
        self.suspects.cleared(msg)
        DEAD_LETTERED.labels(self.subscription.durable).inc()


_OUTAGES: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.InterfaceError,
)


def is_outage(error: BaseException) -> bool:
    """Whether `error`, or what caused it, is infrastructure being away (not the message)."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, _OUTAGES):
            return True
        if isinstance(seen, sa_exc.DBAPIError) and seen.connection_invalidated:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


async def _after_commit(after: AfterCommit | None, durable: str) -> None:
    if after is None:
        return
    try:
        await after()
    except Exception:  # the writes are committed: report, do not redeliver
        log.exception("after-commit step of %s failed", durable)


def delivery_count(msg: Msg) -> int:
    """`msg.metadata.num_delivered`, read from its reply subject alone: nats-py builds the
    whole metadata (sequences, timestamp, names), 4% of reporting's CPU, for this one count."""
    tokens = _ack_tokens(msg)
    return int(tokens[4] if len(tokens) == 9 else tokens[6])


def stream_sequence(msg: Msg) -> int:
    """`msg.metadata.sequence.stream`, read from its reply subject alone (see delivery_count)."""
    tokens = _ack_tokens(msg)
    return int(tokens[5] if len(tokens) == 9 else tokens[7])


def _ack_tokens(msg: Msg) -> list[str]:
    # $JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<time>.<pending>,
    # or with <domain>.<account hash> after ACK (and a token more at the end)
    return msg.reply.split(".")


def _decode(msg: Msg, upcasters: Upcasters) -> RecordedEvent:
    event = RecordedEvent.from_json(wire.decode(msg.data))
    version, payload = upcasters.upcast(event.type, event.schema_version, event.payload)
    if version == event.schema_version:
        return event
    fields = {name: getattr(event, name) for name in RecordedEvent.__slots__}
    return RecordedEvent(**{**fields, "schema_version": version, "payload": payload})
