"""Footprints as known now, read from the current tables (current.py), and kept per tenant
against the tenant's stamp so that asking again costs one key lookup.

The answer is the one the ledger path (queries.footprint) gives at the watermark: the same
rows (the latest version per source at the watermark), the same float8 figures, grouped and
filtered by the same rules (walk.py), and the same position (the watermark: the version at
it exists, so it is the highest position at or below it).

An answer is kept with the stamp it was read at: the tenant's highest position at or below
the watermark and the transaction id that last wrote that stamp row (`xmin`). Any change to
the tenant's figures absorbs a newer version of it, which moves the position; a rebuild
rewrites every row, which changes `xmin` even when the positions come out the same. The
stamp is read from the database on every request, so replicas never serve a stale answer;
only the position is then the watermark's of the moment: figures that did not change since.
The read is one REPEATABLE READ snapshot, so the figures belong to the stamp they are kept
under.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from contracts import reporting as r
from services.reporting.queries import footprint_answer
from services.reporting.walk import PART_DIMENSIONS, walk_for

# Group-by expressions on the current figures, whitelisted like walk.DIMENSIONS.
KEYS: dict[str, str] = {
    "scope": "f.scope",
    "scope2_basis": "f.scope2_basis",
    "category": "f.category",
    "component": "f.component",
    "post": "f.post",
    # a part's member, or the line's own where it is whole on the dimension (parts.py)
    "country": "coalesce(f.country, f.member)",
    "device": "coalesce(f.device, f.member)",
    "site": "f.site",
    "activity_kind": "f.activity_kind",
    "source_kind": "f.source_kind",
    "month": "to_char(f.period_start, 'YYYY-MM')",
}
_EQUALS = ("post", "site", "activity_kind")
Stamp = tuple[int, str] | None


@dataclass(frozen=True)
class Head:
    """The watermark, and the tenant's stamp (None while it has no version below it)."""

    position: int
    stamp: Stamp


def is_now(as_of: r.AsOf) -> bool:
    return as_of.position is None and as_of.instant is None


async def head(conn: AsyncConnection, schema: str, tenant_id: str) -> Head:
    sql = (
        "SELECT wm.position, st.position AS stamp, st.xmin::text AS writer "
        f'FROM "{schema}".compute_watermark AS wm LEFT JOIN "{schema}".current_stamps AS st '
        "ON st.tenant_id = :tenant WHERE wm.id = 1"
    )
    row = (await conn.execute(sa.text(sql), {"tenant": tenant_id})).first()
    if row is None:  # no watermark row yet: nothing projected
        return Head(0, None)
    stamp = None if row.stamp is None else (int(row.stamp), str(row.writer))
    return Head(int(row.position), stamp)


def _where(filters: r.Filters, part: str | None) -> tuple[str, dict[str, Any]]:
    """SQL conditions on the figures `f` of one walk (the whole lines, or their parts on
    `part`: its stored parts and the lines whole on it), as walk.conditions sets them on
    the ledger's lines."""
    clauses = ["f.tenant_id = :tenant", _rows_of(part)]
    clauses += ["f.period_start >= :from_day", "f.period_start < :to_day"]
    binds: dict[str, Any] = {}
    if filters.scope is not None:
        clauses.append("f.scope = :f_scope")
        binds["f_scope"] = filters.scope
    for name in (*_EQUALS, *PART_DIMENSIONS):
        value = getattr(filters, name)
        if value is not None:
            clauses.append(f"{KEYS[name]} = :f_{name}")
            binds[f"f_{name}"] = value
    return " AND ".join(clauses), binds


def _rows_of(part: str | None) -> str:
    if part is None:
        return "f.dimension = 'line'"
    assert part in PART_DIMENSIONS  # whitelisted: it goes into the SQL text
    return f"f.dimension IN ('line', '{part}') AND (f.dimension = '{part}' OR f.{part} IS NOT NULL)"


def _unresolved_where(filters: r.Filters) -> tuple[str, dict[str, Any]]:
    """As queries._unresolved: no scope nor device (no lines); an unresolved source has no
    parts, so a country filter is on its own country."""
    clauses = ["s.tenant_id = :tenant", "s.status = 'unresolved'"]
    clauses += ["s.period_start >= :from_day", "s.period_start < :to_day"]
    binds: dict[str, Any] = {}
    for name in (*_EQUALS, "country"):
        value = getattr(filters, name)
        if value is not None:
            clauses.append(f"s.{name} = :f_{name}")
            binds[f"f_{name}"] = value
    return " AND ".join(clauses), binds


async def footprint(
    conn: AsyncConnection, schema: str, tenant_id: str, request: r.Footprint, position: int
) -> r.FootprintAnswer:
    """The footprint as known at the watermark `position`, from the current tables."""
    walk = walk_for(schema, request.filters, list(request.group_by))
    where, binds = _where(request.filters, walk.part)
    keys = [KEYS[d] for d in request.group_by]
    selected = "".join(f"{k} AS g{i}, " for i, k in enumerate(keys))
    grouping = f"GROUP BY {', '.join(f'g{i}' for i in range(len(keys)))}" if keys else ""
    sql = (
        f"SELECT {selected}sum(f.value) AS value, sum(f.min) AS min, sum(f.max) AS max, "
        f'count(DISTINCT f.source_id) AS n FROM "{schema}".current_figures AS f '
        f"WHERE {where} {grouping}"
    )
    period = {"tenant": tenant_id, "from_day": request.filters.period_start,
              "to_day": request.filters.period_end}  # fmt: skip
    rows = list(await conn.execute(sa.text(sql), {**binds, **period}))
    where, binds = _unresolved_where(request.filters)
    sql = f'SELECT count(*) FROM "{schema}".current_sources AS s WHERE {where}'
    unresolved = int((await conn.execute(sa.text(sql), {**binds, **period})).scalar_one())
    return footprint_answer(rows, request.group_by, unresolved, position)


class Answers:
    """Footprints as known now, the last asked kept with the stamp they were read at, up to
    `budget` groups in all (the oldest asked go first; a bigger answer is not kept)."""

    def __init__(self, engine: AsyncEngine, schema: str, budget: int = 50_000) -> None:
        self.engine, self.schema, self.budget = engine, schema, budget
        self._kept: OrderedDict[tuple[str, str], tuple[Stamp, r.FootprintAnswer]] = OrderedDict()
        self._groups = 0

    async def footprint(self, tenant_id: str, request: r.Footprint) -> r.FootprintAnswer:
        key = (tenant_id, request.model_dump_json())
        kept = self._kept.get(key)
        if kept is not None:
            async with self.engine.connect() as conn:  # one statement, no transaction around
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                latest = await head(conn, self.schema, tenant_id)
            if kept[0] == latest.stamp:
                self._kept.move_to_end(key)
                return kept[1].model_copy(update={"position": latest.position})
        async with self.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="REPEATABLE READ")
            latest = await head(conn, self.schema, tenant_id)
            answer = await footprint(conn, self.schema, tenant_id, request, latest.position)
        self._keep(key, latest.stamp, answer)
        return answer

    def _keep(self, key: tuple[str, str], stamp: Stamp, answer: r.FootprintAnswer) -> None:
        self._forget(key)
        if len(answer.groups) > self.budget:
            return
        self._kept[key] = (stamp, answer)
        self._groups += len(answer.groups)
        while self._groups > self.budget:
            self._forget(next(iter(self._kept)))

    def _forget(self, key: tuple[str, str]) -> None:
        if (kept := self._kept.pop(key, None)) is not None:
            self._groups -= len(kept[1].groups)
