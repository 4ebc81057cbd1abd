"""The figures of a CSRD report, read from the emission versions at one compute position.

Sums are taken in SQL `numeric` (exact, whatever the row order), so the same position gives
the same figures to the last digit: the report is reproducible byte for byte.

Scope 2: lines with scope 2 and basis `location` (or none: heat has no market instrument)
are location-based. Market-based takes a source's `market` lines where it has some and its
location-based lines otherwise: compute records no contractual instruments yet, so today
market-based equals location-based, and the report says so in its notes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts import reporting as r
from kernel.errors import RequestRefused
from services.reporting.csrd import Figure, GhgFigures
from services.reporting.queries import latest_versions

_LINES = (
    "FROM latest CROSS JOIN LATERAL jsonb_array_elements(latest.lines) AS line "
    "WHERE latest.status = 'calculated' AND latest.period_start >= :from_day "
    "AND latest.period_start < :to_day"
)
_GHG = (
    "SELECT (line.value->>'scope')::int AS scope, line.value->>'scope2_basis' AS basis, "
    "(line.value->>'category')::int AS category, latest.post = 'cloud' AS cloud, "
    "EXISTS (SELECT 1 FROM jsonb_array_elements(latest.lines) AS m "
    "WHERE m.value->>'scope2_basis' = 'market') AS has_market, "
    "sum((line.value->'kg'->>'value')::numeric) AS value, "
    "sum((line.value->'kg'->>'min')::numeric) AS min, "
    "sum((line.value->'kg'->>'max')::numeric) AS max "
    f"{_LINES} GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5"
)
_ENERGY = (
    "SELECT kind, unit, sum(quantity) AS quantity FROM ("
    "SELECT DISTINCT ON (latest.source_id) latest.activity_kind AS kind, "
    "line.value->>'unit' AS unit, (line.value->>'quantity')::numeric AS quantity "
    f"{_LINES} AND (line.value->>'scope')::int IN (1, 2) "
    "ORDER BY latest.source_id, (line.value->>'scope')::int) AS own GROUP BY kind, unit"
)
_PROVENANCE = (
    "SELECT coalesce(array_agg(DISTINCT rel ORDER BY rel), '{}') AS releases FROM ("
    "SELECT jsonb_array_elements_text(line.value->'factor'->'releases') AS rel "
    f"{_LINES} AND jsonb_typeof(line.value->'factor') = 'object') AS used"
)
_METHODS = (
    "SELECT coalesce(array_agg(DISTINCT latest.method ORDER BY latest.method) "
    "FILTER (WHERE latest.method IS NOT NULL), '{}') AS methods FROM latest "
    "WHERE latest.status = 'calculated' AND latest.period_start >= :from_day "
    "AND latest.period_start < :to_day"
)
_POSTS = (
    "SELECT latest.post, sum((line.value->'kg'->>'value')::numeric) AS value "
    f"{_LINES} GROUP BY latest.post ORDER BY latest.post"
)


@dataclass(frozen=True)
class Pinned:
    """An as-of resolved to a compute position and the instant of that position."""

    position: int
    instant: datetime


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # first day after


@dataclass(frozen=True)
class PeriodFigures:
    ghg: GhgFigures
    scope2_market_is_location: bool


async def pin(conn: AsyncConnection, schema: str, as_of: r.AsOf) -> Pinned:
    """The position (and its instant) `as_of` means; now is the watermark, the last position
    up to which reporting has every compute event. A position beyond it is refused: its
    figures could still change."""
    bounds, binds = (
        ["v.compute_position <= wm.position"],
        {"pos": as_of.position, "at": as_of.instant},
    )
    if as_of.position is not None:
        bounds.append("v.compute_position <= :pos")
    if as_of.instant is not None:
        bounds.append("v.recorded_at <= :at")
    sql = (
        f"SELECT v.compute_position, v.recorded_at, wm.position AS head "
        f'FROM "{schema}".emission_versions AS v, "{schema}".compute_watermark AS wm '
        f"WHERE {' AND '.join(bounds)} ORDER BY v.compute_position DESC LIMIT 1"
    )
    row = (await conn.execute(sa.text(sql), binds)).first()
    if row is None:
        raise RequestRefused("empty_ledger", "no emission is known at that point", "as_of")
    if as_of.position is not None and as_of.position > row.head:
        raise RequestRefused(
            "position_ahead", f"reporting has read compute's log up to {row.head}", "as_of.position"
        )
    position = as_of.position if as_of.position is not None else row.compute_position
    return Pinned(position, as_of.instant or row.recorded_at)


def _binds(tenant_id: str, pinned: Pinned, period: Period) -> dict[str, Any]:
    return {
        "tenant": tenant_id,
        "pos": pinned.position,
        "at": None,
        "from_day": period.start,
        "to_day": period.end,
    }


async def _rows(conn: AsyncConnection, schema: str, sql: str, binds: dict[str, Any]) -> list[Any]:
    latest = latest_versions(schema, r.AsOf(position=binds["pos"]))
    return list(await conn.execute(sa.text(f"WITH latest AS ({latest}) {sql}"), binds))


async def ghg(
    conn: AsyncConnection,
    schema: str,
    tenant_id: str,
    pinned: Pinned,
    period: Period,
    field: str = "period_start",
) -> PeriodFigures:
    """Scope 1, Scope 2 (both bases), Scope 3 by category and its cloud part (1.1), in kg."""
    rows = await _rows(conn, schema, _GHG, _binds(tenant_id, pinned, period))
    uncategorised = [row for row in rows if row.scope == 3 and row.category is None]
    if uncategorised:
        raise RequestRefused(
            "uncategorised_scope3",
            "some Scope 3 emissions of the period have no GHG Protocol category (1-15); "
            "their factors must name one before a CSRD report can place them",
            field,
        )
    return _figures(rows)


def _figures(rows: list[Any]) -> PeriodFigures:
    zero = Figure.exact(Decimal(0))
    scope1 = location = market = zero
    scope3: dict[int, Figure] = {}
    cloud: Figure | None = None
    fallback = False
    for row in rows:
        fig = Figure(row.value, row.min, row.max)
        if row.scope == 1:
            scope1 += fig
        elif row.scope == 2 and row.basis == "market":
            market += fig
        elif row.scope == 2:
            location += fig
            if not row.has_market:
                market, fallback = market + fig, True
        else:
            scope3[row.category] = scope3.get(row.category, zero) + fig
            if row.cloud and row.category == 1:
                cloud = fig if cloud is None else cloud + fig
    return PeriodFigures(GhgFigures(scope1, location, market, scope3, cloud), fallback)


async def energy_quantities(
    conn: AsyncConnection, schema: str, tenant_id: str, pinned: Pinned, period: Period
) -> Mapping[tuple[str, str], Decimal]:
    """(activity kind, unit) -> quantity of the sources with a Scope 1 or 2 line."""
    rows = await _rows(conn, schema, _ENERGY, _binds(tenant_id, pinned, period))
    return {(row.kind, row.unit): row.quantity for row in rows}


async def by_post(
    conn: AsyncConnection, schema: str, tenant_id: str, pinned: Pinned, period: Period
) -> dict[str, Decimal]:
    rows = await _rows(conn, schema, _POSTS, _binds(tenant_id, pinned, period))
    return {row.post: row.value for row in rows}


async def provenance(
    conn: AsyncConnection, schema: str, tenant_id: str, pinned: Pinned, period: Period
) -> tuple[list[str], list[str]]:
    """The factor releases and the methods the period's emissions were computed with."""
    binds = _binds(tenant_id, pinned, period)
    [releases] = await _rows(conn, schema, _PROVENANCE, binds)
    [methods] = await _rows(conn, schema, _METHODS, binds)
    return list(releases.releases), list(methods.methods)
