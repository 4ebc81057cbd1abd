"""Collection campaigns: questions that map answers to activities, and forms that answer them.

Pure: a submitted form becomes one `FormSubmitted` plus one `ActivityRecorded` per answer,
each checked exactly like an activity an integrator records.
"""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from contracts.inventory import (
    ActivityRecorded,
    CampaignOpened,
    CampaignQuestion,
    FormAnswer,
    FormSubmitted,
    OpenCampaign,
    SubmitForm,
)
from services.inventory.domain import (
    Problem,
    measure_problems,
    period_problems,
    recorded,
    refuse_on,
    require_activity,
)


def decide_opening(command: OpenCampaign, campaign_id: UUID) -> CampaignOpened:
    """The campaign, once every question maps to a known kind in a unit of its dimension."""
    refuse_on(period_problems(command.period_start, command.period_end))
    seen: set[str] = set()
    for index, question in enumerate(command.questions):
        refuse_on(_question_problems(question, seen), f"questions.{index}.")
        seen.add(question.question_id)
    return CampaignOpened(
        campaign_id=campaign_id,
        name=command.name,
        period_start=command.period_start,
        period_end=command.period_end,
        questions=command.questions,
    )


def decide_submission(
    campaign: CampaignOpened,
    form: SubmitForm,
    respondent: str,
    new_id: Callable[[], UUID],
) -> tuple[FormSubmitted, list[ActivityRecorded]]:
    """The submission and the activities its answers stand for (all valid, or refused)."""
    submission_id = new_id()
    activities = [
        recorded(require_activity(item, prefix), new_id())
        for prefix, item in _answers_as_activities(campaign, form, submission_id)
    ]
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
    campaign: CampaignOpened, form: SubmitForm, submission_id: UUID
) -> list[tuple[str, dict[str, object]]]:
    """Each answer as an activity item, with the field prefix its problems are named by."""
    questions = {q.question_id: q for q in campaign.questions}
    items: list[tuple[str, dict[str, object]]] = []
    seen: set[str] = set()
    for index, answer in enumerate(form.answers):
        prefix = f"answers.{index}."
        refuse_on(_answer_problems(answer, questions, seen), prefix)
        seen.add(answer.question_id)
        question = questions[answer.question_id]
        items.append((prefix, _as_activity(campaign, question, answer, form, submission_id)))
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
    return []


def _as_activity(
    campaign: CampaignOpened,
    question: CampaignQuestion,
    answer: FormAnswer,
    form: SubmitForm,
    submission_id: UUID,
) -> dict[str, object]:
    return {
        "kind": question.kind,
        "quantity": answer.quantity * question.scale,
        "unit": question.unit,
        "period_start": campaign.period_start,
        "period_end": campaign.period_end,
        "site": form.site,
        "region": form.region,
        "source": f"campaign:{campaign.campaign_id}/submission:{submission_id}",
        "attributes": {
            "campaign_id": str(campaign.campaign_id),
            "question_id": question.question_id,
            "answer": answer.quantity,
        },
    }
