"""The current-emissions table: compute's own events projected, one row per source.

Every projection goes through `project`: a batch of events is one statement, each column one
array parameter unnested by PostgreSQL (kernel/unnest.py; not executemany: the driver ran
the upsert once per row, and SQLAlchemy processed every row's parameters), a source's last
event winning.

A row points at its source's last event (`position`) rather than holding the emission
again: the emission is read from the event, joined by its primary key, on the rare paths
that need it (a correction or restatement deciding against the previous emission, the
emission query). Stored twice it cost every recorded activity some 1.2 KB of jsonb parsed,
written and logged by PostgreSQL, the heaviest statement of compute's hot path.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts import compute as c
from kernel import unnest
from kernel.envelope import RecordedEvent
from kernel.events import DomainEvent
from kernel.schema import log_tables
from services.compute.domain import EmissionStatus

COLUMNS = ("source_id", "tenant_id", "activity_kind", "status", "reason", "country", "version",
           "position")  # fmt: skip


async def project(
    conn: AsyncConnection, table: sa.Table, recorded: Iterable[tuple[DomainEvent, RecordedEvent]]
) -> None:
    """Each event onto its source's row, in one upsert: a source's last event wins.

    Each event comes with the payload it was made from: no decoding back what was just built.
    """
    rows: dict[object, dict[str, object]] = {}
    for payload, event in recorded:
        row = emission_row(payload)
        rows[row["source_id"]] = row | {"tenant_id": event.tenant_id,
                                        "version": event.stream_version,
                                        "position": event.global_position}  # fmt: skip
    if rows:
        statement = unnest.insert_statement(table, COLUMNS, update_on="source_id")
        await conn.execute(statement, unnest.arrays_of(table, list(rows.values()), COLUMNS))


def statuses_query(table: sa.Table) -> sa.Select[tuple[object, ...]]:
    """Rows of `table` (to be filtered by source) with, for a calculated emission, the
    emission as its event holds it; `status_of` turns each into an EmissionStatus."""
    events = log_tables(str(table.schema)).events
    event = sa.and_(events.c.global_position == table.c.position, table.c.status == "calculated")
    return sa.select(
        table.c.source_id, table.c.status, table.c.reason, table.c.version,
        events.c.type, events.c.schema_version, events.c.payload["emission"].label("emission"),
    ).select_from(table.outerjoin(events, event))  # fmt: skip


def status_of(row: sa.Row[tuple[object, ...]]) -> EmissionStatus:
    """The status a row of `statuses_query` says."""
    emission = None
    if row.emission is not None:
        # compute's events have no upcasters yet: one of an older version must not pass
        c.EVENTS.type_of(row.type).check(row.type, row.schema_version)
        emission = c.Emission.model_validate(row.emission)
    return EmissionStatus(row.status, emission, row.reason, row.version)


def emission_row(payload: object) -> dict[str, object]:
    """The current-emissions columns an event decoded as `payload` sets (but its place in
    the log)."""
    if isinstance(payload, c.EmissionCalculated | c.EmissionRestated):
        em = payload.emission
        return {
            "source_id": em.source.id,
            "activity_kind": em.activity_kind,
            "status": "calculated",
            "reason": None,
            "country": em.country,
        }
    if isinstance(payload, c.EmissionUnresolved):
        return {
            "source_id": payload.source.id,
            "activity_kind": payload.activity_kind,
            "status": "unresolved",
            "reason": payload.reason,
            "country": payload.country,
        }
    assert isinstance(payload, c.EmissionWithdrawn)
    return {
        "source_id": payload.source.id,
        "status": "withdrawn",
        "reason": None,
        "activity_kind": "",
        "country": "",
    }
