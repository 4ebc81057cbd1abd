"""The rebuild's bulk path: a fetched batch of compute events becomes its rows in memory
(replay_rows.py, from the events' JSON), copied into the emptied tables with one COPY per
table, and the watermark moves once per batch, taking the current tables along with the
live path's SQL (current.py).

It writes the rows the live projection would; what the live path reads back from the table,
it keeps in memory instead:
* a withdrawal's source's latest version (only the KEPT columns, per tenant and source);
* the positions already written, so a duplicate delivery keeps the first, as ON CONFLICT
  DO NOTHING does live, and the watermark is the end of their contiguous run from 1.
It relies on the tables being emptied and locked by the caller for the whole transaction
(rebuild.py), so no live consumer writes a row in between.

A batch's database work (its COPYs, then the watermark and the current tables) runs while
the next batch is decoded: PostgreSQL works on one while Python builds the other. Filling
the current tables once at the end measured slower (about 0.6x): that work then waited for
everything else instead of overlapping it; measured again with one `follow` from 0 after
the last COPY, it is no better either (into filled tables, alternated: 7,424, 8,484 and
6,676 events/s against 8,010, 6,647 and 6,981). At most one batch is in flight, as a
connection runs one statement at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from services.reporting.current import follow
from services.reporting.replay_rows import (
    VERSION_COLUMNS,
    Kept,
    Record,
    decode,
    kept_of,
    part_records,
    source_key,
    version_record,
)
from services.reporting.tables import ReportingTables
from services.reporting.version_rows import PART_COLUMNS


class BulkReplay:
    """Writes batches of compute events, in their log order, into empty projection tables."""

    def __init__(self, tables: ReportingTables) -> None:
        self.t = tables
        self.written: set[int] = set()
        self.latest: dict[tuple[str, str], Kept] = {}
        self.copying: asyncio.Task[None] | None = None
        self.watermark = 0

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
        """Once every batch is written: wait for the last one's database work."""
        await self._copied()

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
            key = source_key(envelope)
            record = version_record(envelope, self.latest.get(key))
            self.latest[key] = kept_of(record)
            versions.append(record)
            parts += part_records(envelope)
        return versions, parts

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
        """Copy a batch's rows in, then move the watermark (from, to) and the current
        tables with it."""
        raw: Any = (await conn.get_raw_connection()).driver_connection
        schema = self.t.versions.schema
        await raw.copy_records_to_table(
            self.t.versions.name, schema_name=schema, columns=VERSION_COLUMNS, records=versions
        )
        if parts:
            await raw.copy_records_to_table(
                self.t.parts.name, schema_name=schema, columns=PART_COLUMNS, records=parts
            )
        await conn.execute(self.t.watermark.update().values(position=moved[1]))
        await follow(conn, schema, *moved)
