"""The current-emissions table: compute's own events projected, one row per source.

Every projection goes through `project`: a batch of events is one statement, each column one
array parameter unnested by PostgreSQL (kernel/unnest.py; not executemany: the driver ran
the upsert once per row, and SQLAlchemy processed every row's parameters), a source's last
event winning.

A row points at its source's last event (`position`) rather than holding the emission
again: the emission is read from that event, by its position, on the rare paths that need
it (a correction or restatement deciding against the previous emission, the emission
query). Stored twice it cost every recorded activity some 1.2 KB of jsonb parsed, written
and logged by PostgreSQL, the heaviest statement of compute's hot path.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts import compute as c
from kernel import unnest
from kernel.db import CUSTOM_PLANS
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


async def read_statuses(
    conn: AsyncConnection, table: sa.Table, source_ids: Iterable[UUID]
) -> dict[UUID, EmissionStatus]:
    """The status of each of `source_ids` that has an emission stream, a calculated one with
    its emission as its event holds it."""
    # Planned each time, as the rest of the transaction (CUSTOM_PLANS): a generic plan made
    # while the table was small scanned all of it for each batch, 21-29 ms per batch of 500
    # and growing with the table (pg_stat_statements, a 500/s stage before a 2,000/s one),
    # where this is index lookups. The emissions come in a second read, by position, only
    # when some are calculated: new activities, the usual batch, need none.
    await conn.execute(CUSTOM_PLANS)
    wanted = sa.bindparam("ids", list(source_ids), type_=ARRAY(table.c.source_id.type))
    query = sa.select(table.c.source_id, table.c.status, table.c.reason, table.c.version,
                      table.c.position).where(table.c.source_id == sa.any_(wanted))  # fmt: skip
    rows = list(await conn.execute(query))
    calculated = [row.position for row in rows if row.status == "calculated"]
    emissions = await _emissions_at(conn, str(table.schema), calculated) if calculated else {}
    return {
        row.source_id: EmissionStatus(row.status, emissions.get(row.position), row.reason,
                                      row.version)
        for row in rows
    }  # fmt: skip


async def _emissions_at(
    conn: AsyncConnection, schema: str, positions: list[int]
) -> dict[int, c.Emission]:
    events = log_tables(schema).events
    wanted = sa.bindparam("positions", positions, type_=ARRAY(events.c.global_position.type))
    query = sa.select(
        events.c.global_position, events.c.type, events.c.schema_version,
        events.c.payload["emission"].label("emission"),
    ).where(events.c.global_position == sa.any_(wanted))  # fmt: skip
    found = {}
    for row in await conn.execute(query):
        # compute's events have no upcasters yet: one of an older version must not pass
        c.EVENTS.type_of(row.type).check(row.type, row.schema_version)
        found[row.global_position] = c.Emission.model_validate(row.emission)
    return found


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
