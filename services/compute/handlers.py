"""Compute's endpoints: what-if estimates, one emission, the unresolved queue."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Sequence
from typing import Any
from uuid import UUID, uuid4

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts import compute as c
from kernel.endpoints import CallContext
from kernel.errors import RequestRefused
from kernel.runtime import Route
from services.compute.consumers import GRID_RELEASE
from services.compute.domain import ActivityState
from services.compute.outcomes import outcome_for
from services.compute.product import GRID_KIND, grid_factors
from services.compute.projections import ReadModels
from services.compute.request_estimate import requests_emission


class ComputeHandlers:
    def __init__(
        self,
        engine: AsyncEngine,
        models: ReadModels,
        releases: Sequence[str],
        *,
        allow_fallback: bool,
    ) -> None:
        self.engine, self.models = engine, models
        self.releases, self.allow_fallback = releases, allow_fallback

    def routes(self) -> list[Route[Any, Any]]:
        return [Route(c.ESTIMATE, self.estimate), Route(c.GET, self.get),
                Route(c.LIST_UNRESOLVED, self.list_unresolved)]  # fmt: skip

    async def estimate(self, ctx: CallContext, request: c.Estimate) -> c.Estimated:
        """The same calculation as for recorded activities, storing nothing."""
        items: list[c.EstimateItem] = []
        async with self.engine.connect() as conn:
            for index, what in enumerate(request.activities):
                activity = _what_if(ctx, what)
                outcome = await outcome_for(
                    conn,
                    self.models,
                    activity,
                    self.releases,
                    allow_fallback=request.allow_fallback,
                )
                items.append(_item(index, outcome))
        requests = await self._requests(ctx, request.requests) if request.requests else None
        totals = [i.emission.total for i in items if i.emission]
        return c.Estimated(
            items=items,
            requests=requests,
            total=_sum(totals + ([requests.total] if requests else [])),
        )

    async def _requests(self, ctx: CallContext, what: c.EstimateRequests) -> c.Emission:
        """What-if requests through the per-request core, on the grid a request log gets."""
        async with self.engine.connect() as conn:
            factors = await self.models.candidates(conn, GRID_KIND, ctx.tenant_id)
        chosen = grid_factors(factors, GRID_RELEASE)
        try:  # up to 10,000 rows: a worker thread keeps the event loop serving meanwhile
            return await asyncio.to_thread(
                requests_emission, what, chosen, GRID_RELEASE, source_id=uuid4(), event_id=uuid4()
            )
        except ValueError as error:  # the core's InputError too: it names the column
            raise RequestRefused("invalid_requests", str(error), "requests") from None

    async def get(self, ctx: CallContext, request: c.GetEmission) -> c.EmissionView:
        async with self.engine.connect() as conn:
            status = await self.models.emission_status(conn, request.source_id)
            tenant = await self._tenant_of(conn, request.source_id)
        if status is None or tenant != ctx.tenant_id:  # another tenant's is "not found" too
            raise RequestRefused("not_found", f"no emission for {request.source_id}", "source_id")
        return c.EmissionView(
            status=status.status,
            emission=status.emission,
            reason=status.reason,
            stream_version=status.version,
        )

    async def _tenant_of(self, conn: Any, source_id: UUID) -> str | None:
        e = self.models.t.emissions
        return await conn.scalar(sa.select(e.c.tenant_id).where(e.c.source_id == source_id))  # type: ignore[no-any-return]

    async def list_unresolved(
        self, ctx: CallContext, request: c.ListUnresolved
    ) -> c.UnresolvedPage:
        e = self.models.t.emissions
        mine = sa.and_(e.c.tenant_id == ctx.tenant_id, e.c.status == "unresolved")
        query = sa.select(e).where(mine).order_by(e.c.source_id).limit(request.limit + 1)
        if request.after:
            query = query.where(e.c.source_id > _cursor_id(request.after))
        async with self.engine.connect() as conn:
            rows = list(await conn.execute(query))
            total = int(await conn.scalar(sa.select(sa.func.count()).where(mine)) or 0)
        page = [_unresolved(r) for r in rows[: request.limit]]
        more = len(rows) > request.limit
        return c.UnresolvedPage(
            items=page, next=_cursor(page[-1].source_id) if more else None, total=total
        )


def _unresolved(row: Any) -> c.UnresolvedItem:
    return c.UnresolvedItem(
        source_id=row.source_id,
        activity_kind=row.activity_kind,
        country=row.country,
        reason=row.reason,
    )


def _what_if(ctx: CallContext, what: c.EstimateActivity) -> ActivityState:
    return ActivityState(
        activity_id=uuid4(),
        tenant_id=ctx.tenant_id,
        kind=what.kind,
        quantity=what.quantity,
        unit=what.unit,
        period_start=what.period_start,
        period_end=what.period_end,
        site=what.site,
        region=what.region,
        event_id=uuid4(),
        stream_version=0,
        attributes=what.attributes,
    )


def _item(index: int, outcome: c.Emission | str) -> c.EstimateItem:
    if isinstance(outcome, str):
        return c.EstimateItem(index=index, unresolved=outcome)
    return c.EstimateItem(index=index, emission=outcome)


def _sum(totals: Any) -> c.Kg:
    values = list(totals)
    return c.Kg(
        value=sum(t.value for t in values),
        min=sum(t.min for t in values),
        max=sum(t.max for t in values),
    )


def _cursor(source_id: UUID) -> str:
    return base64.urlsafe_b64encode(source_id.bytes).decode()


def _cursor_id(cursor: str) -> UUID:
    try:
        return UUID(bytes=base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError):
        raise RequestRefused("invalid_cursor", "not a cursor this endpoint gave", "after") from None
