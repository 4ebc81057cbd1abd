"""Projection of compute's events into emission versions and their parts (idempotent:
keyed on position), and of the watermark's moves into the ledger as known now."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts import compute as c
from kernel import unnest
from kernel.db import CUSTOM_PLANS
from kernel.envelope import RecordedEvent
from services.reporting.current import follow
from services.reporting.tables import ReportingTables
from services.reporting.version_rows import (
    KEPT,
    PART_COLUMNS,
    VERSION_COLUMNS,
    Head,
    Kept,
    Record,
    check,
    kept_of,
    part_records,
    source_key,
    version_record,
)
from services.reporting.watermark import advance, lock

SourceKey = tuple[str, str]  # (tenant, source id as text)
_WITHDRAWN = c.EmissionWithdrawn.event_type


class EmissionVersions:
    """Turns each compute event into one row, and a calculated emission's lines into their
    parts by device and country; the latest row per source is its state.

    A batch is projected in a few statements (the watermark locked and moved once, the
    current tables brought along once) and writes exactly the rows that applying its events
    one at a time, in the same order, would: tests/integration/reporting/test_batched.py.
    The rows come from the events' payloads as published (version_rows.py), as the rebuild's.
    """

    def __init__(self, tables: ReportingTables) -> None:
        self.t = tables
        self.tables: Sequence[sa.Table] = (tables.versions, tables.parts)
        # A batch's versions and the parts of those that are new go in as one statement,
        # each column as one array (kernel/unnest.py).
        self._statement = _insert_statement(tables, VERSION_COLUMNS)

    async def apply(self, event: RecordedEvent, conn: AsyncConnection) -> dict[str, Any] | None:
        """Project one event; its row, or None when it was already there."""
        rows = await self.apply_batch([event], conn)
        return rows[0] if rows else None

    async def apply_batch(
        self, events: Sequence[RecordedEvent], conn: AsyncConnection
    ) -> list[dict[str, Any]]:
        """Insert the events' versions and parts and move the watermark; return the rows
        that were new (ids as text), in delivery order. The watermark row is locked first
        (watermark.lock); an event of a type or version this code does not know is refused."""
        schema = self.t.versions.schema
        # The watermark's advance counts the run of positions above it: a generic plan made
        # while the versions were few scanned them all, 10 ms per batch and growing
        await conn.execute(CUSTOM_PLANS)
        watermark = (await conn.execute(lock(schema))).scalar_one()
        for event in events:
            check(event.type, event.schema_version)
        records, parts = await self._records(conn, events)
        new = await self._insert(conn, records, parts)
        await follow(conn, schema, watermark, await advance(conn, schema, watermark))
        return [dict(zip(VERSION_COLUMNS, r, strict=True)) for r in records if r[0] in new]

    async def _records(
        self, conn: AsyncConnection, events: Sequence[RecordedEvent]
    ) -> tuple[list[Record], list[Record]]:
        """The batch's version rows (a duplicate keeps the first) and their parts."""
        # A withdrawal keeps its source's latest version's grouping: the latest among the
        # table's rows and the batch's rows before it, as one-at-a-time would have found.
        withdrawn = {source_key(e.tenant_id, e.payload) for e in events if e.type == _WITHDRAWN}
        latest = await self._latest(conn, withdrawn)
        records: list[Record] = []
        parts: list[Record] = []
        positions: set[int] = set()
        for event in events:
            head: Head = (event.global_position, event.event_id, event.type,
                          event.recorded_at, event.tenant_id)  # fmt: skip
            key = source_key(event.tenant_id, event.payload)
            kept = latest[key][1] if event.type == _WITHDRAWN and key in latest else None
            record = version_record(head, event.payload, kept)
            if key not in latest or head[0] > latest[key][0]:
                latest[key] = (head[0], kept_of(record))
            if head[0] not in positions:
                positions.add(head[0])
                records.append(record)
                parts += part_records(head[0], event.type, event.payload)
        return records, parts

    async def _latest(
        self, conn: AsyncConnection, keys: set[SourceKey]
    ) -> dict[SourceKey, tuple[int, Kept]]:
        """Per source, its latest version's position and what a withdrawal keeps of it."""
        if not keys:
            return {}
        v = self.t.versions
        wanted = sorted((tenant, UUID(source)) for tenant, source in keys)
        query = (
            sa.select(v.c.tenant_id, v.c.source_id, v.c.compute_position, *(v.c[k] for k in KEPT))
            .where(sa.tuple_(v.c.tenant_id, v.c.source_id).in_(wanted))
            .ext(distinct_on(v.c.tenant_id, v.c.source_id))
            .order_by(v.c.tenant_id, v.c.source_id, v.c.compute_position.desc())
        )
        return {
            (row[0], str(row[1])): (row[2], tuple(row[3:])) for row in await conn.execute(query)
        }

    async def _insert(
        self, conn: AsyncConnection, records: list[Record], parts: list[Record]
    ) -> set[int]:
        """Insert the versions not there yet and their parts; return their positions."""
        arrays = unnest.arrays_of_records(records, VERSION_COLUMNS, "v_")
        arrays |= unnest.arrays_of_records(parts, PART_COLUMNS, "p_")
        return set((await conn.execute(self._statement, arrays)).scalars())


def _insert_statement(tables: ReportingTables, columns: Sequence[str]) -> sa.TextClause:
    versions = unnest.insert_sql(tables.versions, columns, "v_")
    parts = unnest.insert_sql(
        tables.parts, PART_COLUMNS, "p_", "u.compute_position IN (SELECT compute_position FROM v)"
    )
    return sa.text(
        f"WITH v AS ({versions} ON CONFLICT DO NOTHING RETURNING compute_position), "
        f"p AS ({parts}) SELECT compute_position FROM v"
    )
