"""Ledger mutations: record activities in batches, correct, retract; campaigns and forms."""

from __future__ import annotations

from datetime import date

import strawberry
from strawberry.scalars import JSON

from contracts import inventory as inv
from gateway.schema.activities import Activity
from gateway.schema.common import CAMPAIGNERS, WRITERS, GqlInfo, build, call, given


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
) -> Activity:
    """Correct an activity's quantity or period (integrator); its history keeps both."""
    request = build(
        inv.CorrectActivity,
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
    info: GqlInfo, id: strawberry.ID, reason: str, expected_version: int | None = None
) -> Activity:
    """Retract an activity (integrator): it stops counting, its history stays."""
    request = build(
        inv.RetractActivity, activity_id=id, reason=reason, expected_version=expected_version
    )
    return Activity.of(await call(info, inv.RETRACT, request, *WRITERS))


@strawberry.input
class QuestionInput:
    question_id: str
    prompt: str
    kind: str
    unit: str
    scale: float = 1.0


@strawberry.type(description="A question: its answer becomes `scale` x answer of `kind`.")
class Question:
    question_id: str
    prompt: str
    kind: str
    unit: str
    scale: float


@strawberry.type(description="A data-collection campaign.")
class Campaign:
    id: strawberry.ID
    name: str
    period_start: date
    period_end: date
    questions: list[Question]


async def open_campaign(
    info: GqlInfo, name: str, period_start: date, period_end: date, questions: list[QuestionInput]
) -> Campaign:
    """Open a data-collection campaign (compliance, admin)."""
    request = build(
        inv.OpenCampaign,
        name=name,
        period_start=period_start,
        period_end=period_end,
        questions=[vars(q) for q in questions],
    )
    c = await call(info, inv.OPEN_CAMPAIGN, request, *CAMPAIGNERS)
    return Campaign(
        id=strawberry.ID(str(c.campaign_id)),
        name=c.name,
        period_start=c.period_start,
        period_end=c.period_end,
        questions=[Question(**q.model_dump()) for q in c.questions],
    )


@strawberry.input
class AnswerInput:
    question_id: str
    quantity: float


@strawberry.type(description="A submitted form and the activities it became.")
class Submission:
    id: strawberry.ID
    campaign_id: strawberry.ID
    activity_ids: list[strawberry.ID]


async def submit_form(
    info: GqlInfo,
    campaign_id: strawberry.ID,
    site: str,
    region: str,
    answers: list[AnswerInput],
    idempotency_key: str | None = None,
) -> Submission:
    """Answer a campaign's questions (integrator, compliance)."""
    request = build(
        inv.SubmitForm,
        campaign_id=campaign_id,
        site=site,
        region=region,
        answers=[vars(a) for a in answers],
        idempotency_key=idempotency_key,
    )
    s = await call(info, inv.SUBMIT_FORM, request, *WRITERS, *CAMPAIGNERS)
    return Submission(
        id=strawberry.ID(str(s.submission_id)),
        campaign_id=strawberry.ID(str(s.campaign_id)),
        activity_ids=[strawberry.ID(str(i)) for i in s.activity_ids],
    )
