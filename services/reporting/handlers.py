"""Reporting's endpoints and its consumer of compute's events."""

from __future__ import annotations

from typing import Any

from nats.aio.client import Client as NatsClient
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from contracts import reporting as r
from kernel.consumer import AfterCommit
from kernel.endpoints import CallContext
from kernel.envelope import RecordedEvent
from kernel.errors import RequestRefused
from kernel.runtime import Route
from services.reporting import queries
from services.reporting.projections import EmissionVersions


class Reporting:
    """Answers footprint, lineage and diff queries; keeps the emission versions current."""

    def __init__(
        self, engine: AsyncEngine, schema: str, versions: EmissionVersions, nc: NatsClient,
        namespace: str,
    ) -> None:  # fmt: skip
        self.engine, self.schema, self.versions = engine, schema, versions
        self.nc, self.namespace = nc, namespace

    def routes(self) -> list[Route[Any, Any]]:
        return [
            Route(r.FOOTPRINT, self.footprint),
            Route(r.LINEAGE, self.lineage),
            Route(r.DIFF, self.diff),
        ]

    async def footprint(self, ctx: CallContext, request: r.Footprint) -> r.FootprintAnswer:
        _check_period(request.filters)
        async with self.engine.connect() as conn:
            return await queries.footprint(conn, self.schema, ctx.tenant_id, request)

    async def lineage(self, ctx: CallContext, request: r.Lineage) -> r.LineageAnswer:
        _check_period(request.filters)
        async with self.engine.connect() as conn:
            return await queries.lineage(conn, self.schema, ctx.tenant_id, request)

    async def diff(self, ctx: CallContext, request: r.Diff) -> r.DiffAnswer:
        _check_period(request.filters)
        async with self.engine.connect() as conn:
            return await queries.diff(conn, self.schema, ctx.tenant_id, request)

    async def on_compute_event(
        self, event: RecordedEvent, conn: AsyncConnection
    ) -> AfterCommit | None:
        """Project the event; once committed, tell live subscribers their footprint moved."""
        row = await self.versions.apply(event, conn)
        if row is None:
            return None
        notice = r.FootprintChanged(
            tenant_id=event.tenant_id,
            source_id=row["source_id"],
            status=row["status"],
            compute_position=event.global_position,
        )
        subject = r.changes_subject(self.namespace, event.tenant_id)

        async def announce() -> None:
            await self.nc.publish(subject, notice.model_dump_json().encode())

        return announce


def _check_period(filters: r.Filters) -> None:
    if filters.period_end <= filters.period_start:
        raise RequestRefused(
            "invalid_period", "period_end must be after period_start", "filters.period_end"
        )
