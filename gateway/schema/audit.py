"""Audit (auditor, compliance, admin): each service's history and chain, lineage, the past."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry
from strawberry.scalars import JSON

from contracts import audit as a
from contracts import reporting as r
from gateway.schema.common import AUDITORS, PAGE_ARGUMENTS, GqlInfo, Kg, build, call
from gateway.schema.emissions import EmissionLine
from gateway.schema.footprint import (
    AsOfInput,
    Dimension,
    Footprint,
    FootprintFilter,
    filters,
    footprint_at,
    when,
)


@strawberry.enum(description="The services that keep an event log.")
class Service(Enum):
    FACTORS = "factors"
    INVENTORY = "inventory"
    COMPUTE = "compute"
    REPORTING = "reporting"


@strawberry.type(description="One event of a service's log, as stored.")
class LoggedEvent:
    event_id: strawberry.ID
    stream_id: str
    stream_version: int
    type: str
    schema_version: int
    occurred_at: datetime
    recorded_at: datetime
    global_position: int
    causation_id: strawberry.ID | None
    correlation_id: strawberry.ID | None
    actor: str
    payload: JSON
    hash: str

    @staticmethod
    def of(e: a.LoggedEvent) -> LoggedEvent:
        data = e.model_dump(exclude={"event_id", "causation_id", "correlation_id", "payload"})
        return LoggedEvent(
            event_id=_id(e.event_id),
            causation_id=_id(e.causation_id),
            correlation_id=_id(e.correlation_id),
            payload=JSON(e.payload),
            **data,
        )


def _id(value: object) -> strawberry.ID:
    return strawberry.ID(str(value)) if value is not None else None  # type: ignore[return-value]


@strawberry.type
class HistoryPage:
    events: list[LoggedEvent]
    next_after_position: int | None


@strawberry.type(description="Whether a service's hash chain holds end to end.")
class Verification:
    service: str
    ok: bool
    checked: int
    first_broken_position: int | None
    reason: str | None


@strawberry.type(description="One figure traced to its inputs.")
class LineageItem:
    source_id: strawberry.ID
    source_kind: str
    activity_kind: str
    status: str
    total: Kg | None
    lines: list[EmissionLine]
    compute_event_id: strawberry.ID
    compute_position: int
    source_event_id: strawberry.ID | None
    sha256: str | None


@strawberry.type
class Lineage:
    items: list[LineageItem]
    position: int


@strawberry.type(description="One source's figure before and after, and what changed it.")
class DiffItem:
    source_id: strawberry.ID
    activity_kind: str
    before: Kg | None
    after: Kg | None
    cause: str | None
    compute_event_id: strawberry.ID | None


@strawberry.type
class RestatementDiff:
    items: list[DiffItem]
    total_before: Kg
    total_after: Kg


async def audit_history(
    info: GqlInfo,
    service: Service,
    stream_id: str | None = None,
    after_position: int = 0,
    first: int = 100,
) -> HistoryPage:
    """A page of a service's log (the organisation's events only)."""
    request = build(
        a.History,
        named=PAGE_ARGUMENTS,
        stream_id=stream_id,
        after_position=after_position,
        limit=first,
    )
    page = await call(info, a.history_spec(service.value), request, *AUDITORS)
    events = [LoggedEvent.of(e) for e in page.events]
    return HistoryPage(events=events, next_after_position=page.next_after_position)


async def verify_log(info: GqlInfo, service: Service) -> Verification:
    """Check a service's hash chain; the first broken link is named."""
    v = await call(info, a.verify_spec(service.value), a.Verify(), *AUDITORS)
    return Verification(**v.model_dump())


async def lineage(
    info: GqlInfo, filter: FootprintFilter, as_of: AsOfInput | None = None, first: int = 100
) -> Lineage:
    """Every figure of a footprint, traced to the compute event and its input event."""
    request = build(
        r.Lineage, named=PAGE_ARGUMENTS, filters=filters(filter), as_of=when(as_of), limit=first
    )
    found = await call(info, r.LINEAGE, request, *AUDITORS)
    items = [
        LineageItem(
            source_id=_id(i.source_id),
            source_kind=i.source_kind,
            activity_kind=i.activity_kind,
            status=i.status,
            total=Kg.of(i.total) if i.total else None,
            lines=[EmissionLine.of(x) for x in i.lines],
            compute_event_id=_id(i.compute_event_id),
            compute_position=i.compute_position,
            source_event_id=_id(i.source_event_id),
            sha256=i.sha256,
        )
        for i in found.items
    ]
    return Lineage(items=items, position=found.position)


async def footprint_as_known_at(
    info: GqlInfo,
    filter: FootprintFilter,
    as_of: AsOfInput,
    group_by: list[Dimension] | None = None,
) -> Footprint:
    """The footprint as the ledger stood at a past instant or position (a past report)."""
    return await footprint_at(info, filter, group_by, as_of, *AUDITORS)


async def restatement_diff(
    info: GqlInfo, filter: FootprintFilter, before: AsOfInput, after: AsOfInput | None = None
) -> RestatementDiff:
    """What changed between two states of the ledger, source by source, and why."""
    request = build(r.Diff, filters=filters(filter), before=when(before), after=when(after))
    found = await call(info, r.DIFF, request, *AUDITORS)
    items = [
        DiffItem(
            source_id=_id(i.source_id),
            activity_kind=i.activity_kind,
            before=Kg.of(i.before) if i.before else None,
            after=Kg.of(i.after) if i.after else None,
            cause=i.cause,
            compute_event_id=_id(i.compute_event_id),
        )
        for i in found.items
    ]
    return RestatementDiff(
        items=items, total_before=Kg.of(found.total_before), total_after=Kg.of(found.total_after)
    )
