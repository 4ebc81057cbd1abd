from datetime import date
from uuid import UUID, uuid4

import pytest

from contracts.campaigns import CampaignQuestion, FormAnswer, OpenCampaign, SubmitForm
from kernel.errors import RequestRefused
from services.inventory.campaigns import decide_opening, decide_submission


def question(qid: str = "bus_km", kind: str = "commute_bus_diesel", unit: str = "km"):
    prompt = "km by bus per week"
    return CampaignQuestion(question_id=qid, prompt=prompt, kind=kind, unit=unit, scale=47)


def opening(*questions: CampaignQuestion) -> OpenCampaign:
    return OpenCampaign(
        name="Commuting 2025",
        period_start=date(2025, 1, 1),
        period_end=date(2026, 1, 1),
        questions=list(questions) or [question(), question("bike_km", "commute_bike")],
    )


def form(*answers: tuple[str, float], region: str = "FRA") -> SubmitForm:
    return SubmitForm(
        campaign_id=uuid4(),
        site="paris-hq",
        region=region,
        answers=[FormAnswer(question_id=q, quantity=v) for q, v in answers],
    )


@pytest.mark.parametrize(
    ("questions", "field", "words"),
    [
        ((question(unit="kWh"),), "questions.0.unit", r"needs a unit of \[length\]"),
        ((question(kind="levitation"),), "questions.0.kind", "unknown activity kind"),
        ((question(), question()), "questions.1.question_id", "asked twice"),
    ],
)
def test_a_campaign_question_must_map_to_a_kind_in_its_dimension(questions, field, words) -> None:
    with pytest.raises(RequestRefused, match=words) as refused:
        decide_opening(opening(*questions), uuid4())
    assert refused.value.field == field


def test_answers_become_scaled_activities_of_the_campaign_period() -> None:
    campaign = decide_opening(opening(), uuid4())
    submitted, activities = decide_submission(
        campaign, form(("bus_km", 20), ("bike_km", 0)), "alice", uuid4
    )
    assert submitted.activity_ids == [a.activity_id for a in activities]
    assert [(a.kind, a.quantity, a.unit) for a in activities] == [
        ("commute_bus_diesel", 940, "km"),
        ("commute_bike", 0, "km"),
    ]
    assert activities[0].period_end == date(2026, 1, 1)
    assert activities[0].attributes["question_id"] == "bus_km"
    assert isinstance(submitted.submission_id, UUID)


@pytest.mark.parametrize(
    ("answers", "region", "field", "words"),
    [
        ((("walk_km", 3),), "FRA", "answers.0.question_id", "no question 'walk_km'"),
        ((("bus_km", 3), ("bus_km", 4)), "FRA", "answers.1.question_id", "answered twice"),
        ((("bus_km", -3),), "FRA", "answers.0.quantity", "must be >= 0"),
        ((("bus_km", 3),), "Paris", "answers.0.region", "ISO 3166"),
    ],
)
def test_a_bad_answer_refuses_the_form_naming_it(answers, region, field, words) -> None:
    campaign = decide_opening(opening(), uuid4())
    with pytest.raises(RequestRefused, match=words) as refused:
        decide_submission(campaign, form(*answers, region=region), "bob", uuid4)
    assert refused.value.field == field
