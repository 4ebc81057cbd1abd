"""Keeping the ledger as known now: the current tables (tables.py's CurrentTables) follow
the watermark.

"Now" is the latest version of each source at or below the watermark (queries.py), so the
current tables change exactly when the watermark moves, and only for the sources with a
version among the positions it moved over: each such source's rows are replaced by those of
its latest version there. Versions above the watermark (arrived early) are left out until a
gap below them fills, as the ledger path leaves them out.

Both the live projection (one event at a time) and the rebuild's bulk path (a batch at a
time) call `follow` with the watermark before and after, in the transaction that moved it,
so both write the same rows from the same SQL. Figures come from the versions' JSON lines
with the ledger path's very expressions, so every sum is over the same float8 values.

The statements are planned for the range at hand each time (CUSTOM_PLANS). asyncpg runs
them as prepared statements, and after five runs PostgreSQL may keep one generic plan,
made without the bounds: it guessed 0.5% of the versions moved (or, made while the tables
were near empty, that current_sources was tiny) and hashed a sequential scan of all of
current_sources per batch, a cost growing with the ledger (bench/current_follow.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from kernel.db import CUSTOM_PLANS
from services.reporting.parts import COUNTRY, DEVICE, UNSPECIFIED

# Per source with a version in (start, end], its latest one there (binds :start, :end).
# The LIMIT changes no row (positions are unique), but caps the planner's estimate of the
# moved sources, which the range alone leaves to statistics autovacuum may not have
# gathered yet: estimated in the hundreds, current_sources was hashed whole per batch.
_MOVED = (
    'SELECT DISTINCT ON (v.tenant_id, v.source_id) v.* FROM "{s}".emission_versions AS v '
    "WHERE v.compute_position > CAST(:start AS bigint) AND v.compute_position <= :end "
    "ORDER BY v.tenant_id, v.source_id, v.compute_position DESC"
)
ESTIMATE_CAP = " LIMIT CAST(:end AS bigint) - CAST(:start AS bigint)"
# Data-modifying CTEs on three different tables: one statement, one scan of the range.
# A moved source's figures are those of the version its current_sources row names (the
# figures are keyed by version: tables.py); a withdrawn source has neither.
_CLEAR = (
    "WITH moved AS ({moved}), "
    'left_out AS (DELETE FROM "{s}".current_sources AS c USING moved '
    "WHERE c.tenant_id = moved.tenant_id AND c.source_id = moved.source_id "
    "RETURNING c.compute_position), "
    'gone AS (DELETE FROM "{s}".current_figures AS f USING left_out '
    "WHERE f.compute_position = left_out.compute_position) "
    'INSERT INTO "{s}".current_stamps AS st (tenant_id, position) '
    "SELECT tenant_id, max(compute_position) FROM moved GROUP BY tenant_id "
    "ON CONFLICT (tenant_id) DO UPDATE SET position = EXCLUDED.position"
)
# The new rows go in after the old ones are gone (a second statement: a CTE's delete is
# not visible to its sibling's insert, which would then collide on the key). A line row
# names the member it falls to whole on a dimension where it has no parts there (parts.py).
_WHOLE = (
    'CASE WHEN NOT EXISTS (SELECT 1 FROM "{{s}}".emission_parts AS w '
    "WHERE w.compute_position = moved.compute_position AND w.dimension = '{dimension}' "
    "AND w.line = line.n - 1) THEN {member} END"
)
_FILL = (
    "WITH moved AS ({moved}), "
    'sources AS (INSERT INTO "{s}".current_sources (tenant_id, source_id, compute_position, '
    "status, post, site, activity_kind, country, period_start) SELECT tenant_id, source_id, "
    "compute_position, status, post, site, activity_kind, country, period_start FROM moved "
    "WHERE status IN ('calculated', 'unresolved')) "
    'INSERT INTO "{s}".current_figures (tenant_id, source_id, dimension, line, member, '
    "device, country, compute_position, period_start, scope, scope2_basis, category, "
    "component, post, site, activity_kind, source_kind, value, min, max) "
    "SELECT moved.tenant_id, moved.source_id, x.dimension, (line.n - 1)::int, x.member, "
    "x.device, x.country, moved.compute_position, moved.period_start, "
    "(line.value->>'scope')::int, line.value->>'scope2_basis', (line.value->>'category')::int, "
    "line.value->>'component', moved.post, moved.site, moved.activity_kind, "
    "moved.source_kind, x.value, x.min, x.max FROM moved "
    "CROSS JOIN LATERAL jsonb_array_elements(moved.lines) WITH ORDINALITY AS line(value, n) "
    "CROSS JOIN LATERAL (SELECT 'line' AS dimension, '' AS member, "
    f"{_WHOLE.format(dimension=DEVICE, member=repr(UNSPECIFIED))} AS device, "
    f"{_WHOLE.format(dimension=COUNTRY, member='moved.country')} AS country, "
    "(line.value->'kg'->>'value')::float8 AS value, (line.value->'kg'->>'min')::float8 AS min, "
    "(line.value->'kg'->>'max')::float8 AS max UNION ALL "
    "SELECT p.dimension, p.member, NULL, NULL, p.value, p.min, p.max "
    'FROM "{s}".emission_parts AS p '
    "WHERE p.compute_position = moved.compute_position AND p.line = line.n - 1) AS x "
    "WHERE moved.status = 'calculated'"
)


def follow_statements(schema: str | None) -> tuple[sa.TextClause, sa.TextClause]:
    """SQL bringing the current tables from watermark `:start` to `:end` (see `follow`)."""
    moved = _MOVED.format(s=schema) + ESTIMATE_CAP
    return (
        sa.text(_CLEAR.format(s=schema, moved=moved)),
        sa.text(_FILL.format(s=schema, moved=moved)),
    )


async def follow(conn: AsyncConnection, schema: str | None, start: int, end: int) -> None:
    """The watermark moved from `start` to `end` in this transaction: bring the current
    tables along (nothing to do when it did not move)."""
    if end <= start:
        return
    await conn.execute(CUSTOM_PLANS)
    for statement in follow_statements(schema):
        await conn.execute(statement, {"start": start, "end": end})
