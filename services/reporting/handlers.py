"""Reporting's endpoints and its consumer of compute's events."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from nats.aio.client import Client as NatsClient
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from contracts import reporting as r
from kernel.consumer import AfterCommit
from kernel.endpoints import CallContext
from kernel.envelope import RecordedEvent, new_event_id
from kernel.errors import RequestRefused
from kernel.runtime import Route
from kernel.store import EventStore
from services.reporting import generate, now, queries, series
from services.reporting.projections import EmissionVersions
from services.reporting.reports import Reports


class Reporting:
    """Answers footprint, lineage, diff, series and report queries; generates CSRD reports
    (files in the object store, ReportGenerated in its own log); keeps the emission versions
    current."""

    def __init__(
        self, engine: AsyncEngine, schema: str, versions: EmissionVersions, nc: NatsClient,
        namespace: str,
    ) -> None:  # fmt: skip
        self.engine, self.schema, self.versions = engine, schema, versions
        self.nc, self.namespace = nc, namespace
        self.store = EventStore(engine, schema)
        self.reports = Reports(versions.t)
        self.answers = now.Answers(engine, schema)

    def routes(self) -> list[Route[Any, Any]]:
        return [
            Route(r.FOOTPRINT, self.footprint),
            Route(r.LINEAGE, self.lineage),
            Route(r.DIFF, self.diff),
            Route(r.TIMESERIES, self.timeseries),
            Route(r.COMPARE, self.compare),
            Route(r.UNRESOLVED, self.unresolved),
            Route(r.GENERATE_REPORT, self.generate_report),
            Route(r.GET_REPORT, self.get_report),
            Route(r.LIST_REPORTS, self.list_reports),
        ]

    async def _read(
        self, query: Callable[..., Awaitable[Any]], ctx: CallContext, request: Any
    ) -> Any:
        """A read for the caller's organisation over a checked period, on its own connection."""
        _check_period(request.filters)
        async with self.engine.connect() as conn:
            return await query(conn, self.schema, ctx.tenant_id, request)

    async def footprint(self, ctx: CallContext, request: r.Footprint) -> r.FootprintAnswer:
        """As known now: from the current tables (and answers kept against the tenant's
        stamp, services/reporting/now.py); as known at a past point: from the ledger."""
        if now.is_now(request.as_of):
            _check_period(request.filters)
            return await self.answers.footprint(ctx.tenant_id, request)
        answer: r.FootprintAnswer = await self._read(queries.footprint, ctx, request)
        return answer

    async def lineage(self, ctx: CallContext, request: r.Lineage) -> r.LineageAnswer:
        answer: r.LineageAnswer = await self._read(queries.lineage, ctx, request)
        return answer

    async def diff(self, ctx: CallContext, request: r.Diff) -> r.DiffAnswer:
        answer: r.DiffAnswer = await self._read(queries.diff, ctx, request)
        return answer

    async def timeseries(self, ctx: CallContext, request: r.Timeseries) -> r.TimeseriesAnswer:
        answer: r.TimeseriesAnswer = await self._read(series.timeseries, ctx, request)
        return answer

    async def compare(self, ctx: CallContext, request: r.Compare) -> r.CompareAnswer:
        _check_period(request.filters)
        if request.base_end <= request.base_start:
            raise RequestRefused("invalid_period", "base_end must be after base_start", "base_end")
        async with self.engine.connect() as conn:
            return await series.compare(conn, self.schema, ctx.tenant_id, request)

    async def unresolved(self, ctx: CallContext, request: r.ListUnresolved) -> r.UnresolvedPage:
        async with self.engine.connect() as conn:
            return await series.unresolved(conn, self.schema, ctx.tenant_id, request)

    async def generate_report(self, ctx: CallContext, request: r.GenerateReport) -> r.ReportView:
        """Read the ledger at the as-of, write and store the files, record ReportGenerated."""
        if request.period_end <= request.period_start:
            raise RequestRefused(
                "invalid_period", "period_end must be after period_start", "period_end"
            )
        async with self.engine.connect() as conn:
            built = await generate.build_input(conn, self.schema, ctx.tenant_id, request)
        report_id = new_event_id()
        files = await generate.store_files(
            self.nc.jetstream(), self.namespace, ctx.tenant_id, report_id, built.source
        )
        return await self._record(ctx, generate.generated(report_id, request, built, files))

    async def _record(self, ctx: CallContext, event: r.ReportGenerated) -> r.ReportView:
        stream = f"report-{event.report_id}"
        async with self.engine.begin() as conn:
            recorded = await self.store.append(
                [event.to_new_event(stream, ctx)], expected_versions={stream: 0}, conn=conn
            )
            await self.reports.apply(recorded[0], conn)
            return await self.reports.get(conn, ctx.tenant_id, event.report_id)

    async def get_report(self, ctx: CallContext, request: r.GetReport) -> r.ReportView:
        async with self.engine.connect() as conn:
            return await self.reports.get(conn, ctx.tenant_id, request.report_id)

    async def list_reports(self, ctx: CallContext, request: r.ListReports) -> r.ReportPage:
        async with self.engine.connect() as conn:
            return await self.reports.page(conn, ctx.tenant_id, request)

    async def on_compute_events(
        self, events: Sequence[RecordedEvent], conn: AsyncConnection
    ) -> AfterCommit | None:
        """Project the events; once committed, tell live subscribers their footprint moved."""
        rows = await self.versions.apply_batch(events, conn)
        if not rows:
            return None
        notices = [
            r.FootprintChanged(
                tenant_id=row["tenant_id"],
                source_id=row["source_id"],
                status=row["status"],
                compute_position=row["compute_position"],
            )
            for row in rows
        ]

        async def announce() -> None:
            for notice in notices:
                subject = r.changes_subject(self.namespace, notice.tenant_id)
                await self.nc.publish(subject, notice.model_dump_json().encode())

        return announce


def _check_period(filters: r.Filters) -> None:
    if filters.period_end <= filters.period_start:
        raise RequestRefused(
            "invalid_period", "period_end must be after period_start", "filters.period_end"
        )
