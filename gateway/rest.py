"""REST for integrators: bulk activities (NDJSON or CSV) and request-log uploads, streamed.

The same roles, validation and idempotency as GraphQL: activities go to inventory's `record`
endpoint in batches (batch n of a request keyed `<Idempotency-Key>:<n>`, so a retry of the
same body answers the first outcome); request logs go to the object store under
`<organisation>/<name>`, then to inventory's `register_request_log`.
"""

from __future__ import annotations

import mimetypes
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.requests import HTTPConnection
from pydantic import BaseModel, ValidationError

from contracts import inventory as inv
from contracts import reporting as rep
from contracts.server_footprint import (
    KG_TEXT_HELP,
    AllocationBasis,
    FootprintKg,
    ServerFootprint,
    footprint_kg,
)
from gateway import bulk
from gateway.context import GatewayContext
from gateway.errors import GatewayError
from gateway.uploads import store_request_log
from kernel.endpoints import CallContext

ContextOf = Callable[[HTTPConnection], Awaitable[GatewayContext]]
KG = f"the servers' footprint for the period, {KG_TEXT_HELP}"
NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$"
NDJSON = ("application/x-ndjson", "application/jsonl", "application/json-lines")


class BulkOutcome(BaseModel):
    """What became of a bulk body: one id per item (null where refused), refusals by index."""

    activity_ids: list[UUID | None]
    accepted: int
    rejected: list[inv.Rejection]
    batches: int
    replayed: bool


def router(context_of: ContextOf) -> APIRouter:
    """The /v1 routes; `context_of` authenticates the caller as GraphQL does."""
    routes = APIRouter(prefix="/v1", tags=["integrators"])

    @routes.post("/activities", response_model=BulkOutcome)
    async def record_activities(
        request: Request,
        idempotency_key: Annotated[str, Header(min_length=1, max_length=150)],
    ) -> BulkOutcome:
        """Record activities from an NDJSON (one object a line) or CSV (header row) body."""
        context = await context_of(request)
        ctx = context.acting_as("integrator")
        items = _parser(request)(bulk.lines(bulk.spooled(request.stream())))
        return await _record(context, ctx, items, idempotency_key)

    @routes.post("/request-logs", response_model=inv.RequestLogView)
    async def upload_request_log(
        request: Request,
        name: Annotated[str, Query(pattern=NAME)],
        format: inv.LogFormat,
        period_start: date,
        period_end: date,
        site: Annotated[str, Query(min_length=1, max_length=200)],
        bad_rows: inv.BadRows = "refuse",
        server_use_kg: Annotated[str | None, Query(max_length=100, description=KG)] = None,
        server_embedded_kg: Annotated[str | None, Query(max_length=100, description=KG)] = None,
        server_allocation: AllocationBasis = "requests",
        server_period_total: Annotated[float | None, Query(gt=0, allow_inf_nan=False)] = None,
        server_source: Annotated[str, Query(max_length=500)] = "",
    ) -> inv.RequestLogView:
        """Upload a request-log file (the raw body), then check and register it.

        Rows breaking the row rules refuse the file (`bad_rows=refuse`, the default: nothing
        is kept) or are counted and left out of computations (`bad_rows=accept`).
        `server_use_kg` (and `server_embedded_kg`): the servers' footprint over the period,
        shared among its requests (`server_allocation` requests or bytes; without
        `server_period_total`, the log is the whole period), replacing SWD's data centre."""
        server = _server_footprint(
            server_use_kg, server_embedded_kg, server_allocation, server_period_total,
            server_source,
        )  # fmt: skip
        context = await context_of(request)
        ctx = context.acting_as("integrator")
        object_name = f"{ctx.tenant_id}/{name}"
        sha256 = await store_request_log(context, object_name, request)
        registration = inv.RegisterRequestLog(
            object_name=object_name,
            sha256=sha256,
            format=format,
            period_start=period_start,
            period_end=period_end,
            site=site,
            bad_rows=bad_rows,
            server=server,
        )
        return await context.services.call(inv.REGISTER_REQUEST_LOG, registration, ctx)

    @routes.get("/reports/{report_id}/{file_name}")
    async def download_report_file(request: Request, report_id: UUID, file_name: str) -> Response:
        """One file of a generated report (its organisation's only), as stored."""
        context = await context_of(request)
        ctx = context.acting_as("auditor", "compliance")
        view = await context.services.call(rep.GET_REPORT, rep.GetReport(report_id=report_id), ctx)
        found = [f for f in view.files if f.name == file_name]
        if not found:
            raise GatewayError("NOT_FOUND", f"report {report_id} has no file {file_name!r}", "file")
        store = await context.nc.jetstream().object_store(rep.reports_bucket(context.namespace))
        data = (await store.get(found[0].object_name)).data or b""
        kind = mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        headers = {
            "Content-Disposition": f'attachment; filename="{file_name}"',
            "X-Content-SHA256": found[0].sha256,
        }
        return Response(data, media_type=kind, headers=headers)

    return routes


def _parser(request: Request) -> Callable[[AsyncIterator[str]], AsyncIterator[bulk.Parsed]]:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind in NDJSON:
        return bulk.ndjson_items
    if kind == "text/csv":
        return bulk.csv_items
    raise GatewayError("UNSUPPORTED_MEDIA_TYPE", "send text/csv or application/x-ndjson")


async def _record(
    context: GatewayContext, ctx: CallContext, items: AsyncIterator[bulk.Parsed], key: str
) -> BulkOutcome:
    """Send the items batch by batch; batch n is idempotent under `<key>:<n>`."""
    tally = _Tally()
    async for batch in bulk.batches(items, tally.refused):
        request = inv.RecordActivities(
            idempotency_key=f"{key}:{tally.sent}", activities=batch.items
        )
        tally.add(batch, await context.services.call(inv.RECORD, request, ctx))
    return tally.outcome()


@dataclass
class _Tally:
    """The outcomes of a body's batches, put back in the body's order."""

    refused: list[inv.Rejection] = field(default_factory=list)
    ids: dict[int, UUID | None] = field(default_factory=dict)
    sent: int = 0
    replayed: bool = True

    def add(self, batch: bulk.Batch, outcome: inv.RecordOutcome) -> None:
        self.ids.update(zip(batch.indexes, outcome.activity_ids, strict=True))
        at = batch.indexes
        self.refused += [r.model_copy(update={"index": at[r.index]}) for r in outcome.rejected]
        self.sent, self.replayed = self.sent + 1, self.replayed and outcome.replayed

    def outcome(self) -> BulkOutcome:
        for r in self.refused:
            self.ids.setdefault(r.index, None)
        ordered = [self.ids[i] for i in sorted(self.ids)]
        return BulkOutcome(
            activity_ids=ordered, accepted=sum(1 for i in ordered if i is not None),
            rejected=sorted(self.refused, key=lambda r: r.index), batches=self.sent,
            replayed=self.sent > 0 and self.replayed,
        )  # fmt: skip


def _server_footprint(
    use_kg: str | None, embedded_kg: str | None, allocation: AllocationBasis,
    period_total: float | None, source: str,
) -> ServerFootprint | None:  # fmt: skip
    """The upload's server footprint, None without one; refused before anything is stored,
    naming the parameter at fault."""
    if use_kg is None and embedded_kg is None:
        return None
    use, embedded = _kg("server_use_kg", use_kg), _kg("server_embedded_kg", embedded_kg)
    try:
        return ServerFootprint(
            use_kg=use, embedded_kg=embedded, allocation=allocation,
            period_total=period_total, source=source,
        )  # fmt: skip
    except ValidationError as error:
        first = error.errors()[0]
        field = f"server_{first['loc'][0]}" if first["loc"] else "server_use_kg"
        raise GatewayError("INVALID_SERVER_FOOTPRINT", f"{field}: {first['msg']}", field) from None


def _kg(field: str, text: str | None) -> FootprintKg:
    try:
        return footprint_kg(text or "0")
    except ValidationError as error:  # a range out of order, a negative figure
        reason = "; ".join(str(e["msg"]) for e in error.errors())
    except ValueError as error:  # not a number
        reason = str(error)
    raise GatewayError("INVALID_SERVER_FOOTPRINT", f"{field}: {reason}", field)
