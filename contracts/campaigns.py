"""The inventory's collection campaigns: questionnaire templates, forms, closing.

A campaign either follows a template (its questions, and rules saying how answers become
activities) or asks its own questions (each answer times `scale` is one activity). Closing a
survey campaign extrapolates the respondents' activities to the whole headcount.
Endpoints are `<namespace>.inventory.<verb>`, like the ledger's.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from kernel.endpoints import ROLES, EndpointSpec
from kernel.envelope import JsonObject
from kernel.events import DomainEvent
from kernel.upcasting import Upcasters

SERVICE = "inventory"
ID = r"^[a-z0-9_]+$"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# ---- templates ---------------------------------------------------------------------------


class Choice(_Model):
    value: str = Field(min_length=1, max_length=64, pattern=ID)
    label: str
    kind: str | None = None  # the activity kind this answer stands for, if it selects one


class TemplateQuestion(_Model):
    """A question of a template: a number (in `unit`, within bounds) or one of `choices`."""

    question_id: str = Field(min_length=1, max_length=64, pattern=ID)
    prompt: str
    unit: str | None = None  # what a number answer counts, e.g. km or days per week
    minimum: float = 0.0
    maximum: float | None = None
    choices: list[Choice] = Field(default_factory=list)
    required: bool = True


class AnswerRule(_Model):
    """One activity from a form: `factor` x the product of the `multiply` answers, in `unit`,
    of kind `kind` or of the kind of the choice answering `kind_from`. No activity when an
    optional multiplied question is left unanswered."""

    rule_id: str = Field(pattern=ID)
    kind: str | None = None
    kind_from: str | None = None
    multiply: list[str] = Field(min_length=1)
    factor: float = Field(default=1.0, gt=0, allow_inf_nan=False)
    unit: str


class CampaignTemplate(_Model):
    template_id: str = Field(pattern=ID)
    title: str
    description: str
    survey: bool  # answered per person: closing extrapolates to the headcount
    questions: list[TemplateQuestion]
    rules: list[AnswerRule]


# ---- events ----------------------------------------------------------------------------


class CampaignQuestion(_Model):
    """One question of a campaign: its answer becomes `scale` x answer of `kind` in `unit`.

    E.g. "km commuted by bus per week" with kind commute_bus_diesel, unit km, scale 47
    (working weeks in the campaign's period).
    """

    question_id: str = Field(min_length=1, max_length=64, pattern=ID)
    prompt: str = Field(min_length=1, max_length=500)
    kind: str
    unit: str
    scale: float = Field(default=1.0, gt=0, allow_inf_nan=False)


class CampaignOpened(DomainEvent):
    """v2 adds the template the campaign follows (as it was then) and the headcount."""

    event_type = "CampaignOpened"
    schema_version = 2
    campaign_id: UUID
    name: str
    period_start: date
    period_end: date
    questions: list[CampaignQuestion]  # empty when the campaign follows a template
    template: CampaignTemplate | None = None
    headcount: int | None = None


class FormAnswer(_Model):
    """An answer: a number, or the value of one of the question's choices."""

    question_id: str
    quantity: float | None = Field(default=None, allow_inf_nan=False)
    choice: str | None = None

    @model_validator(mode="after")
    def _one_answer(self) -> Self:
        if (self.quantity is None) == (self.choice is None):
            raise ValueError("give exactly one of quantity and choice")
        return self


class FormSubmitted(DomainEvent):
    """v2: an answer may be a choice (v1 answers were all quantities)."""

    event_type = "FormSubmitted"
    schema_version = 2
    submission_id: UUID
    campaign_id: UUID
    respondent: str
    site: str
    region: str
    answers: list[FormAnswer]
    activity_ids: list[UUID]


class CampaignClosed(DomainEvent):
    """No more forms. For a survey, the respondents' activities, summed by kind, unit, site
    and region, are extrapolated: one activity each for the non-respondents' share,
    (headcount - respondents) / respondents of the sum, so the total is `factor` x the sum."""

    event_type = "CampaignClosed"
    campaign_id: UUID
    headcount: int | None
    respondents: int
    response_rate: float | None  # respondents / headcount
    factor: float | None  # headcount / respondents; None when nothing was extrapolated
    submission_ids: list[UUID]  # the forms the extrapolation stands on
    activity_ids: list[UUID]  # the extrapolation activities recorded with this event


def add_campaign_upcasters(upcasters: Upcasters) -> None:
    """Register the campaign events' upcasters in `upcasters`."""

    @upcasters.register("CampaignOpened", 1)
    def _no_template(payload: JsonObject) -> JsonObject:
        return {**payload, "template": None, "headcount": None}

    @upcasters.register("FormSubmitted", 1)
    def _quantities(payload: JsonObject) -> JsonObject:
        return payload  # v1 answers are quantities, which v2 answers may still be


# ---- requests and answers ----------------------------------------------------------------


class ListTemplates(_Model):
    pass


class TemplateList(_Model):
    templates: list[CampaignTemplate]


class OpenCampaign(_Model):
    """Either a `template` (by id) or `questions` of the campaign's own; with an idempotency
    key a retry answers the first opening instead of opening a second campaign."""

    idempotency_key: str | None = Field(default=None, min_length=1, max_length=200)
    name: str = Field(min_length=1, max_length=200)
    period_start: date
    period_end: date
    questions: list[CampaignQuestion] = Field(default_factory=list, max_length=200)
    template: str | None = Field(default=None, max_length=64)
    headcount: int | None = Field(default=None, ge=1, le=10_000_000)


class CampaignView(_Model):
    campaign_id: UUID
    name: str
    period_start: date
    period_end: date
    questions: list[CampaignQuestion]
    template: CampaignTemplate | None = None
    headcount: int | None = None


class SubmitForm(_Model):
    """A stakeholder's answers; with an idempotency key a resubmission answers the first."""

    campaign_id: UUID
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=200)
    site: str = Field(min_length=1, max_length=200)
    region: str
    answers: list[FormAnswer] = Field(min_length=1, max_length=200)


class SubmissionView(_Model):
    submission_id: UUID
    campaign_id: UUID
    activity_ids: list[UUID]


class CloseCampaign(_Model):
    """Close a campaign; closing it again answers the first closing. `headcount`, when
    given, replaces the opening's (people join and leave while a survey runs)."""

    campaign_id: UUID
    headcount: int | None = Field(default=None, ge=1, le=10_000_000)


class CampaignClosing(_Model):
    campaign_id: UUID
    headcount: int | None
    respondents: int
    response_rate: float | None
    factor: float | None
    activity_ids: list[UUID]


class ListCampaigns(_Model):
    """A page of the organisation's campaigns, in the order they were opened."""

    limit: int = Field(default=50, ge=1, le=500)
    after: str | None = Field(default=None, description="a page's next_cursor")


class GetCampaign(_Model):
    campaign_id: UUID


class CampaignProgress(_Model):
    """A campaign and where its collection stands."""

    campaign: CampaignView
    opened_at: datetime
    closed_at: datetime | None
    forms: int = Field(description="forms submitted so far")


class CampaignPage(_Model):
    items: list[CampaignProgress]  # up to `limit`, fewer when that many would be too large
    next_cursor: str | None  # opaque; null on the last page


# ---- endpoints -----------------------------------------------------------------------------

CAMPAIGNERS = frozenset({"admin", "compliance"})

OPEN_CAMPAIGN = EndpointSpec(SERVICE, "open_campaign", OpenCampaign, CampaignView, CAMPAIGNERS)
SUBMIT_FORM = EndpointSpec(SERVICE, "submit_form", SubmitForm, SubmissionView, ROLES)
CLOSE_CAMPAIGN = EndpointSpec(
    SERVICE, "close_campaign", CloseCampaign, CampaignClosing, CAMPAIGNERS
)
LIST_TEMPLATES = EndpointSpec(SERVICE, "list_templates", ListTemplates, TemplateList, ROLES)
LIST_CAMPAIGNS = EndpointSpec(SERVICE, "list_campaigns", ListCampaigns, CampaignPage, ROLES)
GET_CAMPAIGN = EndpointSpec(SERVICE, "get_campaign", GetCampaign, CampaignProgress, ROLES)
