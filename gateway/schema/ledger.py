"""Ledger mutations: record activities in batches, correct, retract (campaigns: campaigns.py)."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import date
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.schema.name_converter import NameConverter
from strawberry.types import get_object_definition
from strawberry.types.arguments import InputContext

from contracts import inventory as inv
from gateway.schema.activities import Activity
from gateway.schema.common import WRITERS, GqlInfo, build, call, given


@strawberry.input(description="One activity; fields left out come from the batch's defaults.")
class ActivityInput:
    kind: str | None = None
    quantity: float | None = None
    unit: str | None = None
    period_start: date | None = None
    period_end: date | None = None
    site: str | None = None
    region: str | None = None
    source: str | None = None
    attributes: JSON | None = None


def _activity_from_input(cls: type, value: Mapping[str, Any], context: InputContext) -> Any:
    # Every field of ActivityInput is a scalar graphql-core has already parsed (a test holds
    # it so), so each goes in as it is. Strawberry's own conversion resolved each field's
    # type again for every item of a batch: three quarters of a recordActivities' execution.
    names = _python_names(context.config.name_converter)
    return cls(**{names[key]: item for key, item in value.items()})


@functools.cache
def _python_names(converter: NameConverter) -> dict[str, str]:
    fields = get_object_definition(ActivityInput, strict=True).fields
    return {converter.from_field(field): field.python_name for field in fields}


get_object_definition(ActivityInput, strict=True).from_input = _activity_from_input


@strawberry.type(description="Why one item of a batch was refused.")
class Rejection:
    index: int
    field: str
    reason: str


@strawberry.type(description="Accepted items are stored together; refused ones are listed.")
class RecordActivitiesPayload:
    activity_ids: list[strawberry.ID | None] = strawberry.field(
        description="one per item, in order; null where it was refused"
    )
    accepted: int
    rejected: list[Rejection]
    stored: bool
    replayed: bool = strawberry.field(description="this answers a retry of an earlier request")


def _item(item: ActivityInput) -> dict[str, object]:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in given(**vars(item)).items()}


async def record_activities(
    info: GqlInfo,
    idempotency_key: str,
    activities: list[ActivityInput],
    defaults: ActivityInput | None = None,
) -> RecordActivitiesPayload:
    """Record a batch (integrator); a retry with the same key answers the first request."""
    request = build(
        inv.RecordActivities,
        idempotency_key=idempotency_key,
        activities=[_item(a) for a in activities],
        defaults=_item(defaults) if defaults else {},
    )
    return payload_of(await call(info, inv.RECORD, request, *WRITERS))


def payload_of(o: inv.RecordOutcome) -> RecordActivitiesPayload:
    ids = [strawberry.ID(str(i)) if i else None for i in o.activity_ids]
    rejected = [Rejection(index=x.index, field=x.field, reason=x.reason) for x in o.rejected]
    return RecordActivitiesPayload(
        activity_ids=ids,
        accepted=o.accepted,
        rejected=rejected,
        stored=o.stored,
        replayed=o.replayed,
    )


async def correct_activity(
    info: GqlInfo,
    id: strawberry.ID,
    quantity: float,
    unit: str,
    period_start: date,
    period_end: date,
    reason: str,
    expected_version: int | None = None,
    idempotency_key: str | None = None,
) -> Activity:
    """Correct an activity's quantity or period (integrator); its history keeps both. With an
    idempotency key, a retry answers the activity instead of correcting it again."""
    request = build(
        inv.CorrectActivity,
        idempotency_key=idempotency_key,
        activity_id=id,
        quantity=quantity,
        unit=unit,
        period_start=period_start,
        period_end=period_end,
        reason=reason,
        expected_version=expected_version,
    )
    return Activity.of(await call(info, inv.CORRECT, request, *WRITERS))


async def retract_activity(
    info: GqlInfo,
    id: strawberry.ID,
    reason: str,
    expected_version: int | None = None,
    idempotency_key: str | None = None,
) -> Activity:
    """Retract an activity (integrator): it stops counting, its history stays. With an
    idempotency key, a retry answers the retracted activity instead of a refusal."""
    request = build(
        inv.RetractActivity,
        activity_id=id,
        reason=reason,
        expected_version=expected_version,
        idempotency_key=idempotency_key,
    )
    return Activity.of(await call(info, inv.RETRACT, request, *WRITERS))
