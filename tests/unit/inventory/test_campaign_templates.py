"""Questionnaire templates: well formed, answers checked per field, turned into activities,
and survey results extrapolated to the headcount on closing."""

from __future__ import annotations

from datetime import date
from uuid import UUID, uuid4

import pytest

from contracts.activity_kinds import ACTIVITY_KINDS
from contracts.campaigns import CampaignOpened, FormAnswer, OpenCampaign, SubmitForm
from kernel.errors import RequestRefused
from services.inventory.campaigns import decide_opening, decide_submission
from services.inventory.closing import Answered, SubmittedForm, decide_closing
from services.inventory.domain import unit_problem
from services.inventory.templates import TEMPLATES


@pytest.mark.parametrize("template", TEMPLATES.values(), ids=list(TEMPLATES))
def test_every_rule_makes_a_known_kind_in_a_unit_of_its_dimension(template) -> None:
    questions = {q.question_id: q for q in template.questions}
    for rule in template.rules:
        assert all(q in questions for q in rule.multiply)
        if rule.kind_from is None:
            kinds = [rule.kind]
        else:
            kinds = [c.kind for c in questions[rule.kind_from].choices]
        for kind in kinds:
            assert kind in ACTIVITY_KINDS, kind
            assert unit_problem(kind, rule.unit) is None, (kind, rule.unit)


def commuting(headcount: int | None = 100) -> CampaignOpened:
    command = OpenCampaign(
        name="Commuting 2025", period_start=date(2025, 1, 1), period_end=date(2026, 1, 1),
        template="employee_commuting", headcount=headcount,
    )  # fmt: skip
    return decide_opening(command, uuid4())


def form(campaign: CampaignOpened, **answers: float | str) -> SubmitForm:
    return SubmitForm(
        campaign_id=campaign.campaign_id,
        site="paris-hq",
        region="FRA",
        answers=[
            FormAnswer(question_id=q, choice=v) if isinstance(v, str)
            else FormAnswer(question_id=q, quantity=v)
            for q, v in answers.items()
        ],
    )  # fmt: skip


def refusal(campaign: CampaignOpened, **answers: float | str) -> tuple[str, str | None, str]:
    with pytest.raises(RequestRefused) as refused:
        decide_submission(campaign, form(campaign, **answers), "ann", uuid4)
    return refused.value.code, refused.value.field, refused.value.message


def test_a_commuting_answer_becomes_yearly_km_of_its_mode() -> None:
    campaign = commuting()
    answers = {"mode": "bus", "one_way_km": 12.5, "days_per_week": 4, "weeks_worked": 45}
    submitted, [activity] = decide_submission(campaign, form(campaign, **answers), "ann", uuid4)
    assert (activity.kind, activity.quantity, activity.unit) == (
        "commute_bus_average_large_city",
        12.5 * 2 * 4 * 45,
        "km",
    )
    assert activity.attributes["answers"] == answers
    assert (
        activity.source == f"campaign:{campaign.campaign_id}/submission:{submitted.submission_id}"
    )
    assert submitted.activity_ids == [activity.activity_id]


GOOD = {"mode": "bike", "one_way_km": 5.0, "days_per_week": 5.0, "weeks_worked": 47.0}


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"mode": "rocket"}, "answers.0.choice", "'rocket' is not a choice"),
        ({"mode": 3.0}, "answers.0.choice", "choose one of car_petrol"),
        ({"one_way_km": "far"}, "answers.1.quantity", "give a number km, not a choice"),
        ({"days_per_week": 8.0}, "answers.2.quantity", "must be <= 7 day, got 8"),
        ({"weeks_worked": -1.0}, "answers.3.quantity", "must be >= 0 week, got -1"),
        ({"favourite_colour": "blue"}, "answers.4.question_id", "no question 'favourite_colour'"),
    ],
)
def test_bad_answers_are_refused_naming_the_answer(changes, field, words) -> None:
    _, found_field, message = refusal(commuting(), **{**GOOD, **changes})
    assert found_field == field and words in message


def test_a_required_question_left_out_is_named() -> None:
    answers = {k: v for k, v in GOOD.items() if k != "days_per_week"}
    assert refusal(commuting(), **answers) == (
        "invalid_answers",
        "answers",
        "question 'days_per_week' is not answered",
    )


def test_optional_questions_left_out_record_nothing() -> None:
    opened = decide_opening(
        OpenCampaign(name="Energy", period_start=date(2025, 1, 1), period_end=date(2026, 1, 1),
                     template="site_energy"),
        uuid4(),
    )  # fmt: skip
    _, activities = decide_submission(
        opened, form(opened, electricity_kwh=1200.0, heating_oil_l=300.0), "ann", uuid4
    )
    assert [(a.kind, a.quantity, a.unit) for a in activities] == [
        ("electricity", 1200.0, "kWh"),
        ("heating_oil", 300.0, "liter"),
    ]


def test_a_survey_needs_its_headcount_and_a_template_must_exist() -> None:
    with pytest.raises(RequestRefused) as no_headcount:
        commuting(headcount=None)
    assert (no_headcount.value.code, no_headcount.value.field) == (
        "invalid_headcount",
        "headcount",
    )
    with pytest.raises(RequestRefused) as unknown:
        decide_opening(
            OpenCampaign(name="x", period_start=date(2025, 1, 1), period_end=date(2026, 1, 1),
                         template="astrology"),
            uuid4(),
        )  # fmt: skip
    assert unknown.value.field == "template" and "employee_commuting" in unknown.value.message


def answered(kind: str, km: float, site: str = "paris-hq") -> Answered:
    return Answered(kind, km, "km", site, "FRA")


def test_closing_extrapolates_the_respondents_to_the_headcount() -> None:
    campaign = commuting(headcount=100)
    forms = [SubmittedForm(uuid4(), [answered("commute_bike", 1000.0)]) for _ in range(30)]
    forms += [SubmittedForm(uuid4(), [answered("commute_car_petrol", 4000.0)]) for _ in range(10)]
    forms.append(SubmittedForm(uuid4(), []))  # answered, then retracted: still a respondent
    closed, activities = decide_closing(campaign, forms, None, uuid4)

    assert (closed.headcount, closed.respondents) == (100, 41)
    assert closed.response_rate == pytest.approx(0.41)
    assert closed.factor == pytest.approx(100 / 41)
    assert closed.submission_ids == [f.submission_id for f in forms]
    share = 59 / 41
    assert [(a.kind, a.quantity) for a in activities] == [
        ("commute_bike", pytest.approx(30_000 * share)),
        ("commute_car_petrol", pytest.approx(40_000 * share)),
    ]
    flags = activities[0].attributes
    assert flags["extrapolated"] is True and flags["factor"] == pytest.approx(100 / 41)
    assert flags["respondents_quantity"] == 30_000
    assert activities[0].source == f"campaign:{campaign.campaign_id}/extrapolation"
    assert closed.activity_ids == [a.activity_id for a in activities]


def test_closing_refuses_more_respondents_than_people_and_takes_a_new_headcount() -> None:
    campaign = commuting(headcount=2)
    forms = [SubmittedForm(uuid4(), [answered("commute_bike", 10.0)]) for _ in range(3)]
    with pytest.raises(RequestRefused) as refused:
        decide_closing(campaign, forms, None, uuid4)
    assert (refused.value.code, refused.value.field) == ("invalid_headcount", "headcount")
    closed, [extra] = decide_closing(campaign, forms, 6, uuid4)
    assert (closed.headcount, closed.factor, extra.quantity) == (6, 2.0, 30.0)


def test_declarations_and_unanswered_surveys_are_closed_without_extrapolating() -> None:
    opened = decide_opening(
        OpenCampaign(name="Trips", period_start=date(2025, 1, 1), period_end=date(2026, 1, 1),
                     template="business_travel", headcount=50),
        uuid4(),
    )  # fmt: skip
    forms = [SubmittedForm(UUID(int=1), [answered("train_intercity", 800.0)])]
    closed, activities = decide_closing(opened, forms, None, uuid4)
    assert (closed.factor, activities, closed.response_rate) == (None, [], 0.02)
    nobody, none = decide_closing(commuting(), [], None, uuid4)
    assert (nobody.respondents, nobody.factor, none) == (0, None, [])
