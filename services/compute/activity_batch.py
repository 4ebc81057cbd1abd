"""Emissions of a batch of activity events, read and recorded in a few statements.

The consumer hands compute the fresh events of one transaction at once. Computing them one
by one cost four round trips per activity besides the activity copy (factor stamp, emission
status, append, projection); here the stamps and statuses of the whole batch are read in
one query each, every emission event goes in one append, and the current-emissions table
takes one upsert. Decisions are still made event by event, in order: an activity met twice
in a batch is decided against the status its first event left, kept in memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from contracts import compute as c
from contracts.compute import Cause
from kernel.endpoints import CallContext
from kernel.envelope import NewEvent, RecordedEvent
from kernel.events import DomainEvent
from kernel.store import EventStore
from services.compute.current_emissions import project, read_statuses
from services.compute.domain import ActivityState, EmissionStatus, decide
from services.compute.outcomes import outcome_for
from services.compute.projections import ReadModels


@dataclass(frozen=True)
class Change:
    """An activity whose emission an event may change: what changed it and why."""

    activity: ActivityState
    cause: Cause
    trigger: RecordedEvent


@dataclass
class Pending:
    """Emission events decided in this batch, and each stream's status as they leave it."""

    statuses: dict[UUID, EmissionStatus | None]
    expected: dict[str, int] = field(default_factory=dict)
    events: list[NewEvent] = field(default_factory=list)
    decided: list[DomainEvent] = field(default_factory=list)  # the payloads of `events`


async def record_changes(
    conn: AsyncConnection, store: EventStore, models: ReadModels, changes: Sequence[Change],
    releases: Sequence[str], *, allow_fallback: bool,
) -> None:  # fmt: skip
    """Decide and record the emission of every change, in order, in one append."""
    if not changes:
        return
    stamps = await models.factors.stamps(conn, {ch.activity.kind for ch in changes})
    sources = {ch.activity.activity_id for ch in changes}
    pending = Pending(await emission_statuses(conn, models, sources))
    for change in changes:
        outcome = await outcome_for(
            conn, models, change.activity, releases,
            allow_fallback=allow_fallback, stamp=stamps[change.activity.kind],
        )  # fmt: skip
        previous = pending.statuses.get(change.activity.activity_id)
        decided = decide(change.activity, outcome, previous, change.cause)
        if decided is not None:
            _add(pending, change, decided, previous)
    if pending.events:
        recorded = await store.append(pending.events, expected_versions=pending.expected, conn=conn)
        await project(conn, models.t.emissions, zip(pending.decided, recorded, strict=True))


def _add(
    pending: Pending, change: Change, decided: DomainEvent, previous: EmissionStatus | None
) -> None:
    activity, trigger = change.activity, change.trigger
    stream = f"emission-{activity.activity_id}"
    before = previous.version if previous else 0
    pending.expected.setdefault(stream, before)
    ctx = emission_context(trigger, activity.tenant_id)
    pending.events.append(decided.to_new_event(stream, ctx, causation_id=trigger.event_id))
    pending.decided.append(decided)
    pending.statuses[activity.activity_id] = status_after(decided, before + 1)


def emission_context(trigger: RecordedEvent, tenant_id: str) -> CallContext:
    # The emission belongs to the activity's organisation, whoever caused the change
    # (a global factor revision restates every organisation's emissions, each its own).
    return CallContext(
        tenant_id=tenant_id,
        role="service",
        actor="compute",
        correlation_id=trigger.correlation_id or trigger.event_id,
    )


def status_after(decided: DomainEvent, version: int) -> EmissionStatus:
    """What `emission_status` reads once `decided` is projected at `version`."""
    if isinstance(decided, c.EmissionCalculated | c.EmissionRestated):
        return EmissionStatus("calculated", decided.emission, None, version)
    if isinstance(decided, c.EmissionUnresolved):
        return EmissionStatus("unresolved", None, decided.reason, version)
    return EmissionStatus("withdrawn", None, None, version)


async def emission_statuses(
    conn: AsyncConnection, models: ReadModels, source_ids: Iterable[UUID]
) -> dict[UUID, EmissionStatus | None]:
    """`ReadModels.emission_status` of many sources at once (None: no emission yet): one
    array parameter, however many sources (a release may restate thousands)."""
    ids = list(source_ids)
    found: dict[UUID, EmissionStatus | None] = dict.fromkeys(ids)
    return found | await read_statuses(conn, models.t.emissions, ids)
