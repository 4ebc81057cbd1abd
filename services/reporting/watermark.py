"""SQL moving reporting's compute watermark: the highest position up to which every compute
event is projected (see tables.py's `_watermark`).

The run of contiguous versions after a start is counted over the versions above the start
only, read in key order from the primary key: `position - row_number()` stays equal to the
start exactly while there is no gap. The cost is the number of versions above the watermark
(those that arrived early), never the size of the table. The former query (NOT EXISTS of
`position + 1`, on a watermark table the planner has no statistics for) was planned as hash
joins over the whole versions table, with JIT compilation on top: a full scan per event.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.reporting.tables import ReportingTables


def _run_length(schema: str | None, start: str) -> str:
    """SQL: how many versions follow position `start` without a gap."""
    return (
        "SELECT count(*) FROM (SELECT v.compute_position - row_number() OVER "
        "(ORDER BY v.compute_position) AS gap "
        f'FROM "{schema}".emission_versions AS v WHERE v.compute_position > {start}) AS run '
        f"WHERE run.gap = {start}"
    )


def advance_statement(schema: str | None) -> sa.TextClause:
    """SQL moving the watermark from `:start` (see `advance`)."""
    start = "CAST(:start AS bigint)"
    return sa.text(
        f'UPDATE "{schema}".compute_watermark AS wm '
        f"SET position = {start} + ({_run_length(schema, start)}) "
        f'WHERE wm.id = 1 AND EXISTS (SELECT 1 FROM "{schema}".emission_versions AS x '
        f"WHERE x.compute_position = {start} + 1) RETURNING wm.position"
    )


def lock(schema: str | None) -> sa.TextClause:
    """SQL locking the watermark row and reading it: appliers take turns, and none can leave
    it behind a row another one just committed."""
    return sa.text(f'SELECT position FROM "{schema}".compute_watermark WHERE id = 1 FOR UPDATE')


async def advance(conn: AsyncConnection, schema: str | None, start: int) -> int:
    """Move the watermark, locked and read as `start`, to the end of the run that follows
    it, and return where it is now; one key lookup while the next position is still
    missing. The start goes in as a value (not read in the statement) so that the planner
    estimates the versions above it from the index, not as a third of the table (which grew
    into JIT compilation per event)."""
    moved = (await conn.execute(advance_statement(schema), {"start": start})).scalar_one_or_none()
    return start if moved is None else int(moved)


def reset_watermark(tables: ReportingTables) -> sa.TextClause:
    """SQL setting the watermark from the versions as they are (0 when position 1 is absent)."""
    schema = tables.versions.schema
    return sa.text(
        f'INSERT INTO "{schema}".compute_watermark (id, position) '
        f"VALUES (1, ({_run_length(schema, '0')})) "
        "ON CONFLICT (id) DO UPDATE SET position = EXCLUDED.position"
    )
