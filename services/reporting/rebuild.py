"""Dropping reporting's projections and replaying them from their sources of truth.

* `reports` is built from reporting's own event log (ReportGenerated): the kernel's
  `projection.rebuild` replays that table.
* `emission_versions`, and `emission_parts` written with them, are built from compute's
  events, and compute's event table is compute's own (no service reads another's tables).
  Their source of truth on reporting's side is the JetStream stream those events arrive on
  (`<NS>_COMPUTE`): the relay publishes every event in position order, deduplicated by
  event id, and the stream keeps everything (no age or size limit). So the rebuild replays
  that stream from sequence 1, through an ephemeral consumer, into the emptied tables, in
  one transaction, with the projection the live consumer uses: same events, same order,
  same rows. The replay takes the bulk path (bulk.py: a batch's rows built in memory from
  the events' JSON, copied in together, the watermark moved once per batch, while the next
  batch is fetched and decoded); `bulk=False` keeps the per-event path of the live
  consumer, for comparison (bench/rebuild.py). Should compute's stream ever get
  a retention limit, this rebuild stops being complete: reporting would then have to keep
  its own copy of what it consumed.

The tables are emptied with DELETE, not swapped for tables built aside and renamed in
(the bulk-load way: indexes built once, no dead rows): a REPEATABLE READ reader whose
snapshot predates the commit, as footprints now are read (now.py), would find a swapped-in
table empty, its rows being newer than the snapshot, where a DELETE leaves it the old rows
(tests/integration/reporting/test_rebuild.py checks it).
Measured on 50,000 events, the swap would also have saved little: copying versions and
parts into bare tables and indexing them after took 1.29 s against 1.39 s into indexed
ones (and the COPYs overlap the decoding, index builds would not); for current_figures,
1.33 s against 1.79 s.

The live consumer may keep running: the rebuild first locks the watermark table against it
(the consumer locks its row before writing anything), so a consumer transaction either
committed before the delete, or waits for the rebuild to commit and then finds its row
there (ON CONFLICT DO NOTHING); the replay reads up to the stream's last sequence as seen
after the lock, so no event is missed either way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import sqlalchemy as sa
from nats.aio.client import Client as NatsClient
from nats.js.errors import NotFoundError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from kernel import wire
from kernel.envelope import RecordedEvent
from kernel.naming import events_stream, events_subject
from kernel.projection import rebuild as rebuild_from_log
from kernel.store import EventStore
from services.reporting.bulk import BulkReplay
from services.reporting.projections import EmissionVersions
from services.reporting.pull import StreamBatches
from services.reporting.reports import Reports
from services.reporting.tables import ReportingTables, reporting_tables
from services.reporting.watermark import reset_watermark

FETCH = 5000


class Replay(Protocol):
    """Writes the fetched batches of published events in the rebuild's transaction."""

    async def write(self, messages: Sequence[bytes], conn: AsyncConnection) -> int: ...

    async def finish(self, conn: AsyncConnection) -> None: ...

    async def abandon(self) -> None: ...


# Told (events replayed so far, events to replay) after each batch of the replay.
Progress = Callable[[int, int], None]


def _untold(replayed: int, total: int) -> None:
    return None


@dataclass(frozen=True)
class Rebuilt:
    """How many events each projection was replayed from."""

    compute_events: int
    report_events: int


async def rebuild(
    engine: AsyncEngine,
    nc: NatsClient,
    namespace: str,
    schema: str,
    *,
    bulk: bool = True,
    batch: int = FETCH,
    progress: Progress = _untold,
) -> Rebuilt:
    """Rebuild every projection of reporting (in `schema`) from its source of truth,
    `batch` events at a time; `progress(replayed, total)` after each batch of compute's."""
    tables = reporting_tables(schema)
    replay = BulkReplay(tables) if bulk else OneByOne(EmissionVersions(tables))
    async with engine.begin() as conn:
        await _empty(conn, tables)
        replayed = await _replay_stream(nc, namespace, replay, conn, batch, progress)
    reports = await rebuild_from_log(EventStore(engine, schema), [Reports(tables)])
    return Rebuilt(replayed, reports)


async def _empty(conn: AsyncConnection, tables: ReportingTables) -> None:
    # EXCLUSIVE conflicts with the live consumer's SELECT ... FOR UPDATE, not with readers
    watermark = f'"{tables.watermark.schema}".{tables.watermark.name}'
    await conn.execute(sa.text(f"LOCK TABLE {watermark} IN EXCLUSIVE MODE"))
    for table in (*tables.current.tables, tables.parts, tables.versions):
        await conn.execute(table.delete())
    await conn.execute(reset_watermark(tables))


class OneByOne:
    """The live consumer's path, event by event (the bench's comparison)."""

    def __init__(self, versions: EmissionVersions) -> None:
        self.versions = versions

    async def write(self, messages: Sequence[bytes], conn: AsyncConnection) -> int:
        events = [RecordedEvent.from_json(wire.decode(m)) for m in messages]
        return sum([await self.versions.apply(event, conn) is not None for event in events])

    async def finish(self, conn: AsyncConnection) -> None:
        return None

    async def abandon(self) -> None:
        return None


async def _replay_stream(
    nc: NatsClient,
    namespace: str,
    replay: Replay,
    conn: AsyncConnection,
    size: int,
    progress: Progress,
) -> int:
    stream = events_stream(namespace, "compute")
    try:
        last = (await nc.jetstream().stream_info(stream)).state.last_seq
    except NotFoundError:  # compute never published: nothing to replay
        return 0
    if last == 0:
        return 0
    replayed = 0
    try:
        subject = events_subject(namespace, "compute")
        async with StreamBatches(nc, stream, subject, last, size) as batches:
            while fetched := await batches.next():
                replayed += len(fetched)
                await replay.write([m.data for m in fetched], conn)
                progress(replayed, last)
        await replay.finish(conn)
        return replayed
    finally:
        await replay.abandon()
