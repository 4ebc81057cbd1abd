"""The inventory's endpoints: load state, let the domain decide, append and project at once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from nats.js.client import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from contracts import inventory as c
from kernel.appending import IdempotencyKey
from kernel.endpoints import CallContext
from kernel.envelope import NewEvent, RecordedEvent, new_event_id
from kernel.errors import ConcurrencyConflict, RequestRefused
from kernel.idempotency import earlier, key_reused, keyed
from kernel.runtime import Route
from kernel.store import EventStore, request_fingerprint
from services.inventory import queries
from services.inventory.appending import append_projected, on_own_stream, view_of
from services.inventory.campaign_handlers import Campaigns
from services.inventory.domain import (
    check_batch,
    decide_correction,
    decide_retraction,
    period_problems,
    recorded,
    refuse_on,
)
from services.inventory.projections import Ledger
from services.inventory.request_logs import StoredObject, read_back


class Inventory:
    """The handlers of one inventory process, sharing its store, read models and NATS."""

    def __init__(
        self, store: EventStore, js: JetStreamContext, namespace: str, max_answer_bytes: int
    ) -> None:
        self.store, self.js, self.namespace = store, js, namespace
        self.max_answer_bytes = max_answer_bytes  # the NATS server's max_payload
        self.ledger = Ledger(store.schema)

    @property
    def engine(self) -> AsyncEngine:
        return self.store.engine

    def routes(self) -> list[Route[Any, Any]]:
        return [
            Route(c.RECORD, self.record),
            Route(c.CORRECT, self.correct),
            Route(c.RETRACT, self.retract),
            Route(c.GET, self.get),
            Route(c.LIST, self.list_activities),
            Route(c.REGISTER_REQUEST_LOG, self.register_request_log),
            Route(c.LIST_REQUEST_LOGS, self.list_request_logs),
            *Campaigns(self.store, self.ledger).routes(),
        ]

    async def record(self, ctx: CallContext, req: c.RecordActivities) -> c.RecordOutcome:
        """Store the valid items in one atomic append; list the others by index and field."""
        checked = check_batch(req.activities, req.defaults)
        refuse_if_unanswerable(len(req.activities), checked.rejected, self.max_answer_bytes)
        ids: list[UUID | None] = [None] * len(req.activities)
        if not checked.accepted:
            return c.RecordOutcome(
                activity_ids=ids, accepted=0, rejected=checked.rejected, stored=False
            )
        events = [on_own_stream(recorded(a, new_event_id()), ctx) for _, a in checked.accepted]
        fingerprint = request_fingerprint(c.RECORD.verb, req.defaults, req.activities)
        key = IdempotencyKey(f"record:{req.idempotency_key}", fingerprint)
        stored = await self._append(events, key, key_reused(req.idempotency_key, "batch"))
        for (index, _), event in zip(checked.accepted, stored, strict=True):
            ids[index] = UUID(event.payload["activity_id"])
        return c.RecordOutcome(
            activity_ids=ids,
            accepted=len(stored),
            rejected=checked.rejected,
            stored=True,
            replayed=stored[0].event_id != events[0].event_id,
        )

    async def correct(self, ctx: CallContext, req: c.CorrectActivity) -> c.ActivityView:
        return await self._changed(ctx, req, c.CORRECT.verb, "correction")

    async def retract(self, ctx: CallContext, req: c.RetractActivity) -> c.ActivityView:
        return await self._changed(ctx, req, c.RETRACT.verb, "retraction")

    async def _changed(
        self, ctx: CallContext, req: c.CorrectActivity | c.RetractActivity, verb: str, what: str
    ) -> c.ActivityView:
        """Correct or retract; with an idempotency key, a retry answers the activity as it
        is instead of changing it again (or being refused: a retraction once done)."""
        key, reused = keyed(req, req.idempotency_key, verb, what)
        if await earlier(self.store, ctx.tenant_id, (key, reused)):
            return await self.get(ctx, c.GetActivity(activity_id=req.activity_id))
        async with self.engine.begin() as conn:
            state = await queries.activity_state(
                conn, self.ledger.t, ctx.tenant_id, req.activity_id
            )
            event = (
                decide_correction(state, req)
                if isinstance(req, c.CorrectActivity)
                else decide_retraction(state, req)
            )
            expected = req.expected_version or state.version
            await self._change(conn, ctx, event, expected, key, reused)
            return await queries.activity(conn, self.ledger.t, ctx.tenant_id, req.activity_id)

    async def get(self, ctx: CallContext, req: c.GetActivity) -> c.ActivityView:
        async with self.engine.connect() as conn:
            return await queries.activity(conn, self.ledger.t, ctx.tenant_id, req.activity_id)

    async def list_activities(self, ctx: CallContext, req: c.ListActivities) -> c.ActivityPage:
        async with self.engine.connect() as conn:
            return await queries.activities(conn, self.ledger.t, ctx.tenant_id, req)

    async def list_request_logs(self, ctx: CallContext, req: c.ListRequestLogs) -> c.RequestLogPage:
        async with self.engine.connect() as conn:
            return await queries.request_logs(conn, self.ledger.t, ctx.tenant_id, req)

    async def register_request_log(
        self, ctx: CallContext, req: c.RegisterRequestLog
    ) -> c.RequestLogView:
        """Check the uploaded object (hash, then every row), then record it with its check."""
        refuse_on(period_problems(req.period_start, req.period_end))
        async with self.engine.connect() as conn:
            registered = await queries.request_log_registered(
                conn, self.ledger.t, ctx.tenant_id, req.object_name
            )
        found = await read_back(
            self.js, self.namespace, ctx.tenant_id, req, remove_refused=not registered
        )
        event = _received(req, found, c.request_log_bucket(self.namespace))
        # The default mode stays out of the fingerprint: registrations from before modes match.
        asked = req.model_dump(
            mode="json", exclude={"bad_rows"} if req.bad_rows == "refuse" else None
        )
        fingerprint = request_fingerprint({**asked, "sha256": found.sha256})
        key = IdempotencyKey(f"request_log:{req.object_name}", fingerprint)
        reused = RequestRefused(
            "already_registered",
            f"object {req.object_name!r} is already registered with another hash, format, "
            "period, site or bad-row mode",
            "object_name",
        )
        stored = await self._append([on_own_stream(event, ctx)], key, reused)
        received = c.RequestLogReceived.from_recorded(stored[0])
        return view_of(c.RequestLogView, received)

    async def _change(
        self,
        conn: AsyncConnection,
        ctx: CallContext,
        event: c.ActivityCorrected | c.ActivityRetracted,
        expected: int,
        key: IdempotencyKey | None,
        reused: RequestRefused | None,
    ) -> None:
        stream = f"activity-{event.activity_id}"
        new = [event.to_new_event(stream, ctx)]
        try:
            await append_projected(
                self.store, self.ledger, conn, new, key, reused, {stream: expected}
            )
        except ConcurrencyConflict as conflict:
            raise RequestRefused(
                "concurrency_conflict",
                f"activity {event.activity_id} is at version {conflict.actual_version}, not "
                f"{conflict.expected_version}: it changed meanwhile; read it again and retry",
                "expected_version",
            ) from None

    async def _append(
        self,
        events: Sequence[NewEvent],
        idempotency: IdempotencyKey | None = None,
        reused: RequestRefused | None = None,
    ) -> list[RecordedEvent]:
        async with self.engine.begin() as conn:
            return await append_projected(
                self.store, self.ledger, conn, events, idempotency, reused
            )


def refuse_if_unanswerable(items: int, rejected: Sequence[c.Rejection], limit: int) -> None:
    """Refuse, storing nothing, a batch whose answer could not fit in one NATS message."""
    size = items * 40 + sum(len(r.model_dump_json()) + 1 for r in rejected) + 256
    if size <= limit:
        return
    first = rejected[0]
    raise RequestRefused(
        "too_many_rejections",
        f"{len({r.index for r in rejected})} of {items} items are rejected, too many to list "
        f"in one answer, so nothing was stored; the first is item {first.index} "
        f"({first.field}: {first.reason}); fix them or send smaller batches",
        "activities",
    )


def _received(req: c.RegisterRequestLog, found: StoredObject, bucket: str) -> c.RequestLogReceived:
    return c.RequestLogReceived(
        log_id=new_event_id(),
        bucket=bucket,
        object_name=req.object_name,
        sha256=found.sha256,
        size=found.size,
        format=req.format,
        period_start=req.period_start,
        period_end=req.period_end,
        site=req.site,
        row_count=found.check.rows_checked,
        schema_check=found.check,
        server=req.server,
    )
