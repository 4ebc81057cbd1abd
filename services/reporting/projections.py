"""Projection of compute's events into emission versions and their parts (idempotent:
keyed on position), and of the watermark's moves into the ledger as known now."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts import compute as c
from kernel.envelope import RecordedEvent
from services.reporting.current import follow
from services.reporting.tables import ReportingTables
from services.reporting.version_rows import part_rows, version_row
from services.reporting.watermark import advance, lock


class EmissionVersions:
    """Turns each compute event into one row, and a calculated emission's lines into their
    parts by device and country; the latest row per source is its state."""

    def __init__(self, tables: ReportingTables) -> None:
        self.t = tables
        self.tables: Sequence[sa.Table] = (tables.versions, tables.parts)

    async def apply(self, event: RecordedEvent, conn: AsyncConnection) -> dict[str, Any] | None:
        """Insert the event's version and move the watermark; return the row (None when it
        was already there). The watermark row is locked first (watermark.lock)."""
        schema = self.t.versions.schema
        watermark = (await conn.execute(lock(schema))).scalar_one()
        payload = c.EVENTS.decode(event)
        row = version_row(event, payload, await self._last(conn, event, payload))
        stmt = insert(self.t.versions).values(**row).on_conflict_do_nothing()
        done = await conn.execute(stmt.returning(self.t.versions.c.compute_position))
        if done.first() is None:
            return None
        if parts := part_rows(event.global_position, payload):
            await conn.execute(insert(self.t.parts), parts)
        await follow(conn, schema, watermark, await advance(conn, schema, watermark))
        return row

    async def _last(
        self, conn: AsyncConnection, event: RecordedEvent, payload: Any
    ) -> Mapping[str, Any] | None:
        if not isinstance(payload, c.EmissionWithdrawn):
            return None
        v = self.t.versions
        query = (
            sa.select(v)
            .where(v.c.tenant_id == event.tenant_id, v.c.source_id == payload.source.id)
            .order_by(v.c.compute_position.desc())
            .limit(1)
        )
        last = (await conn.execute(query)).first()
        return dict(last._mapping) if last else None
