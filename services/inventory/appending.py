"""Appending the inventory's events: on their aggregate's stream, projected at once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeVar
from uuid import UUID

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts import campaigns as cp
from contracts import inventory as c
from kernel.appending import IdempotencyKey
from kernel.endpoints import CallContext
from kernel.envelope import NewEvent, RecordedEvent
from kernel.errors import IdempotencyKeyReused, RequestRefused
from kernel.events import DomainEvent
from kernel.store import EventStore
from services.inventory.projections import Ledger

V = TypeVar("V", bound=BaseModel)


async def append_projected(
    store: EventStore,
    ledger: Ledger,
    conn: AsyncConnection,
    events: Sequence[NewEvent],
    idempotency: IdempotencyKey | None = None,
    reused: RequestRefused | None = None,
    expected_versions: Mapping[str, int] | None = None,
) -> list[RecordedEvent]:
    """Append and project in `conn`'s transaction (a replayed append projects nothing new)."""
    try:
        stored = await store.append(
            events, expected_versions=expected_versions, idempotency=idempotency, conn=conn
        )
    except IdempotencyKeyReused as error:
        raise (reused or RequestRefused(error.code, str(error))) from None
    if stored[0].event_id == events[0].event_id:
        await ledger.apply_many(stored, conn)
    return stored


def view_of(view: type[V], event: DomainEvent) -> V:
    """The fields of `event` that `view` shows."""
    return view.model_validate(event.model_dump(include=set(view.model_fields)))


_STREAM_IDS = {
    c.ActivityRecorded: ("activity", "activity_id"),
    cp.CampaignOpened: ("campaign", "campaign_id"),
    cp.CampaignClosed: ("campaign", "campaign_id"),
    cp.FormSubmitted: ("submission", "submission_id"),
    c.RequestLogReceived: ("request_log", "log_id"),
}


def on_own_stream(event: DomainEvent, ctx: CallContext, cause: UUID | None = None) -> NewEvent:
    """`event` on its aggregate's stream, `<aggregate>-<uuid>`."""
    aggregate, id_field = _STREAM_IDS[type(event)]
    stream = f"{aggregate}-{getattr(event, id_field)}"
    return event.to_new_event(stream, ctx, causation_id=cause)
