"""Monthly time series, period-over-period comparison and the unresolved sources: one query
each, on the same "as known at" rule as the footprint (queries.latest_versions)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts import reporting as r
from contracts.compute import Kg
from kernel.errors import RequestRefused
from services.reporting.queries import as_of_binds, latest_versions, position_of
from services.reporting.walk import DIMENSIONS, Walk, conditions, walk_for

_MONTHLY = (
    "SELECT to_char(months.month, 'YYYY-MM') AS month, coalesce(sum(x.value), 0) AS value, "
    "coalesce(sum(x.min), 0) AS min, coalesce(sum(x.max), 0) AS max "
    "FROM generate_series(date_trunc('month', CAST(:from_day AS date)), "
    "CAST(:to_day AS date) - 1, interval '1 month') AS months(month) "
    "LEFT JOIN (SELECT date_trunc('month', latest.period_start) AS month, "
    "{value} AS value, {min} AS min, {max} AS max {rows} "
    "WHERE latest.status = 'calculated' AND {where}) AS x ON x.month = months.month "
    "GROUP BY months.month ORDER BY months.month"
)


def _monthly(walk: Walk, where: str) -> str:
    bounds = {bound: walk.kg(bound) for bound in ("value", "min", "max")}
    return _MONTHLY.format(rows=walk.rows, where=where, **bounds)


async def timeseries(
    conn: AsyncConnection, schema: str, tenant_id: str, request: r.Timeseries
) -> r.TimeseriesAnswer:
    """Every month of the period with its total (value, min, max); empty months are zero."""
    walk = walk_for(schema, request.filters, [])
    where, binds = conditions(request.filters, walk)
    sql = f"WITH latest AS ({latest_versions(schema, request.as_of)}) " + _monthly(walk, where)
    rows = await conn.execute(sa.text(sql), {**binds, **as_of_binds(tenant_id, request.as_of)})
    months = [
        r.MonthTotal(month=row.month, kg=Kg(value=row.value, min=row.min, max=row.max))
        for row in rows
    ]
    position = await position_of(conn, schema, request.as_of)
    return r.TimeseriesAnswer(months=months, position=position)


def _sums(walk: Walk, name: str, when: str) -> str:
    return ", ".join(
        f"coalesce(sum({walk.kg(b)}) FILTER (WHERE {when}), 0) AS {name}_{b}"
        for b in ("value", "min", "max")
    )


async def compare(
    conn: AsyncConnection, schema: str, tenant_id: str, request: r.Compare
) -> r.CompareAnswer:
    """This period and the base period side by side, per group, with the change in %."""
    walk = walk_for(schema, request.filters, list(request.group_by))
    where, binds = conditions(request.filters, walk, period=False)
    keys = [DIMENSIONS[d] for d in request.group_by]
    selected = "".join(f"{k} AS g{i}, " for i, k in enumerate(keys))
    grouping = f"GROUP BY {', '.join(f'g{i}' for i in range(len(keys)))}" if keys else ""
    current = "latest.period_start >= :from_day AND latest.period_start < :to_day"
    base = "latest.period_start >= :base_from AND latest.period_start < :base_to"
    sql = (
        f"WITH latest AS ({latest_versions(schema, request.as_of)}) "
        f"SELECT {selected}{_sums(walk, 'cur', current)}, {_sums(walk, 'base', base)} "
        f"{walk.rows} WHERE latest.status = 'calculated' AND {where} AND (({current}) OR ({base})) "
        f"{grouping}"
    )
    period = {"base_from": request.base_start, "base_to": request.base_end}
    params = {**binds, **period, **as_of_binds(tenant_id, request.as_of)}
    rows = list(await conn.execute(sa.text(sql), params))
    groups = [_compared(row, request.group_by) for row in rows]
    position = await position_of(conn, schema, request.as_of)
    return r.CompareAnswer(groups=groups, position=position)


def _compared(row: Any, dims: Sequence[str]) -> r.ComparedGroup:
    current = Kg(value=row.cur_value, min=row.cur_min, max=row.cur_max)
    base = Kg(value=row.base_value, min=row.base_min, max=row.base_max)
    change = (current.value - base.value) / base.value * 100 if base.value else None
    return r.ComparedGroup(
        key={d: getattr(row, f"g{i}") for i, d in enumerate(dims)},
        current=current,
        base=base,
        change_pct=change,
    )


async def unresolved(
    conn: AsyncConnection, schema: str, tenant_id: str, request: r.ListUnresolved
) -> r.UnresolvedPage:
    """The tenant's sources whose latest version is unresolved, with the reason, by source id."""
    after = "AND latest.source_id > :after " if request.after is not None else ""
    sql = (
        f"WITH latest AS ({latest_versions(schema, r.AsOf())}), "
        "waiting AS (SELECT * FROM latest WHERE latest.status = 'unresolved') "
        "SELECT *, (SELECT count(*) FROM waiting) AS total FROM waiting AS latest "
        f"WHERE TRUE {after}ORDER BY latest.source_id LIMIT :limit"
    )
    params = {"tenant": tenant_id, "after": _cursor(request.after), "limit": request.limit + 1}
    rows = list(await conn.execute(sa.text(sql), params))
    page = rows[: request.limit]
    more = len(rows) > request.limit
    total = int(rows[0].total) if rows else await _count(conn, schema, tenant_id)
    return r.UnresolvedPage(
        items=[_waiting(row) for row in page],
        next=str(page[-1].source_id) if more else None,
        total=total,
    )


async def _count(conn: AsyncConnection, schema: str, tenant_id: str) -> int:
    sql = (
        f"WITH latest AS ({latest_versions(schema, r.AsOf())}) "
        "SELECT count(*) FROM latest WHERE status = 'unresolved'"
    )
    return int((await conn.execute(sa.text(sql), {"tenant": tenant_id})).scalar_one())


def _cursor(text: str | None) -> UUID | None:
    if text is None:
        return None
    try:
        return UUID(text)
    except ValueError:
        raise RequestRefused(
            "invalid_cursor", "not a cursor from a previous page", "after"
        ) from None


def _waiting(row: Any) -> r.UnresolvedItem:
    return r.UnresolvedItem(
        source_id=row.source_id,
        activity_kind=row.activity_kind,
        site=row.site,
        country=row.country,
        period_start=row.period_start,
        period_end=row.period_end,
        reason=row.reason or "",
        compute_position=row.compute_position,
    )
