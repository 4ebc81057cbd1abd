"""Emissions: one per activity (or request log), with lines and lineage; the unresolved queue."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import date
from typing import cast
from uuid import UUID

import strawberry
from strawberry.dataloader import DataLoader
from strawberry.scalars import JSON

from contracts import compute as c
from gateway.context import GatewayContext
from gateway.schema.common import PAGE_ARGUMENTS, READERS, GqlInfo, Kg, build, call
from kernel.errors import RemoteError


@strawberry.type(description="Which factor version a line used, and how it was found.")
class FactorRef:
    factor_id: strawberry.ID
    version: int
    releases: list[str]
    source: str
    region_used: str
    fallback: bool
    out_of_validity: bool


@strawberry.type(description="One component of an emission: a factor applied to a quantity.")
class EmissionLine:
    component: str
    scope: int
    scope2_basis: str | None
    category: int | None
    kg: Kg
    factor: FactorRef | None
    quantity: float
    unit: str

    @staticmethod
    def of(x: c.EmissionLine) -> EmissionLine:
        ref = FactorRef(**x.factor.model_dump()) if x.factor else None
        return EmissionLine(
            component=x.component,
            scope=x.scope,
            scope2_basis=x.scope2_basis,
            category=x.category,
            kg=Kg.of(x.kg),
            factor=ref,
            quantity=x.quantity,
            unit=x.unit,
        )


@strawberry.type(description="What an emission is about, down to the event of its input.")
class EmissionSource:
    kind: str
    id: strawberry.ID
    event_id: strawberry.ID
    stream_version: int
    sha256: str | None


@strawberry.type(description="An emission as computed, with everything it came from.")
class Emission:
    status: str = strawberry.field(description="calculated, unresolved or withdrawn")
    reason: str | None = None
    source: EmissionSource | None = None
    activity_kind: str | None = None
    post: str | None = None
    site: str | None = None
    country: str | None = None
    period_start: date | None = None
    period_end: date | None = None
    lines: list[EmissionLine] = strawberry.field(default_factory=list)
    total: Kg | None = None
    method: str | None = None
    breakdown: JSON | None = None

    @staticmethod
    def of(view: c.EmissionView) -> Emission:
        e = view.emission
        if e is None:
            return Emission(status=view.status, reason=view.reason)
        return Emission(
            status=view.status, reason=view.reason, source=_source(e.source),
            activity_kind=e.activity_kind, post=e.post, site=e.site, country=e.country,
            period_start=e.period_start, period_end=e.period_end,
            lines=[EmissionLine.of(x) for x in e.lines], total=Kg.of(e.total),
            method=f"{e.method.name}@{e.method.version}",
            breakdown=JSON(e.breakdown) if e.breakdown else None,
        )  # fmt: skip


def _source(s: c.Source) -> EmissionSource:
    return EmissionSource(
        kind=s.kind, id=strawberry.ID(str(s.id)), event_id=strawberry.ID(str(s.event_id)),
        stream_version=s.stream_version, sha256=s.sha256,
    )  # fmt: skip


def emissions_of(context: GatewayContext) -> DataLoader[UUID, Emission | None]:
    """The request's emission loader (made on first use)."""
    found = context.loaders.get("emissions")
    if found is None:
        found = context.loaders["emissions"] = _emission_loader(context)
    return cast("DataLoader[UUID, Emission | None]", found)


def _emission_loader(context: GatewayContext) -> DataLoader[UUID, Emission | None]:
    """Emissions by source id, fetched together for a page (one request per distinct id).

    compute has no batch `get` endpoint; the loader still deduplicates and runs the calls
    of a page concurrently instead of one after the other.
    """
    ctx = context.acting_as(*READERS)

    async def one(source_id: UUID) -> Emission | None:
        try:
            view = await context.services.call(c.GET, c.GetEmission(source_id=source_id), ctx)
        except RemoteError as error:
            if error.code == "not_found":
                return None
            raise
        return Emission.of(view)

    async def load(ids: Sequence[UUID]) -> list[Emission | None]:
        return list(await asyncio.gather(*(one(i) for i in ids)))

    return DataLoader(load_fn=load)


async def emission(info: GqlInfo, source_id: strawberry.ID) -> Emission | None:
    """The emission of an activity or request log (null until compute has seen it)."""
    request = build(c.GetEmission, source_id=source_id)
    return await emissions_of(info.context).load(request.source_id)


@strawberry.type(description="A source waiting for a factor: never silently zero.")
class UnresolvedActivity:
    source_id: strawberry.ID
    activity_kind: str
    country: str
    reason: str


@strawberry.type
class UnresolvedPage:
    items: list[UnresolvedActivity]
    next_cursor: str | None
    total: int


async def unresolved_activities(
    info: GqlInfo, first: int = 100, after: str | None = None
) -> UnresolvedPage:
    """Activities and logs without a figure yet, and why."""
    request = build(c.ListUnresolved, named=PAGE_ARGUMENTS, limit=first, after=after)
    page = await call(info, c.LIST_UNRESOLVED, request, *READERS)
    items = [
        UnresolvedActivity(
            source_id=strawberry.ID(str(i.source_id)),
            activity_kind=i.activity_kind,
            country=i.country,
            reason=i.reason,
        )
        for i in page.items
    ]
    return UnresolvedPage(items=items, next_cursor=page.next, total=page.total)
