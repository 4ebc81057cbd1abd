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
  same rows. Should compute's stream ever get a retention limit, this rebuild stops being
  complete: reporting would then have to keep its own copy of what it consumed.

The live consumer may keep running: rows are keyed by compute position and inserted
idempotently; the replay reads up to the stream's last sequence as seen after the delete,
so an event the consumer writes meanwhile is either replayed or kept.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.client import JetStreamContext
from nats.js.errors import NotFoundError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from kernel.envelope import RecordedEvent
from kernel.naming import events_stream, events_subject
from kernel.projection import rebuild as rebuild_from_log
from kernel.store import EventStore
from services.reporting.projections import EmissionVersions, reset_watermark
from services.reporting.reports import Reports
from services.reporting.tables import reporting_tables

FETCH = 500


@dataclass(frozen=True)
class Rebuilt:
    """How many events each projection was replayed from."""

    compute_events: int
    report_events: int


async def rebuild(
    engine: AsyncEngine, js: JetStreamContext, namespace: str, schema: str
) -> Rebuilt:
    """Rebuild every projection of reporting (in `schema`) from its source of truth."""
    tables = reporting_tables(schema)
    versions = EmissionVersions(tables)
    async with engine.begin() as conn:
        await conn.execute(tables.parts.delete())
        await conn.execute(tables.versions.delete())
        await conn.execute(reset_watermark(tables))
        replayed = await _replay_stream(js, namespace, versions, conn)
    reports = await rebuild_from_log(EventStore(engine, schema), [Reports(tables)])
    return Rebuilt(replayed, reports)


async def _replay_stream(
    js: JetStreamContext, namespace: str, versions: EmissionVersions, conn: AsyncConnection
) -> int:
    stream = events_stream(namespace, "compute")
    try:
        last = (await js.stream_info(stream)).state.last_seq
    except NotFoundError:  # compute never published: nothing to replay
        return 0
    if last == 0:
        return 0
    config = ConsumerConfig(
        ack_policy=AckPolicy.NONE, deliver_policy=DeliverPolicy.ALL, inactive_threshold=60.0
    )
    sub = await js.pull_subscribe(
        events_subject(namespace, "compute"), stream=stream, config=config
    )
    replayed, seen = 0, 0
    try:
        while seen < last:
            for msg in await _fetch(sub):
                seen = msg.metadata.sequence.stream
                if seen > last:
                    break
                await versions.apply(RecordedEvent.from_json(json.loads(msg.data)), conn)
                replayed += 1
    finally:
        await sub.unsubscribe()
    return replayed


async def _from_the_start(
    js: JetStreamContext, namespace: str, stream: str
) -> JetStreamContext.PullSubscription:
    """An ephemeral consumer of the whole stream (removed by the server once idle)."""
    config = ConsumerConfig(
        ack_policy=AckPolicy.NONE, deliver_policy=DeliverPolicy.ALL, inactive_threshold=60.0
    )
    subject = events_subject(namespace, "compute")
    return await js.pull_subscribe(subject, stream=stream, config=config)


async def _fetch(sub: JetStreamContext.PullSubscription) -> list[Msg]:
    try:
        return await sub.fetch(FETCH, timeout=5.0)
    except (NatsTimeout, TimeoutError) as error:
        raise RuntimeError("compute's stream stopped answering during the replay") from error
