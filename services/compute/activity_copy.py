"""Compute's copy of inventory's activities: rows from activity events, states from rows."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import fields
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts import inventory as inv
from kernel import unnest
from kernel.envelope import RecordedEvent
from services.compute.domain import ActivityState
from services.compute.tables import ComputeTables

# A recording's row sets every column: ActivityState's fields, by the same names.
COPIED = tuple(f.name for f in fields(ActivityState))


def activity_row(event: RecordedEvent) -> dict[str, Any] | None:
    """The columns an activity event sets (all of them for a recording); None for others."""
    payload = inv.EVENTS.decode(event)
    if isinstance(payload, inv.ActivityRecorded):
        row: dict[str, Any] = {
            "activity_id": payload.activity_id,
            "tenant_id": event.tenant_id,
            "kind": payload.kind,
            "quantity": payload.quantity,
            "unit": payload.unit,
            "period_start": payload.period_start,
            "period_end": payload.period_end,
            "site": payload.site,
            "region": payload.region,
            "retracted": False,
            "attributes": payload.attributes,
        }
    elif isinstance(payload, inv.ActivityCorrected):
        row = {
            "activity_id": payload.activity_id,
            "quantity": payload.quantity,
            "unit": payload.unit,
            "period_start": payload.period_start,
            "period_end": payload.period_end,
        }
    elif isinstance(payload, inv.ActivityRetracted):
        row = {"activity_id": payload.activity_id, "retracted": True}
    else:
        return None
    return row | {"event_id": event.event_id, "stream_version": event.stream_version}


async def record_activities(
    conn: AsyncConnection, tables: ComputeTables, recordings: Sequence[RecordedEvent]
) -> list[ActivityState]:
    """Copy many ActivityRecorded events in one insert; their states, in event order.

    A new row's state is made from the row as sent (building states from every column
    read back was a third of the copy's CPU); a redelivered recording inserts nothing and
    its row is read back, as is an activity recorded twice in the batch.
    """
    if not recordings:
        return []
    a, rows = tables.activities, [_recording(event) for event in recordings]
    stmt = unnest.insert_statement(a, COPIED, skip_conflicts=True, returning="activity_id")
    inserted = set((await conn.execute(stmt, unnest.arrays_of(a, rows, COPIED))).scalars())
    times = Counter(row["activity_id"] for row in rows)  # twice in a batch: which one won?
    found = {row["activity_id"]: ActivityState(**row) for row in rows
             if row["activity_id"] in inserted and times[row["activity_id"]] == 1}  # fmt: skip
    missing = [row["activity_id"] for row in rows if row["activity_id"] not in found]
    if missing:
        query = sa.select(a).where(a.c.activity_id.in_(missing))
        found |= {r.activity_id: activity_state(r) for r in await conn.execute(query)}
    return [found[row["activity_id"]] for row in rows]


def _recording(event: RecordedEvent) -> dict[str, Any]:
    row = activity_row(event)
    assert row is not None and "kind" in row, f"{event.type} is not a recording"
    return row


def activity_state(row: sa.Row[Any]) -> ActivityState:
    return ActivityState(
        activity_id=row.activity_id,
        tenant_id=row.tenant_id,
        kind=row.kind,
        quantity=row.quantity,
        unit=row.unit,
        period_start=row.period_start,
        period_end=row.period_end,
        site=row.site,
        region=row.region,
        event_id=row.event_id,
        stream_version=row.stream_version,
        retracted=row.retracted,
        attributes=dict(row.attributes or {}),
    )
