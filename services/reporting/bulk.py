"""The rebuild's bulk path: a fetched batch of compute events becomes its rows in memory
(version_rows.py, from the events' JSON), copied into the emptied tables with one COPY per
table, and the watermark moves once per batch; the current tables are copied in once, at
the end, from rows kept in memory as well.

It writes the rows the live projection would; what the live path reads back from the table,
it keeps in memory instead:
* a withdrawal's source's latest version (only the KEPT columns, per tenant and source);
* the positions already written, so a duplicate delivery keeps the first, as ON CONFLICT
  DO NOTHING does live, and the watermark is the end of their contiguous run from 1;
* per source, the current rows of its latest version (version_rows.current_rows, the rows
  current.py's SQL derives), and per tenant its highest position: the current tables as
  the watermark leaves them. Should the stream have a gap (the watermark short of the
  highest position written), or be too long to hold them all (KEPT_ROWS), that SQL fills
  them instead, up to the watermark.
It relies on the tables being emptied and locked by the caller for the whole transaction
(rebuild.py), so no live consumer writes a row in between.

A batch's COPYs run while the next batch is decoded: PostgreSQL works on one while Python
builds the other. Keeping the current tables along per batch with the live path's SQL left
PostgreSQL the busier side (JSON lines parsed, a range of versions scanned, rows deleted
and inserted per batch) while Python waited more than half the time; their rows now cost
Python instead, and PostgreSQL one COPY each. At most one batch is in flight, as a
connection runs one statement at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from services.reporting.current import follow
from services.reporting.tables import ReportingTables
from services.reporting.version_rows import (
    FIGURE_COLUMNS,
    PART_COLUMNS,
    SOURCE_COLUMNS,
    VERSION_COLUMNS,
    Head,
    Kept,
    Record,
    current_rows,
    decode,
    head_of,
    kept_of,
    part_records,
    source_key,
    version_record,
)

# Current rows held in memory at most (some 300 bytes each); past that, finish() leaves
# them to current.py's SQL, so a rebuild's memory stays bounded however long the stream.
KEPT_ROWS = 1_000_000


class BulkReplay:
    """Writes batches of compute events, in their log order, into empty projection tables."""

    def __init__(self, tables: ReportingTables, kept_rows: int = KEPT_ROWS) -> None:
        self.t, self.kept_rows, self.rows_kept = tables, kept_rows, 0
        self.written: set[int] = set()
        self.latest: dict[tuple[str, str], Kept] = {}
        self.copying: asyncio.Task[None] | None = None
        self.watermark = 0
        # per source: (position, its current_sources row or None, its current_figures rows);
        # None once more than `kept_rows` rows would be held
        self.current: dict[tuple[str, str], tuple[int, Record | None, list[Record]]] | None = {}
        self.stamps: dict[str, int] = {}  # per tenant, its highest position

    async def write(self, messages: Sequence[bytes], conn: AsyncConnection) -> int:
        """Project the events published as `messages`; return how many made a new version."""
        versions, parts = self._records(messages)
        await self._copied()
        if versions:
            # the move is counted now: the next batch's positions join `written` before
            # this batch's rows are in
            start = self.watermark
            while self.watermark + 1 in self.written:
                self.watermark += 1
            moved = (start, self.watermark)
            self.copying = asyncio.create_task(self._copy(conn, versions, parts, moved))
        return len(versions)

    async def finish(self, conn: AsyncConnection) -> None:
        """Once every batch is written: wait for the last one's database work, then fill
        the current tables."""
        await self._copied()
        if self.current is None or self.watermark != max(self.written, default=0):
            await follow(conn, self.t.versions.schema, 0, self.watermark)
            return
        sources = [row for _, row, _ in self.current.values() if row is not None]
        figures = [row for _, _, rows in self.current.values() for row in rows]
        current = self.t.current
        await self._copy_rows(conn, current.sources.name, SOURCE_COLUMNS, sources)
        await self._copy_rows(conn, current.figures.name, FIGURE_COLUMNS, figures)
        await self._copy_rows(conn, current.stamps.name, ("tenant_id", "position"),
                              list(self.stamps.items()))  # fmt: skip

    async def abandon(self) -> None:
        """Let a COPY still in flight end (the caller is failing: its error is the one)."""
        if self.copying is not None:
            with contextlib.suppress(Exception):
                await self.copying

    def _records(self, messages: Sequence[bytes]) -> tuple[list[Record], list[Record]]:
        versions: list[Record] = []
        parts: list[Record] = []
        for message in messages:
            envelope = decode(message)
            if envelope["global_position"] in self.written:
                continue
            self.written.add(envelope["global_position"])
            head, payload = head_of(envelope), envelope["payload"]
            key = source_key(head[4], payload)
            record = version_record(head, payload, self.latest.get(key))
            self.latest[key] = kept_of(record)
            versions.append(record)
            its_parts = part_records(head[0], head[2], payload)
            parts += its_parts
            self._keep_current(key, head, payload, record, its_parts)
        return versions, parts

    def _keep_current(
        self, key: tuple[str, str], head: Head, payload: Any, record: Record, parts: list[Record]
    ) -> None:
        position, tenant = head[0], head[4]
        self.stamps[tenant] = max(position, self.stamps.get(tenant, 0))
        if self.current is None or position <= self.current.get(key, (0,))[0]:
            return
        source, figures = current_rows(payload, record, parts)
        before = self.current.get(key)
        self.rows_kept += 1 + len(figures) - (1 + len(before[2]) if before else 0)
        self.current[key] = (position, source, figures)
        if self.rows_kept > self.kept_rows:
            self.current = None  # too many to hold: finish() leaves them to the SQL

    async def _copied(self) -> None:
        copying, self.copying = self.copying, None
        if copying is not None:
            await copying

    async def _copy(
        self,
        conn: AsyncConnection,
        versions: list[Record],
        parts: list[Record],
        moved: tuple[int, int],
    ) -> None:
        """Copy a batch's rows in, then move the watermark (from, to)."""
        await self._copy_rows(conn, self.t.versions.name, VERSION_COLUMNS, versions)
        await self._copy_rows(conn, self.t.parts.name, PART_COLUMNS, parts)
        await conn.execute(self.t.watermark.update().values(position=moved[1]))

    async def _copy_rows(
        self, conn: AsyncConnection, table: str, columns: Sequence[str], rows: list[Record]
    ) -> None:
        if rows:
            raw: Any = (await conn.get_raw_connection()).driver_connection
            schema = self.t.versions.schema
            await raw.copy_records_to_table(
                table, schema_name=schema, columns=columns, records=rows
            )
