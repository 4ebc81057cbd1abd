"""The audit endpoints every service gets from the kernel: its log's history and its chain.

The kernel knows no contract, so the service's composition root passes the specs in.
"""

from __future__ import annotations

from typing import Any, Protocol

from pydantic import BaseModel

from kernel.endpoints import CallContext, EndpointSpec
from kernel.envelope import RecordedEvent
from kernel.runtime import Route
from kernel.store import EventStore


class _HistoryRequest(Protocol):
    stream_id: str | None
    after_position: int
    limit: int


def audit_routes(
    store: EventStore, history: EndpointSpec[Any, Any], verify: EndpointSpec[Any, Any]
) -> list[Route[Any, Any]]:
    """Routes answering `history` and `verify` for `store`'s log."""

    async def answer_history(ctx: CallContext, request: _HistoryRequest) -> BaseModel:
        events = await _page(store, ctx.tenant_id, request)
        more = len(events) == request.limit
        page = {
            "events": [_logged(e) for e in events],
            "next_after_position": events[-1].global_position if more else None,
        }
        answer: BaseModel = history.response.model_validate(page)
        return answer

    async def answer_verify(ctx: CallContext, _: BaseModel) -> BaseModel:
        result = await store.verify_chain()
        answer: BaseModel = verify.response.model_validate(
            {
                "service": store.schema,
                "ok": result.ok,
                "checked": result.checked,
                "first_broken_position": result.first_broken_position,
                "reason": result.reason,
            }
        )
        return answer

    return [Route(history, answer_history), Route(verify, answer_verify)]


async def _page(store: EventStore, tenant_id: str, request: _HistoryRequest) -> list[RecordedEvent]:
    if request.stream_id is None:
        return await store.read_all(
            after=request.after_position, limit=request.limit, tenant_id=tenant_id
        )
    events = await store.read_stream(request.stream_id, tenant_id=tenant_id)
    after = [e for e in events if e.global_position > request.after_position]
    return after[: request.limit]


def _logged(event: RecordedEvent) -> dict[str, Any]:
    return {
        "event_id": event.event_id,
        "stream_id": event.stream_id,
        "stream_version": event.stream_version,
        "type": event.type,
        "schema_version": event.schema_version,
        "occurred_at": event.occurred_at,
        "recorded_at": event.recorded_at,
        "global_position": event.global_position,
        "causation_id": event.causation_id,
        "correlation_id": event.correlation_id,
        "actor": event.actor,
        "payload": event.payload,
        "hash": event.hash.hex(),
    }
