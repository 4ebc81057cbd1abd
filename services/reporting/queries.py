"""Footprint, lineage and restatement diff, read from the emission versions.

"As known at" is one rule everywhere: per source, its latest version at or below a position
(or recorded at or before an instant) in compute's log.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts import reporting as r
from contracts.compute import EmissionLine, Kg
from services.reporting.walk import DIMENSIONS, Walk, conditions, walk_for


def latest_versions(schema: str, as_of: r.AsOf) -> str:
    """SQL of the latest version per source as known at `as_of` (binds :tenant, :pos, :at),
    never beyond the watermark: "now" is the last position up to which nothing is missing."""
    bounds = [
        "tenant_id = :tenant",
        f'compute_position <= (SELECT position FROM "{schema}".compute_watermark)',
    ]
    if as_of.position is not None:
        bounds.append("compute_position <= :pos")
    if as_of.instant is not None:
        bounds.append("recorded_at <= :at")
    return (
        f'SELECT DISTINCT ON (source_id) * FROM "{schema}".emission_versions '
        f"WHERE {' AND '.join(bounds)} ORDER BY source_id, compute_position DESC"
    )


def as_of_binds(tenant_id: str, as_of: r.AsOf) -> dict[str, Any]:
    return {"tenant": tenant_id, "pos": as_of.position, "at": as_of.instant}


async def footprint(
    conn: AsyncConnection, schema: str, tenant_id: str, request: r.Footprint
) -> r.FootprintAnswer:
    """Totals grouped by the requested dimensions, each with its range and share."""
    walk = walk_for(schema, request.filters, list(request.group_by))
    where, binds = conditions(request.filters, walk)
    keys = [DIMENSIONS[d] for d in request.group_by]
    selected = "".join(f"{k} AS g{i}, " for i, k in enumerate(keys))
    grouping = f"GROUP BY {', '.join(f'g{i}' for i in range(len(keys)))}" if keys else ""
    sums = ", ".join(f"sum({walk.kg(b)}) AS {b}" for b in ("value", "min", "max"))
    sql = (
        f"WITH latest AS ({latest_versions(schema, request.as_of)}) "
        f"SELECT {selected}{sums}, count(DISTINCT latest.source_id) AS n {walk.rows} "
        f"WHERE latest.status = 'calculated' AND {where} {grouping}"
    )
    rows = list(
        await conn.execute(sa.text(sql), {**binds, **as_of_binds(tenant_id, request.as_of)})
    )
    unresolved = await _unresolved(conn, schema, tenant_id, request.filters, request.as_of)
    position = await position_of(conn, schema, request.as_of)
    return footprint_answer(rows, request.group_by, unresolved, position)


def footprint_answer(
    rows: Sequence[Any], dims: Sequence[str], unresolved: int, position: int
) -> r.FootprintAnswer:
    """The answer from rows g0.. (the keys of `dims`), value, min, max and n (emissions)."""
    groups = [_group(row, dims) for row in rows if row.value is not None]
    total = sum_kg([g.kg for g in groups])
    shared = [
        g.model_copy(update={"share": g.kg.value / total.value if total.value else 0.0})
        for g in groups
    ]
    return r.FootprintAnswer(total=total, groups=shared, unresolved=unresolved, position=position)


def _group(row: Any, dims: Sequence[str]) -> r.FootprintGroup:
    key = {d: getattr(row, f"g{i}") for i, d in enumerate(dims)}
    kg = Kg(value=row.value, min=row.min, max=row.max)
    return r.FootprintGroup(key=key, kg=kg, share=0.0, emissions=row.n)


def sum_kg(kgs: list[Kg]) -> Kg:
    return Kg(
        value=sum(k.value for k in kgs), min=sum(k.min for k in kgs), max=sum(k.max for k in kgs)
    )


async def _unresolved(
    conn: AsyncConnection, schema: str, tenant_id: str, filters: r.Filters, as_of: r.AsOf
) -> int:
    # unresolved sources have no lines, hence no scope nor device: only their country counts
    plain = filters.model_copy(update={"scope": None, "device": None})
    where, binds = conditions(plain, Walk(schema), lines=False)
    sql = (
        f"WITH latest AS ({latest_versions(schema, as_of)}) SELECT count(*) FROM latest "
        f"WHERE latest.status = 'unresolved' AND {where}"
    )
    return int(
        (await conn.execute(sa.text(sql), {**binds, **as_of_binds(tenant_id, as_of)})).scalar_one()
    )


async def position_of(conn: AsyncConnection, schema: str, as_of: r.AsOf) -> int:
    """The position an answer at `as_of` is complete up to (capped by the watermark)."""
    bounds = ["v.compute_position <= wm.position"]
    if as_of.position is not None:
        bounds.append("v.compute_position <= :pos")
    if as_of.instant is not None:
        bounds.append("v.recorded_at <= :at")
    sql = (
        f'SELECT coalesce(max(v.compute_position), 0) FROM "{schema}".emission_versions AS v, '
        f'"{schema}".compute_watermark AS wm WHERE {" AND ".join(bounds)}'
    )
    binds = {"pos": as_of.position, "at": as_of.instant}
    return int((await conn.execute(sa.text(sql), binds)).scalar_one())


async def lineage(
    conn: AsyncConnection, schema: str, tenant_id: str, request: r.Lineage
) -> r.LineageAnswer:
    """The emissions behind a figure: each with its lines (factor id, version, release),
    the compute event that set it and the source event (or file hash) it came from; with a
    device or country filter, also the part of it that falls inside."""
    walk = walk_for(schema, request.filters, [])
    where, binds = conditions(request.filters, walk, lines=False)
    sql = (
        f"WITH latest AS ({latest_versions(schema, request.as_of)}) SELECT * FROM latest "
        f"{_inside(request.filters, walk)} WHERE latest.status <> 'withdrawn' AND {where} "
        "ORDER BY latest.compute_position LIMIT :limit"
    )
    params = {**binds, **as_of_binds(tenant_id, request.as_of), "limit": request.limit}
    rows = list(await conn.execute(sa.text(sql), params))
    position = await position_of(conn, schema, request.as_of)
    return r.LineageAnswer(items=[_lineage_item(row) for row in rows], position=position)


def _inside(filters: r.Filters, walk: Walk) -> str:
    """SQL: a lateral join giving each emission's kg inside the filter's device or country
    (columns in_value, in_min, in_max; nothing when there is no such filter)."""
    if walk.part is None:
        return ""
    where, _ = conditions(filters, walk, period=False)
    sums = ", ".join(f"sum({walk.kg(b)}) AS in_{b}" for b in ("value", "min", "max"))
    return f"LEFT JOIN LATERAL (SELECT {sums} {walk.rows_of_latest} WHERE {where}) AS x ON TRUE"


def _kg(value: float | None, low: float | None, high: float | None) -> Kg | None:
    return (
        None if value is None or low is None or high is None else Kg(value=value, min=low, max=high)
    )


def _lineage_item(row: Any) -> r.LineageItem:
    total = _kg(row.total_value, row.total_min, row.total_max)
    inside = _kg(row.in_value, row.in_min, row.in_max) if hasattr(row, "in_value") else None
    return r.LineageItem(
        source_id=row.source_id,
        source_kind=row.source_kind,
        activity_kind=row.activity_kind,
        status=row.status,
        total=total,
        inside=inside,
        lines=[EmissionLine.model_validate(x) for x in row.lines],
        compute_event_id=row.compute_event_id,
        compute_position=row.compute_position,
        source_event_id=row.source_event_id,
        sha256=row.sha256,
    )


async def diff(conn: AsyncConnection, schema: str, tenant_id: str, request: r.Diff) -> r.DiffAnswer:
    """What changed between two instants (or positions), source by source, and why."""
    before = await _states(conn, schema, tenant_id, request.filters, request.before)
    after = await _states(conn, schema, tenant_id, request.filters, request.after)
    items = []
    for source_id in sorted(set(before) | set(after), key=str):
        old, new = before.get(source_id), after.get(source_id)
        if _total(old) != _total(new):
            items.append(_diff_item(source_id, old, new))
    totals = [sum_kg([t for t in map(_total, states.values()) if t]) for states in (before, after)]
    return r.DiffAnswer(items=items, total_before=totals[0], total_after=totals[1])


async def _states(
    conn: AsyncConnection, schema: str, tenant_id: str, filters: r.Filters, as_of: r.AsOf
) -> dict[Any, Any]:
    where, binds = conditions(filters, walk_for(schema, filters, []), lines=False)
    sql = f"WITH latest AS ({latest_versions(schema, as_of)}) SELECT * FROM latest WHERE {where}"
    rows = await conn.execute(sa.text(sql), {**binds, **as_of_binds(tenant_id, as_of)})
    return {row.source_id: row for row in rows}


def _total(row: Any) -> Kg | None:
    if row is None or row.status != "calculated":
        return None
    return Kg(value=row.total_value, min=row.total_min, max=row.total_max)


def _diff_item(source_id: Any, old: Any, new: Any) -> r.DiffItem:
    latest = new if new is not None else old
    return r.DiffItem(
        source_id=source_id,
        activity_kind=latest.activity_kind,
        before=_total(old),
        after=_total(new),
        cause=new.cause if new is not None else None,
        compute_event_id=new.compute_event_id if new is not None else None,
    )
