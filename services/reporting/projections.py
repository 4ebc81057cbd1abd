"""Projection of compute's events into emission versions and their parts (idempotent:
keyed on position), and of the watermark's moves into the ledger as known now."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts import compute as c
from kernel import unnest
from kernel.envelope import RecordedEvent
from services.reporting.current import follow
from services.reporting.tables import ReportingTables
from services.reporting.version_rows import PART_COLUMNS, part_rows, version_row
from services.reporting.watermark import advance, lock

Decoded = tuple[RecordedEvent, Any]
SourceKey = tuple[str, UUID]


class EmissionVersions:
    """Turns each compute event into one row, and a calculated emission's lines into their
    parts by device and country; the latest row per source is its state.

    A batch is projected in a few statements (the watermark locked and moved once, the
    current tables brought along once) and writes exactly the rows that applying its events
    one at a time, in the same order, would: tests/integration/reporting/test_batched.py.
    """

    def __init__(self, tables: ReportingTables) -> None:
        self.t = tables
        self.tables: Sequence[sa.Table] = (tables.versions, tables.parts)
        # A batch's versions and the parts of those that are new go in as one statement,
        # each column as one array (kernel/unnest.py).
        self._columns = [column.name for column in tables.versions.columns]
        self._statement = _insert_statement(tables, self._columns)

    async def apply(self, event: RecordedEvent, conn: AsyncConnection) -> dict[str, Any] | None:
        """Project one event; its row, or None when it was already there."""
        rows = await self.apply_batch([event], conn)
        return rows[0] if rows else None

    async def apply_batch(
        self, events: Sequence[RecordedEvent], conn: AsyncConnection
    ) -> list[dict[str, Any]]:
        """Insert the events' versions and parts and move the watermark; return the rows
        that were new, in delivery order. The watermark row is locked first (watermark.lock)."""
        schema = self.t.versions.schema
        watermark = (await conn.execute(lock(schema))).scalar_one()
        decoded = [(event, c.EVENTS.decode(event)) for event in events]
        rows = await self._rows(conn, decoded)
        new = await self._insert(conn, rows, _parts(decoded, rows))
        await follow(conn, schema, watermark, await advance(conn, schema, watermark))
        return [row for row in rows if row["compute_position"] in new]

    async def _rows(
        self, conn: AsyncConnection, decoded: Sequence[Decoded]
    ) -> list[dict[str, Any]]:
        # A withdrawal keeps its source's latest version's grouping: the latest among the
        # table's rows and the batch's rows before it, as one-at-a-time would have found.
        latest = await self._latest(conn, _withdrawn(decoded))
        rows, positions = [], set()
        for event, payload in decoded:
            withdrawn = isinstance(payload, c.EmissionWithdrawn)
            row = version_row(
                event, payload, latest.get(_key(event, payload)) if withdrawn else None
            )
            key = (row["tenant_id"], row["source_id"])
            if key not in latest or row["compute_position"] > latest[key]["compute_position"]:
                latest[key] = row
            if row["compute_position"] not in positions:  # a duplicate keeps the first
                positions.add(row["compute_position"])
                rows.append(row)
        return rows

    async def _latest(
        self, conn: AsyncConnection, keys: set[SourceKey]
    ) -> dict[SourceKey, Mapping[str, Any]]:
        if not keys:
            return {}
        v = self.t.versions
        query = (
            sa.select(v)
            .where(sa.tuple_(v.c.tenant_id, v.c.source_id).in_(sorted(keys)))
            .ext(distinct_on(v.c.tenant_id, v.c.source_id))
            .order_by(v.c.tenant_id, v.c.source_id, v.c.compute_position.desc())
        )
        found = await conn.execute(query)
        return {(row.tenant_id, row.source_id): dict(row._mapping) for row in found}

    async def _insert(
        self, conn: AsyncConnection, rows: list[dict[str, Any]], parts: list[dict[str, Any]]
    ) -> set[int]:
        """Insert the versions not there yet and their parts; return their positions."""
        arrays = unnest.arrays_of(self.t.versions, rows, self._columns, "v_")
        arrays |= unnest.arrays_of(self.t.parts, parts, PART_COLUMNS, "p_")
        return set((await conn.execute(self._statement, arrays)).scalars())


def _insert_statement(tables: ReportingTables, columns: list[str]) -> sa.TextClause:
    versions = unnest.insert_sql(tables.versions, columns, "v_")
    parts = unnest.insert_sql(
        tables.parts, PART_COLUMNS, "p_", "u.compute_position IN (SELECT compute_position FROM v)"
    )
    return sa.text(
        f"WITH v AS ({versions} ON CONFLICT DO NOTHING RETURNING compute_position), "
        f"p AS ({parts}) SELECT compute_position FROM v"
    )


def _parts(decoded: Sequence[Decoded], rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The parts of the batch's versions, each version's once (a batch may hold it twice);
    only those of the versions that turn out new go in."""
    left, parts = {row["compute_position"] for row in rows}, []
    for event, payload in decoded:
        if event.global_position in left:
            left.discard(event.global_position)
            parts += part_rows(event.global_position, payload)
    return parts


def _key(event: RecordedEvent, withdrawal: c.EmissionWithdrawn) -> SourceKey:
    return (event.tenant_id, withdrawal.source.id)


def _withdrawn(decoded: Sequence[Decoded]) -> set[SourceKey]:
    return {
        _key(event, payload)
        for event, payload in decoded
        if isinstance(payload, c.EmissionWithdrawn)
    }
