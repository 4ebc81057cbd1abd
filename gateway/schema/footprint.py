"""The footprint: totals grouped by any dimensions, with ranges and shares; a monthly series."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Any

import strawberry

from contracts import reporting as r
from gateway.schema.common import READERS, GqlInfo, Kg, build, call, given


@strawberry.enum(description="What a footprint can be grouped by.")
class Dimension(Enum):
    SCOPE = "scope"
    SCOPE2_BASIS = "scope2_basis"
    CATEGORY = "category"
    POST = "post"
    COUNTRY = "country"
    DEVICE = "device"
    SITE = "site"
    MONTH = "month"
    ACTIVITY_KIND = "activity_kind"
    COMPONENT = "component"
    SOURCE_KIND = "source_kind"


@strawberry.input(
    description="Which emissions count: activities starting in the period. Country and device "
    "apply to each emission's parts: a request log's data-centre segment belongs to the "
    "server's country, its network and user-device segments to the client's country; an "
    'activity is whole in its own country and in device "unspecified". Device and country '
    "cannot be combined in one query."
)
class FootprintFilter:
    period_start: date
    period_end: date = strawberry.field(description="first day after the period")
    scope: int | None = None
    post: str | None = None
    country: str | None = None
    device: str | None = strawberry.field(default=None, description='"unspecified" for activities')
    site: str | None = None
    activity_kind: str | None = None


@strawberry.input(description="The ledger as known at a past instant or compute position.")
class AsOfInput:
    instant: datetime | None = None
    position: int | None = None


@strawberry.type
class GroupKey:
    dimension: str
    value: str | None


@strawberry.type
class FootprintGroup:
    key: list[GroupKey]
    kg: Kg
    share: float = strawberry.field(description="of the total value, 0..1")
    emissions: int


@strawberry.type(description="A footprint, read at one position of compute's log.")
class Footprint:
    total: Kg
    groups: list[FootprintGroup]
    unresolved: int = strawberry.field(description="sources in the filter without a figure yet")
    position: int

    @staticmethod
    def of(a: r.FootprintAnswer) -> Footprint:
        groups = [
            FootprintGroup(
                key=_keys(g.key),
                kg=Kg.of(g.kg),
                share=g.share,
                emissions=g.emissions,
            )
            for g in a.groups
        ]
        return Footprint(
            total=Kg.of(a.total), groups=groups, unresolved=a.unresolved, position=a.position
        )


@strawberry.type(description="One month's total.")
class MonthPoint:
    month: str = strawberry.field(description="YYYY-MM")
    kg: Kg


@strawberry.type(description="One group's total now and in a base period.")
class ComparedGroup:
    key: list[GroupKey]
    current: Kg
    base: Kg
    change_pct: float | None = strawberry.field(description="(current - base) / base x 100")


def _keys(key: dict[str, str | int | None]) -> list[GroupKey]:
    return [GroupKey(dimension=k, value=None if v is None else str(v)) for k, v in key.items()]


def filters(filter: FootprintFilter) -> dict[str, Any]:
    return given(**vars(filter))


def when(at: AsOfInput | None) -> dict[str, Any]:
    return given(**vars(at)) if at else {}


async def footprint_at(
    info: GqlInfo,
    filter: FootprintFilter,
    group_by: list[Dimension] | None,
    at: AsOfInput | None,
    *roles: str,
) -> Footprint:
    request = build(
        r.Footprint,
        filters=filters(filter),
        group_by=[d.value for d in group_by or []],
        as_of=when(at),
    )
    return Footprint.of(await call(info, r.FOOTPRINT, request, *roles))


async def footprint(
    info: GqlInfo, filter: FootprintFilter, group_by: list[Dimension] | None = None
) -> Footprint:
    """The organisation's footprint now, grouped by up to 4 dimensions."""
    return await footprint_at(info, filter, group_by, None, *READERS)


async def footprint_series(
    info: GqlInfo, filter: FootprintFilter, as_of: AsOfInput | None = None
) -> list[MonthPoint]:
    """The footprint month by month (every month of the period, zeros included)."""
    request = build(r.Timeseries, filters=filters(filter), as_of=when(as_of))
    found = await call(info, r.TIMESERIES, request, *READERS)
    return [MonthPoint(month=m.month, kg=Kg.of(m.kg)) for m in found.months]


async def compare_footprint(
    info: GqlInfo,
    filter: FootprintFilter,
    base_start: date,
    base_end: date,
    group_by: list[Dimension] | None = None,
) -> list[ComparedGroup]:
    """This period's footprint against a base period's, group by group."""
    request = build(
        r.Compare,
        filters=filters(filter),
        base_start=base_start,
        base_end=base_end,
        group_by=[d.value for d in group_by or []],
    )
    found = await call(info, r.COMPARE, request, *READERS)
    return [
        ComparedGroup(
            key=_keys(g.key), current=Kg.of(g.current), base=Kg.of(g.base), change_pct=g.change_pct
        )
        for g in found.groups
    ]
