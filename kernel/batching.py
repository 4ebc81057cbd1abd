"""What a consumer applies in one transaction: the fresh events of a fetched batch.

A consumer's handler is either per event (`Handler`, run for each fresh event in order, all
in the batch's one transaction) or batch-aware (`Batched`, given the fresh events at once,
so it can read and write for all of them in a few statements). Either may return a step to
run once the writes are committed.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import UUID

import sqlalchemy as sa
from nats.aio.msg import Msg
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from kernel.envelope import RecordedEvent

log = logging.getLogger(__name__)

AfterCommit = Callable[[], Awaitable[None]]
# A handler may return what to do once its writes are committed (e.g. notify listeners, who
# must not hear of a change before they can read it); None when there is nothing to do.
Handler = Callable[[RecordedEvent, AsyncConnection], Awaitable[AfterCommit | None]]
BatchHandler = Callable[[Sequence[RecordedEvent], AsyncConnection], Awaitable[AfterCommit | None]]


@dataclass(frozen=True)
class Batched:
    """A handler given all the fresh events of one transaction, in delivery order."""

    handle: BatchHandler


def batch_handler(handler: Handler | Batched) -> BatchHandler:
    """`handler` as a batch handler: a per-event one runs for each event, in order."""
    if isinstance(handler, Batched):
        return handler.handle

    async def each(events: Sequence[RecordedEvent], conn: AsyncConnection) -> AfterCommit | None:
        steps = [step for event in events if (step := await handler(event, conn)) is not None]
        return in_order(steps) if steps else None

    return each


def in_order(steps: Sequence[AfterCommit]) -> AfterCommit:
    """One after-commit step running `steps` in order; one failing does not stop the rest."""

    async def run() -> None:
        for step in steps:
            try:
                await step()
            except Exception:  # the writes are committed: report, do not redeliver
                log.exception("after-commit step failed")

    return run


def fresh_events(events: Sequence[RecordedEvent], fresh_ids: set[UUID]) -> list[RecordedEvent]:
    """The events whose marker was new, in order; an event delivered twice counts once."""
    left, fresh = set(fresh_ids), []
    for event in events:
        if event.event_id in left:
            left.discard(event.event_id)
            fresh.append(event)
    return fresh


async def mark_processed(
    conn: AsyncConnection, processed: sa.Table, consumer: str, events: Sequence[RecordedEvent]
) -> set[UUID]:
    """Insert the "processed" markers of `events` in one statement; the ids that were new.

    Ids go in sorted: two replicas marking overlapping batches lock them in one order, so
    they wait for each other instead of deadlocking.
    """
    ids = sorted({event.event_id for event in events})
    rows = sa.select(
        sa.literal(consumer, sa.Text),
        sa.func.unnest(sa.bindparam("ids", ids, type_=ARRAY(processed.c.event_id.type))),
        sa.literal(datetime.now(UTC), sa.DateTime(timezone=True)),
    )
    marker = insert(processed).from_select(["consumer", "event_id", "processed_at"], rows)
    found = await conn.execute(marker.on_conflict_do_nothing().returning(processed.c.event_id))
    return set(found.scalars())


SUSPECTS_KEPT = 1024  # a bound: a flood of failures cannot grow memory


@dataclass
class Suspects:
    """Messages whose handling failed on its own, until they succeed or are dead-lettered."""

    sequences: OrderedDict[int, None] = field(default_factory=OrderedDict)

    def failed(self, msg: Msg) -> None:
        self.sequences[msg.metadata.sequence.stream] = None
        if len(self.sequences) > SUSPECTS_KEPT:
            self.sequences.popitem(last=False)  # the oldest: at worst, one more batch fails

    def cleared(self, msg: Msg) -> None:
        self.sequences.pop(msg.metadata.sequence.stream, None)

    def runs(self, messages: Sequence[Msg]) -> Iterator[Sequence[Msg]]:
        """`messages` in order, cut so that each suspect is a run of its own."""
        if not self.sequences:  # the usual case: no need to parse each message's metadata
            yield messages
            return
        start = 0
        for i, msg in enumerate(messages):
            if msg.metadata.sequence.stream in self.sequences:
                if i > start:
                    yield messages[start:i]
                yield messages[i : i + 1]
                start = i + 1
        if start < len(messages):
            yield messages[start:]
