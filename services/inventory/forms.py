"""A form answering a template: each answer checked against its question, then the
template's rules turning the answers into activity items.

Pure. Problems name the answer (`answers.<index>.quantity`) or, for a required question left
unanswered, `answers`.
"""

from __future__ import annotations

import math

from contracts.campaigns import (
    AnswerRule,
    CampaignOpened,
    CampaignTemplate,
    FormAnswer,
    SubmitForm,
    TemplateQuestion,
)
from services.inventory.domain import Problem, refuse_on

Answer = float | str


def template_activities(
    campaign: CampaignOpened, form: SubmitForm, source: str
) -> list[dict[str, object]]:
    """The activity items of a form (its answers all valid, or `RequestRefused`)."""
    template = campaign.template
    assert template is not None
    answers = checked_answers(template, form.answers)
    items = []
    for rule in template.rules:
        quantity = _quantity(rule, answers)
        if quantity is not None:
            items.append(_item(campaign, template, rule, answers, form, source) | {
                "kind": _kind(template, rule, answers), "quantity": quantity,
            })  # fmt: skip
    return items


def checked_answers(template: CampaignTemplate, answers: list[FormAnswer]) -> dict[str, Answer]:
    """Each answer by question, once checked against it; every required question answered."""
    questions = {q.question_id: q for q in template.questions}
    found: dict[str, Answer] = {}
    for index, answer in enumerate(answers):
        refuse_on(_problems(answer, questions, found), f"answers.{index}.")
        found[answer.question_id] = _value(answer)
    missing = [
        q.question_id for q in template.questions if q.required and q.question_id not in found
    ]
    refuse_on([Problem("answers", f"question {q!r} is not answered") for q in missing])
    return found


def _value(answer: FormAnswer) -> Answer:
    return answer.quantity if answer.quantity is not None else str(answer.choice)


def _problems(
    answer: FormAnswer, questions: dict[str, TemplateQuestion], found: dict[str, Answer]
) -> list[Problem]:
    question = questions.get(answer.question_id)
    if question is None:
        known = ", ".join(questions)
        return [Problem("question_id", f"no question {answer.question_id!r}; asked: {known}")]
    if answer.question_id in found:
        return [Problem("question_id", f"{answer.question_id!r} is answered twice")]
    if question.choices:
        return _choice_problems(question, answer)
    return _number_problems(question, answer)


def _choice_problems(question: TemplateQuestion, answer: FormAnswer) -> list[Problem]:
    values = [c.value for c in question.choices]
    if answer.choice is None:
        return [Problem("choice", f"choose one of {', '.join(values)}")]
    if answer.choice not in values:
        reason = f"{answer.choice!r} is not a choice; choose one of {', '.join(values)}"
        return [Problem("choice", reason)]
    return []


def _number_problems(question: TemplateQuestion, answer: FormAnswer) -> list[Problem]:
    unit = f" {question.unit}" if question.unit else ""
    value = answer.quantity
    if value is None:
        return [Problem("quantity", f"give a number{unit}, not a choice")]
    if value < question.minimum:
        return [Problem("quantity", f"must be >= {question.minimum:g}{unit}, got {value:g}")]
    if question.maximum is not None and value > question.maximum:
        return [Problem("quantity", f"must be <= {question.maximum:g}{unit}, got {value:g}")]
    return []


def _quantity(rule: AnswerRule, answers: dict[str, Answer]) -> float | None:
    if any(q not in answers for q in rule.multiply):
        return None  # an optional question left unanswered: nothing to record
    return rule.factor * math.prod(float(answers[q]) for q in rule.multiply)


def _kind(template: CampaignTemplate, rule: AnswerRule, answers: dict[str, Answer]) -> str:
    if rule.kind_from is None:
        assert rule.kind is not None
        return rule.kind
    question = next(q for q in template.questions if q.question_id == rule.kind_from)
    choice = next(c for c in question.choices if c.value == answers[rule.kind_from])
    assert choice.kind is not None
    return choice.kind


def _item(
    campaign: CampaignOpened, template: CampaignTemplate, rule: AnswerRule,
    answers: dict[str, Answer], form: SubmitForm, source: str,
) -> dict[str, object]:  # fmt: skip
    used = [q for q in (rule.kind_from, *rule.multiply) if q is not None]
    return {
        "unit": rule.unit,
        "period_start": campaign.period_start,
        "period_end": campaign.period_end,
        "site": form.site,
        "region": form.region,
        "source": source,
        "attributes": {
            "campaign_id": str(campaign.campaign_id),
            "template_id": template.template_id,
            "rule_id": rule.rule_id,
            "answers": {q: answers[q] for q in used},
            "factor": rule.factor,
        },
    }
