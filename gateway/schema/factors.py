"""Factors and releases: search with facets, one factor (any version, as known then), resolve."""

from __future__ import annotations

from datetime import date, datetime

import strawberry
from strawberry.scalars import JSON

from contracts import factors as f
from gateway.schema.common import READERS, GqlInfo, build, call, given


@strawberry.type(description="The figures and provenance of one factor version.")
class FactorValues:
    unit: str
    kgco2e_per_unit: float
    min_kgco2e_per_unit: float | None
    max_kgco2e_per_unit: float | None
    uncertainty_pct: float | None
    gases: JSON
    region: str
    valid_from: date
    valid_until: date | None
    scope: int
    category: int | None
    source: str
    source_detail: str
    licence: str
    year: int
    description: str

    @staticmethod
    def of(v: f.FactorValues) -> FactorValues:
        return FactorValues(**v.model_dump(exclude={"gases"}), gases=JSON(dict(v.gases)))


@strawberry.type(description="One version of an emission factor.")
class Factor:
    factor_id: strawberry.ID
    version: int
    latest_version: int
    organisation: str = strawberry.field(description="owner; 'global' for the shared catalogue")
    activity_kind: str
    component: str
    values: FactorValues
    retired_from: date | None
    recorded_at: datetime
    releases: list[str]

    @staticmethod
    def of(v: f.FactorView) -> Factor:
        return Factor(
            factor_id=strawberry.ID(v.factor_id),
            version=v.version,
            latest_version=v.latest_version,
            organisation=v.tenant_id,
            activity_kind=v.activity_kind,
            component=v.component,
            values=FactorValues.of(v.values),
            retired_from=v.retired_from,
            recorded_at=v.recorded_at,
            releases=list(v.releases),
        )


@strawberry.type
class FacetValue:
    value: str
    count: int


@strawberry.type(description="The values a filter could take among the matches, with counts.")
class Facet:
    name: str
    values: list[FacetValue]


@strawberry.type
class FactorSearchResult:
    results: list[Factor]
    total: int
    page: int
    page_size: int
    facets: list[Facet]


@strawberry.input(description="Factor search filters; all optional.")
class FactorSearchInput:
    text: str | None = None
    activity_kind: str | None = None
    component: str | None = None
    region: str | None = None
    source: str | None = None
    scope: int | None = None
    release: str | None = None
    include_retired: bool = False


@strawberry.type
class ResolvedComponent:
    component: str
    factor: Factor
    region_used: str
    fallback: bool
    out_of_validity: bool


@strawberry.type(description="The factors that apply to an activity kind, region and day.")
class Resolution:
    activity_kind: str
    region: str
    on: date
    components: list[ResolvedComponent]
    unresolved: str | None


@strawberry.type
class ReleaseMember:
    factor_id: strawberry.ID
    version: int


@strawberry.type(description="A named, frozen set of factor versions.")
class Release:
    release_id: strawberry.ID
    name: str
    description: str
    organisation: str
    members: list[ReleaseMember]
    recorded_at: datetime


async def search_factors(
    info: GqlInfo,
    filter: FactorSearchInput | None = None,
    page: int = 1,
    page_size: int = 50,
) -> FactorSearchResult:
    """Search the catalogue (global factors and the organisation's own), with facets."""
    wanted = given(**vars(filter)) if filter else {}
    request = build(f.SearchFactors, **wanted, page=page, page_size=page_size)
    found = await call(info, f.SEARCH, request, *READERS)
    facets = [
        Facet(name=name, values=[FacetValue(value=c.value, count=c.count) for c in counts])
        for name, counts in sorted(found.possible_filters.items())
    ]
    results = [Factor.of(v) for v in found.results]
    return FactorSearchResult(
        results=results,
        total=found.total,
        page=found.page,
        page_size=found.page_size,
        facets=facets,
    )


async def factor(
    info: GqlInfo,
    factor_id: strawberry.ID,
    version: int | None = None,
    as_of: datetime | None = None,
) -> Factor:
    """One factor: its latest version, or `version`; as the catalogue knew it at `asOf`."""
    request = build(f.GetFactor, factor_id=factor_id, version=version, as_of=as_of)
    return Factor.of(await call(info, f.GET, request, *READERS))


async def resolve_factors(
    info: GqlInfo,
    activity_kind: str,
    region: str,
    on: date,
    releases: list[str] | None = None,
    allow_fallback: bool = False,
) -> Resolution:
    """Which factors compute would apply to this activity kind in `region` on `on`."""
    request = build(
        f.ResolveFactors,
        activity_kind=activity_kind,
        region=region,
        on=on,
        releases=releases,
        allow_fallback=allow_fallback,
    )
    found = await call(info, f.RESOLVE, request, *READERS)
    return Resolution(
        activity_kind=found.activity_kind, region=found.region, on=found.on,
        components=[_component(c) for c in found.components], unresolved=found.unresolved,
    )  # fmt: skip


def _component(c: f.ResolvedComponent) -> ResolvedComponent:
    return ResolvedComponent(
        component=c.component, factor=Factor.of(c.factor), region_used=c.region_used,
        fallback=c.fallback, out_of_validity=c.out_of_validity,
    )  # fmt: skip


async def releases(info: GqlInfo) -> list[Release]:
    """The factor releases (global ones and the organisation's own)."""
    found = await call(info, f.LIST_RELEASES, f.ListReleases(), *READERS)
    return [release_of(r) for r in found.releases]


def release_of(r: f.ReleaseView) -> Release:
    members = [
        ReleaseMember(factor_id=strawberry.ID(m.factor_id), version=m.version) for m in r.members
    ]
    return Release(
        release_id=strawberry.ID(r.release_id),
        name=r.name,
        description=r.description,
        organisation=r.tenant_id,
        members=members,
        recorded_at=r.recorded_at,
    )
