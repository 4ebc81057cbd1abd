"""Projection of compute's events into emission versions (idempotent: keyed on position)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts import compute as c
from kernel.envelope import RecordedEvent
from services.reporting.tables import ReportingTables


class EmissionVersions:
    """Turns each compute event into one row; the latest row per source is its state."""

    def __init__(self, tables: ReportingTables) -> None:
        self.t = tables
        self.tables: Sequence[sa.Table] = (tables.versions,)

    async def apply(self, event: RecordedEvent, conn: AsyncConnection) -> dict[str, Any] | None:
        """Insert the event's version; return the row (None when it was already there)."""
        payload = c.EVENTS.decode(event)
        row = {**_describe(payload, await self._last(conn, event, payload)), **_envelope(event)}
        stmt = insert(self.t.versions).values(**row).on_conflict_do_nothing()
        done = await conn.execute(stmt.returning(self.t.versions.c.compute_position))
        return row if done.first() is not None else None

    async def _last(self, conn: AsyncConnection, event: RecordedEvent, payload: Any) -> Any:
        if not isinstance(payload, c.EmissionWithdrawn):
            return None
        v = self.t.versions
        query = (
            sa.select(v)
            .where(v.c.tenant_id == event.tenant_id, v.c.source_id == payload.source.id)
            .order_by(v.c.compute_position.desc())
            .limit(1)
        )
        return (await conn.execute(query)).first()


def _envelope(event: RecordedEvent) -> dict[str, Any]:
    return {
        "compute_position": event.global_position,
        "compute_event_id": event.event_id,
        "event_type": event.type,
        "recorded_at": event.recorded_at,
        "tenant_id": event.tenant_id,
    }


def _describe(payload: Any, last: Any) -> dict[str, Any]:
    if isinstance(payload, c.EmissionCalculated | c.EmissionRestated):
        return _calculated(payload.emission, payload.cause)
    if isinstance(payload, c.EmissionUnresolved):
        return {
            **_source(payload.source),
            "status": "unresolved",
            "activity_kind": payload.activity_kind,
            "post": "",
            "site": payload.site,
            "country": payload.country,
            "period_start": payload.period_start,
            "period_end": payload.period_end,
            "lines": [],
            "reason": payload.reason,
            "cause": payload.cause.kind,
            **_no_total(),
        }
    assert isinstance(payload, c.EmissionWithdrawn)
    kept = (
        {
            k: getattr(last, k)
            for k in ("activity_kind", "post", "site", "country", "period_start", "period_end")
        }
        if last
        else {}
    )
    return {
        **_source(payload.source),
        "status": "withdrawn",
        "lines": [],
        "reason": None,
        "cause": payload.cause.kind,
        **_no_total(),
        **_placeholder(),
        **kept,
    }


def _calculated(emission: c.Emission, cause: c.Cause) -> dict[str, Any]:
    return {
        **_source(emission.source),
        "status": "calculated",
        "activity_kind": emission.activity_kind,
        "post": emission.post,
        "site": emission.site,
        "country": emission.country,
        "period_start": emission.period_start,
        "period_end": emission.period_end,
        "total_value": emission.total.value,
        "total_min": emission.total.min,
        "total_max": emission.total.max,
        "reason": None,
        "cause": cause.kind,
        "lines": [line.model_dump(mode="json") for line in emission.lines],
    }


def _source(source: c.Source) -> dict[str, Any]:
    return {
        "source_id": source.id,
        "source_kind": source.kind,
        "source_event_id": source.event_id,
        "sha256": source.sha256,
    }


def _no_total() -> dict[str, Any]:
    return {"total_value": None, "total_min": None, "total_max": None}


def _placeholder() -> dict[str, Any]:
    return {
        "activity_kind": "",
        "post": "",
        "site": "",
        "country": "",
        "period_start": date.min,
        "period_end": date.min,
    }
