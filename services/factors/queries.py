"""Reading the catalogue: factor views (now or as known at an instant), search, releases."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.factors import (
    GLOBAL_TENANT,
    FacetCount,
    FactorPage,
    FactorValues,
    FactorView,
    ReleaseMember,
    ReleaseView,
    SearchFactors,
)
from services.factors.projections import CatalogueTables

FACETS = ("activity_kind", "component", "region", "source", "scope", "year")
Row = sa.Row[Any]


def visible(tenant_id: str) -> list[str]:
    return list(dict.fromkeys([tenant_id, GLOBAL_TENANT]))


async def factor_versions(
    conn: AsyncConnection,
    t: CatalogueTables,
    tenant_id: str,
    *,
    as_of: datetime | None = None,
    factor_id: str | None = None,
    activity_kind: str | None = None,
) -> list[FactorView]:
    """Every version of the matching factors the tenant may see, as known at `as_of`."""
    v = t.versions
    query = _versions_query(t).where(v.c.tenant_id.in_(visible(tenant_id)))
    if factor_id is not None:
        query = query.where(v.c.factor_id == factor_id)
    if activity_kind is not None:
        query = query.where(v.c.activity_kind == activity_kind)
    if as_of is not None:
        query = query.where(v.c.recorded_at <= as_of)
    rows = (await conn.execute(query)).all()
    latest: dict[str, int] = {}
    for row in rows:
        latest[row.factor_id] = max(latest.get(row.factor_id, 0), row.version)
    return await _views(conn, t, rows, tenant_id, as_of, latest)


def _versions_query(t: CatalogueTables) -> sa.Select[Any]:
    v, f = t.versions, t.factors
    return sa.select(v, f.c.latest_version, f.c.retired_from, f.c.retired_at).join(
        f, f.c.factor_id == v.c.factor_id
    )


async def _views(
    conn: AsyncConnection,
    t: CatalogueTables,
    rows: Sequence[Row],
    tenant_id: str,
    as_of: datetime | None,
    latest: dict[str, int] | None = None,
) -> list[FactorView]:
    ids = sorted({row.factor_id for row in rows})
    releases = await _memberships(conn, t, ids, tenant_id, as_of)
    return [_view(row, releases, as_of, latest) for row in rows]


def _view(
    row: Row,
    releases: dict[tuple[str, int], list[str]],
    as_of: datetime | None,
    latest: dict[str, int] | None,
) -> FactorView:
    retired_known = row.retired_at is not None and (as_of is None or row.retired_at <= as_of)
    return FactorView(
        factor_id=row.factor_id,
        version=row.version,
        latest_version=latest[row.factor_id] if latest else row.latest_version,
        tenant_id=row.tenant_id,
        activity_kind=row.activity_kind,
        component=row.component,
        values=FactorValues.model_validate(row.factor_values),
        retired_from=row.retired_from if retired_known else None,
        recorded_at=row.recorded_at,
        releases=sorted(releases.get((row.factor_id, row.version), [])),
    )


async def _memberships(
    conn: AsyncConnection,
    t: CatalogueTables,
    factor_ids: list[str],
    tenant_id: str,
    as_of: datetime | None,
) -> dict[tuple[str, int], list[str]]:
    m, r = t.members, t.releases
    query = (
        sa.select(m.c.factor_id, m.c.version, r.c.name)
        .join(r, r.c.release_id == m.c.release_id)
        .where(m.c.factor_id.in_(factor_ids), r.c.tenant_id.in_(visible(tenant_id)))
    )
    if as_of is not None:
        query = query.where(r.c.recorded_at <= as_of)
    found: dict[tuple[str, int], list[str]] = defaultdict(list)
    for row in await conn.execute(query):
        found[(row.factor_id, row.version)].append(row.name)
    return found


# ---- search ------------------------------------------------------------------------------


async def search(
    conn: AsyncConnection, t: CatalogueTables, request: SearchFactors, tenant_id: str
) -> FactorPage:
    """One page of the matching factors, with counts per facet over all matches."""
    where = _filters(t, request, tenant_id)
    v, f = t.versions, t.factors
    joined = v.join(f, f.c.factor_id == v.c.factor_id)
    total = (await conn.execute(sa.select(sa.func.count()).select_from(joined).where(*where))).one()
    order = (v.c.activity_kind, v.c.component, v.c.region, v.c.year.desc(), v.c.factor_id)
    page = _versions_query(t).where(*where).order_by(*order)
    page = page.offset((request.page - 1) * request.page_size).limit(request.page_size)
    rows = (await conn.execute(page)).all()
    return FactorPage(
        results=await _views(conn, t, rows, tenant_id, None),
        total=total[0],
        page=request.page,
        page_size=request.page_size,
        possible_filters={name: await _facet(conn, joined, where, v.c[name]) for name in FACETS},
    )


def _filters(t: CatalogueTables, request: SearchFactors, tenant_id: str) -> list[Any]:
    v, f = t.versions, t.factors
    where: list[Any] = [v.c.tenant_id.in_(visible(tenant_id))]
    for name in ("activity_kind", "component", "region", "source", "scope"):
        wanted = getattr(request, name)
        if wanted is not None:
            where.append(v.c[name] == wanted)
    if request.text:
        where += [v.c.search_text.contains(word) for word in request.text.lower().split()]
    if not request.include_retired:
        today = datetime.now(UTC).date()
        where.append(sa.or_(f.c.retired_from.is_(None), f.c.retired_from > today))
    if request.release is None:
        where.append(v.c.version == f.c.latest_version)
    else:
        where.append(_in_release(t, request.release, tenant_id))
    return where


def _in_release(t: CatalogueTables, name: str, tenant_id: str) -> Any:
    v, m, r = t.versions, t.members, t.releases
    return (
        sa.select(m.c.factor_id)
        .join(r, r.c.release_id == m.c.release_id)
        .where(
            r.c.name == name,
            r.c.tenant_id.in_(visible(tenant_id)),
            m.c.factor_id == v.c.factor_id,
            m.c.version == v.c.version,
        )
        .exists()
    )


async def _facet(
    conn: AsyncConnection, joined: sa.Join, where: list[Any], column: Any
) -> list[FacetCount]:
    count = sa.func.count().label("n")
    query = sa.select(column, count).select_from(joined).where(*where).group_by(column)
    rows = await conn.execute(query.order_by(count.desc(), column))
    return [FacetCount(value=str(row[0]), count=row[1]) for row in rows]


# ---- releases ----------------------------------------------------------------------------


async def releases(
    conn: AsyncConnection, t: CatalogueTables, tenant_id: str, name: str | None = None
) -> list[ReleaseView]:
    """The releases the tenant may see (its own and the global ones), by name."""
    r, m = t.releases, t.members
    query = sa.select(r).where(r.c.tenant_id.in_(visible(tenant_id))).order_by(r.c.name)
    if name is not None:
        query = query.where(r.c.name == name)
    found = (await conn.execute(query)).all()
    members: dict[str, list[ReleaseMember]] = defaultdict(list)
    ids = [row.release_id for row in found]
    member_rows = await conn.execute(
        sa.select(m).where(m.c.release_id.in_(ids)).order_by(m.c.factor_id, m.c.version)
    )
    for row in member_rows:
        members[row.release_id].append(ReleaseMember(factor_id=row.factor_id, version=row.version))
    return [
        ReleaseView(
            release_id=row.release_id,
            name=row.name,
            description=row.description,
            tenant_id=row.tenant_id,
            members=members[row.release_id],
            recorded_at=row.recorded_at,
        )
        for row in found
    ]
