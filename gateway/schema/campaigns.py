"""Campaigns: questionnaire templates, opening a campaign, answering it, closing it."""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from contracts import campaigns as camp
from gateway.schema.common import (
    CAMPAIGNERS,
    PAGE_ARGUMENTS,
    READERS,
    WRITERS,
    GqlInfo,
    build,
    call,
    given,
)


@strawberry.type(description="One answer a choice question offers, and the kind it stands for.")
class TemplateChoice:
    value: str
    label: str
    kind: str | None


@strawberry.type(description="A template's question: a number in `unit`, or one of `choices`.")
class TemplateQuestion:
    question_id: str
    prompt: str
    unit: str | None
    minimum: float
    maximum: float | None
    required: bool
    choices: list[TemplateChoice]


@strawberry.type(
    description="How answers become an activity: factor x the product of the `multiply` "
    "answers, in `unit`, of `kind` or of the kind of the choice answering `kindFrom`."
)
class AnswerRule:
    rule_id: str
    kind: str | None
    kind_from: str | None
    multiply: list[str]
    factor: float
    unit: str


@strawberry.type(description="A questionnaire template; a survey's results are extrapolated.")
class CampaignTemplate:
    id: strawberry.ID
    title: str
    description: str
    survey: bool
    questions: list[TemplateQuestion]
    rules: list[AnswerRule]

    @staticmethod
    def of(t: camp.CampaignTemplate) -> CampaignTemplate:
        questions = [
            TemplateQuestion(
                **q.model_dump(exclude={"choices"}),
                choices=[TemplateChoice(**c.model_dump()) for c in q.choices],
            )
            for q in t.questions
        ]
        return CampaignTemplate(
            id=strawberry.ID(t.template_id), title=t.title, description=t.description,
            survey=t.survey, questions=questions,
            rules=[AnswerRule(**r.model_dump()) for r in t.rules],
        )  # fmt: skip


async def campaign_templates(info: GqlInfo) -> list[CampaignTemplate]:
    """The questionnaire templates a campaign can follow."""
    found = await call(info, camp.LIST_TEMPLATES, camp.ListTemplates(), *READERS)
    return [CampaignTemplate.of(t) for t in found.templates]


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
    template: CampaignTemplate | None
    headcount: int | None

    @staticmethod
    def of(c: camp.CampaignView) -> Campaign:
        return Campaign(
            id=strawberry.ID(str(c.campaign_id)),
            name=c.name,
            period_start=c.period_start,
            period_end=c.period_end,
            questions=[Question(**q.model_dump()) for q in c.questions],
            template=None if c.template is None else CampaignTemplate.of(c.template),
            headcount=c.headcount,
        )


async def open_campaign(
    info: GqlInfo,
    name: str,
    period_start: date,
    period_end: date,
    questions: list[QuestionInput] | None = None,
    template: str | None = None,
    headcount: int | None = None,
    idempotency_key: str | None = None,
) -> Campaign:
    """Open a data-collection campaign (compliance, admin): with a template (a survey needs
    the headcount), or with questions of its own. With an idempotency key, a retry answers
    the first opening (the same campaign) instead of opening another."""
    request = build(
        camp.OpenCampaign,
        **given(template=template, headcount=headcount, idempotency_key=idempotency_key),
        name=name,
        period_start=period_start,
        period_end=period_end,
        questions=[vars(q) for q in questions or []],
    )
    return Campaign.of(await call(info, camp.OPEN_CAMPAIGN, request, *CAMPAIGNERS))


@strawberry.type(description="A campaign and where its collection stands.")
class CampaignProgress:
    campaign: Campaign
    opened_at: datetime
    closed_at: datetime | None = strawberry.field(description="null while it takes forms")
    forms: int = strawberry.field(description="forms submitted so far")

    @staticmethod
    def of(p: camp.CampaignProgress) -> CampaignProgress:
        return CampaignProgress(
            campaign=Campaign.of(p.campaign), opened_at=p.opened_at, closed_at=p.closed_at,
            forms=p.forms,
        )  # fmt: skip


@strawberry.type
class CampaignPage:
    items: list[CampaignProgress]
    next_cursor: str | None


async def campaigns(info: GqlInfo, first: int = 50, after: str | None = None) -> CampaignPage:
    """The organisation's campaigns, in the order they were opened, each with its progress."""
    request = build(camp.ListCampaigns, named=PAGE_ARGUMENTS, limit=first, after=after)
    page = await call(info, camp.LIST_CAMPAIGNS, request, *READERS)
    return CampaignPage(
        items=[CampaignProgress.of(p) for p in page.items], next_cursor=page.next_cursor
    )


async def campaign(info: GqlInfo, id: strawberry.ID) -> CampaignProgress:
    """One of the organisation's campaigns, with its progress."""
    request = build(camp.GetCampaign, campaign_id=id)
    return CampaignProgress.of(await call(info, camp.GET_CAMPAIGN, request, *READERS))


@strawberry.input(description="An answer: a quantity, or the value of one of the choices.")
class AnswerInput:
    question_id: str
    quantity: float | None = None
    choice: str | None = None


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
        camp.SubmitForm,
        campaign_id=campaign_id,
        site=site,
        region=region,
        answers=[given(**vars(a)) for a in answers],
        idempotency_key=idempotency_key,
    )
    s = await call(info, camp.SUBMIT_FORM, request, *WRITERS, *CAMPAIGNERS)
    return Submission(
        id=strawberry.ID(str(s.submission_id)),
        campaign_id=strawberry.ID(str(s.campaign_id)),
        activity_ids=[strawberry.ID(str(i)) for i in s.activity_ids],
    )


@strawberry.type(description="A closed campaign: its response rate and, for a survey, the "
                 "activities extrapolating its answers to the headcount.")  # fmt: skip
class CampaignClosing:
    campaign_id: strawberry.ID
    headcount: int | None
    respondents: int
    response_rate: float | None
    factor: float | None = strawberry.field(description="headcount / respondents, if extrapolated")
    extrapolated_activity_ids: list[strawberry.ID]


async def close_campaign(
    info: GqlInfo, campaign_id: strawberry.ID, headcount: int | None = None
) -> CampaignClosing:
    """Close a campaign (compliance, admin): no more forms; a survey is extrapolated to the
    headcount (the opening's, or the one given). Closing again answers the first closing."""
    request = build(camp.CloseCampaign, campaign_id=campaign_id, **given(headcount=headcount))
    c = await call(info, camp.CLOSE_CAMPAIGN, request, *CAMPAIGNERS)
    return CampaignClosing(
        campaign_id=strawberry.ID(str(c.campaign_id)),
        headcount=c.headcount,
        respondents=c.respondents,
        response_rate=c.response_rate,
        factor=c.factor,
        extrapolated_activity_ids=[strawberry.ID(str(i)) for i in c.activity_ids],
    )
