"""Projection of compute's events into emission versions and their parts (idempotent:
keyed on position)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts import compute as c
from kernel.envelope import RecordedEvent
from services.reporting.parts import parts_of
from services.reporting.tables import ReportingTables


class EmissionVersions:
    """Turns each compute event into one row, and a calculated emission's lines into their
    parts by device and country; the latest row per source is its state."""

    def __init__(self, tables: ReportingTables) -> None:
        self.t = tables
        self.tables: Sequence[sa.Table] = (tables.versions, tables.parts)

    async def apply(self, event: RecordedEvent, conn: AsyncConnection) -> dict[str, Any] | None:
        """Insert the event's version and move the watermark; return the row (None when it
        was already there). The watermark row is locked first, so concurrent appliers take
        turns and none can leave it behind a row another one just committed."""
        schema = self.t.versions.schema
        await conn.execute(sa.text(f'SELECT 1 FROM "{schema}".compute_watermark FOR UPDATE'))
        payload = c.EVENTS.decode(event)
        row = {**_describe(payload, await self._last(conn, event, payload)), **_envelope(event)}
        stmt = insert(self.t.versions).values(**row).on_conflict_do_nothing()
        done = await conn.execute(stmt.returning(self.t.versions.c.compute_position))
        if done.first() is None:
            return None
        await self._parts(conn, event.global_position, payload)
        await conn.execute(_advance(schema))
        return row

    async def _parts(self, conn: AsyncConnection, position: int, payload: Any) -> None:
        if not isinstance(payload, c.EmissionCalculated | c.EmissionRestated):
            return  # withdrawn and unresolved versions have no lines, hence no parts
        rows = [
            {
                "compute_position": position,
                "dimension": part.dimension,
                "line": part.line,
                "member": part.member,
                "value": part.kg.value,
                "min": part.kg.min,
                "max": part.kg.max,
            }
            for part in parts_of(payload.emission)
        ]
        if rows:
            await conn.execute(insert(self.t.parts), rows)

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


def _run_end(schema: str | None, start: str) -> str:
    """SQL: the last position of the contiguous run of versions from `start` + 1 on."""
    versions = f'"{schema}".emission_versions'
    return (
        f"SELECT v.compute_position FROM {versions} AS v WHERE v.compute_position > {start} "
        f"AND NOT EXISTS (SELECT 1 FROM {versions} AS w "
        "WHERE w.compute_position = v.compute_position + 1) ORDER BY v.compute_position LIMIT 1"
    )


def _advance(schema: str | None) -> sa.TextClause:
    run_end = _run_end(schema, "wm.position")
    return sa.text(
        f'UPDATE "{schema}".compute_watermark AS wm SET position = ({run_end}) '
        f'WHERE EXISTS (SELECT 1 FROM "{schema}".emission_versions AS x '
        "WHERE x.compute_position = wm.position + 1)"
    )


def reset_watermark(tables: ReportingTables) -> sa.TextClause:
    """SQL setting the watermark from the versions as they are (0 when position 1 is absent)."""
    schema = tables.versions.schema
    first = f'EXISTS (SELECT 1 FROM "{schema}".emission_versions WHERE compute_position = 1)'
    return sa.text(
        f'INSERT INTO "{schema}".compute_watermark (id, position) VALUES '
        f"(1, CASE WHEN {first} THEN ({_run_end(schema, '0')}) ELSE 0 END) "
        "ON CONFLICT (id) DO UPDATE SET position = EXCLUDED.position"
    )


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
        "method": f"{emission.method.name} {emission.method.version}",
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
