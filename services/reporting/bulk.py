"""The rebuild's bulk path: a fetched batch of compute events becomes its rows in memory,
copied into the emptied tables with one COPY per table, and the watermark moves once
(taking the current tables along, with the live path's SQL: current.py).

It writes the rows the live projection would (both build them with version_rows.py); what
the live path reads back from the table, it keeps in memory instead:
* a withdrawal's source's latest version (only the KEPT columns, per tenant and source);
* the positions already written, so a duplicate delivery keeps the first, as ON CONFLICT
  DO NOTHING does live, and the watermark is the end of their contiguous run from 1.
It relies on the tables being emptied and locked by the caller for the whole transaction
(rebuild.py), so no live consumer writes a row in between.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from contracts import compute as c
from kernel.envelope import RecordedEvent
from services.reporting.current import follow
from services.reporting.tables import ReportingTables
from services.reporting.version_rows import KEPT, PART_COLUMNS, part_rows, version_row


class BulkReplay:
    """Writes batches of compute events, in their log order, into empty projection tables."""

    def __init__(self, tables: ReportingTables) -> None:
        self.t = tables
        self.columns = tuple(column.name for column in tables.versions.columns)
        self.written: set[int] = set()
        self.latest: dict[tuple[str, UUID], dict[str, Any]] = {}
        self.watermark = 0

    async def write(self, events: Iterable[RecordedEvent], conn: AsyncConnection) -> int:
        """Project `events`; return how many made a new version."""
        versions: list[tuple[Any, ...]] = []
        parts: list[tuple[Any, ...]] = []
        for event in events:
            if event.global_position in self.written:
                continue
            self.written.add(event.global_position)
            row, its_parts = self._rows(event)
            versions.append(self._record(row))
            parts += [tuple(part[k] for k in PART_COLUMNS) for part in its_parts]
        if versions:
            await self._copy(conn, self.t.versions.name, self.columns, versions)
            await self._copy(conn, self.t.parts.name, PART_COLUMNS, parts)
            await self._advance(conn)
        return len(versions)

    async def _advance(self, conn: AsyncConnection) -> None:
        # Counted in memory: in the rebuild's transaction the index still holds every deleted
        # row, which a range scan above the watermark would walk through once per batch.
        start = self.watermark
        while self.watermark + 1 in self.written:
            self.watermark += 1
        await conn.execute(self.t.watermark.update().values(position=self.watermark))
        await follow(conn, self.t.versions.schema, start, self.watermark)

    def _rows(self, event: RecordedEvent) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        payload: Any = c.EVENTS.decode(event)
        calculated = isinstance(payload, c.EmissionCalculated | c.EmissionRestated)
        source = payload.emission.source if calculated else payload.source
        key = (event.tenant_id, source.id)
        row = version_row(event, payload, self.latest.get(key))
        self.latest[key] = {k: row[k] for k in KEPT}
        return row, part_rows(event.global_position, payload)

    def _record(self, row: dict[str, Any]) -> tuple[Any, ...]:
        # asyncpg's jsonb codec (set by SQLAlchemy's dialect) takes the JSON text
        lines = json.dumps(row["lines"], ensure_ascii=False, allow_nan=False)
        return tuple(lines if k == "lines" else row.get(k) for k in self.columns)

    async def _copy(
        self,
        conn: AsyncConnection,
        table: str,
        columns: tuple[str, ...],
        records: list[tuple[Any, ...]],
    ) -> None:
        if not records:
            return
        raw = (await conn.get_raw_connection()).driver_connection
        assert raw is not None
        await raw.copy_records_to_table(
            table, schema_name=self.t.versions.schema, columns=columns, records=records
        )
