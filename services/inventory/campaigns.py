"""Collection campaigns: opening one (own questions or a template), and its forms.

Pure: a submitted form becomes one `FormSubmitted` plus one `ActivityRecorded` per answer
(own questions) or per answer rule (templates, see services/inventory/forms.py), each
checked exactly like an activity an integrator records.
"""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from contracts.campaigns import (
    CampaignOpened,
    CampaignQuestion,
    CampaignTemplate,
    FormAnswer,
    FormSubmitted,
    OpenCampaign,
    SubmitForm,
)
from contracts.inventory import ActivityRecorded
from kernel.errors import RequestRefused
from services.inventory.domain import (
    Problem,
    measure_problems,
    period_problems,
    recorded,
    refuse_on,
    require_activity,
)
from services.inventory.forms import template_activities
from services.inventory.templates import TEMPLATES

ActivityItem = tuple[str, dict[str, object]]  # the field prefix of its problems, the item


def decide_opening(command: OpenCampaign, campaign_id: UUID) -> CampaignOpened:
    """The campaign, once its template is known or every question maps to a known kind in a
    unit of its dimension."""
    refuse_on(period_problems(command.period_start, command.period_end))
    template = None if command.template is None else _template(command)
    if template is None:
        _check_own_questions(command.questions)
    return CampaignOpened(
        campaign_id=campaign_id,
        name=command.name,
        period_start=command.period_start,
        period_end=command.period_end,
        questions=command.questions,
        template=template,
        headcount=command.headcount,
    )


def _template(command: OpenCampaign) -> CampaignTemplate:
    template = TEMPLATES.get(command.template or "")
    if template is None:
        known = ", ".join(sorted(TEMPLATES))
        raise RequestRefused(
            "invalid_template", f"unknown template {command.template!r}; known: {known}", "template"
        )
    if command.questions:
        raise RequestRefused(
            "invalid_questions", "a campaign follows a template or asks its own questions, "
            "not both", "questions",
        )  # fmt: skip
    if template.survey and command.headcount is None:
        raise RequestRefused(
            "invalid_headcount", f"{template.title} is a survey: give the headcount its "
            "results are extrapolated to", "headcount",
        )  # fmt: skip
    return template


def _check_own_questions(questions: list[CampaignQuestion]) -> None:
    if not questions:
        raise RequestRefused(
            "invalid_questions", "give a template or at least one question", "questions"
        )
    seen: set[str] = set()
    for index, question in enumerate(questions):
        refuse_on(_question_problems(question, seen), f"questions.{index}.")
        seen.add(question.question_id)


def decide_submission(
    campaign: CampaignOpened,
    form: SubmitForm,
    respondent: str,
    new_id: Callable[[], UUID],
) -> tuple[FormSubmitted, list[ActivityRecorded]]:
    """The submission and the activities its answers stand for (all valid, or refused)."""
    submission_id = new_id()
    source = f"campaign:{campaign.campaign_id}/submission:{submission_id}"
    if campaign.template is not None:
        items = [("", i) for i in template_activities(campaign, form, source)]
    else:
        items = _answers_as_activities(campaign, form, source)
    activities = [recorded(require_activity(item, prefix), new_id()) for prefix, item in items]
    submitted = FormSubmitted(
        submission_id=submission_id,
        campaign_id=campaign.campaign_id,
        respondent=respondent,
        site=form.site,
        region=form.region,
        answers=form.answers,
        activity_ids=[a.activity_id for a in activities],
    )
    return submitted, activities


def _answers_as_activities(
    campaign: CampaignOpened, form: SubmitForm, source: str
) -> list[ActivityItem]:
    """Each answer as an activity item, with the field prefix its problems are named by."""
    questions = {q.question_id: q for q in campaign.questions}
    items: list[ActivityItem] = []
    seen: set[str] = set()
    for index, answer in enumerate(form.answers):
        prefix = f"answers.{index}."
        refuse_on(_answer_problems(answer, questions, seen), prefix)
        seen.add(answer.question_id)
        question = questions[answer.question_id]
        items.append((prefix, _as_activity(campaign, question, answer, form, source)))
    return items


def _question_problems(question: CampaignQuestion, seen: set[str]) -> list[Problem]:
    if question.question_id in seen:
        return [Problem("question_id", f"{question.question_id!r} is asked twice")]
    return measure_problems(question.kind, 0.0, question.unit)


def _answer_problems(
    answer: FormAnswer, questions: dict[str, CampaignQuestion], seen: set[str]
) -> list[Problem]:
    if answer.question_id not in questions:
        return [Problem("question_id", f"the campaign has no question {answer.question_id!r}")]
    if answer.question_id in seen:
        return [Problem("question_id", f"{answer.question_id!r} is answered twice")]
    if answer.quantity is None:
        return [Problem("choice", "this question takes a quantity, not a choice")]
    return []


def _as_activity(
    campaign: CampaignOpened,
    question: CampaignQuestion,
    answer: FormAnswer,
    form: SubmitForm,
    source: str,
) -> dict[str, object]:
    assert answer.quantity is not None  # checked by _answer_problems
    return {
        "kind": question.kind,
        "quantity": answer.quantity * question.scale,
        "unit": question.unit,
        "period_start": campaign.period_start,
        "period_end": campaign.period_end,
        "site": form.site,
        "region": form.region,
        "source": source,
        "attributes": {
            "campaign_id": str(campaign.campaign_id),
            "question_id": question.question_id,
            "answer": answer.quantity,
        },
    }
