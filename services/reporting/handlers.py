"""Reporting's endpoints and its consumer of compute's events."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from nats.aio.client import Client as NatsClient
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from contracts import reporting as r
from kernel.consumer import AfterCommit
from kernel.endpoints import CallContext
from kernel.envelope import NewEvent, RecordedEvent, new_event_id
from kernel.errors import IdempotencyKeyReused, RequestRefused
from kernel.idempotency import Keyed, earlier, keyed
from kernel.runtime import Route
from kernel.store import EventStore
from services.reporting import generate, now, queries, series
from services.reporting.projections import EmissionVersions
from services.reporting.reports import Reports

log = logging.getLogger(__name__)


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
        key = keyed(request, request.idempotency_key, r.GENERATE_REPORT.verb, "report")
        if found := await earlier(self.store, ctx.tenant_id, key):
            report_id = r.ReportGenerated.from_recorded(found[0]).report_id
            return await self.get_report(ctx, r.GetReport(report_id=report_id))
        async with self.engine.connect() as conn:
            built = await generate.build_input(conn, self.schema, ctx.tenant_id, request)
        report_id, js = new_event_id(), self.nc.jetstream()
        files = await generate.store_files(
            js, self.namespace, ctx.tenant_id, report_id, built.source
        )
        event = generate.generated(report_id, request, built, files)
        try:
            view = await self._record(ctx, event, key)
        except BaseException:
            await _removed(generate.remove_files(js, self.namespace, files))
            raise
        if view.report_id != report_id:  # a concurrent retry's report is the answer
            await _removed(generate.remove_files(js, self.namespace, files))
        return view

    async def _record(self, ctx: CallContext, event: r.ReportGenerated, key: Keyed) -> r.ReportView:
        """Record the report, or answer the one a concurrent retry with its key recorded."""
        new = event.to_new_event(f"report-{event.report_id}", ctx)
        async with self.engine.begin() as conn:
            recorded = await _append(self.store, new, key, conn)
            if recorded.event_id == new.event_id:
                await self.reports.apply(recorded, conn)
            report = r.ReportGenerated.from_recorded(recorded)
            return await self.reports.get(conn, ctx.tenant_id, report.report_id)

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


async def _removed(removal: Awaitable[None]) -> None:
    # Best effort: files left in the bucket are unreferenced garbage, not a wrong answer, so
    # failing to remove them must not replace the request's own outcome.
    try:
        await removal
    except Exception:
        log.warning("report files not removed from the bucket", exc_info=True)


async def _append(
    store: EventStore, event: NewEvent, key: Keyed, conn: AsyncConnection
) -> RecordedEvent:
    """The ReportGenerated recorded: this one, or the one a concurrent retry recorded."""
    idempotency, reused = key
    try:
        [recorded] = await store.append(
            [event], expected_versions={event.stream_id: 0}, idempotency=idempotency, conn=conn
        )
    except IdempotencyKeyReused as error:
        raise (reused or RequestRefused(error.code, str(error), "idempotency_key")) from None
    return recorded


def _check_period(filters: r.Filters) -> None:
    if filters.period_end <= filters.period_start:
        raise RequestRefused(
            "invalid_period", "period_end must be after period_start", "filters.period_end"
        )
