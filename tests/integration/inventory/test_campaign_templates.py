"""A commuting survey through the service: forms become activities, closing extrapolates."""

from __future__ import annotations

import asyncio
from datetime import date
from uuid import UUID

import pytest

from contracts import campaigns as cp
from contracts import inventory as c
from kernel.errors import RemoteError
from tests.integration.inventory.conftest import ADMIN, INTEGRATOR, VIEWER, Running

SURVEY = cp.OpenCampaign(
    name="Commuting 2025",
    period_start=date(2025, 1, 1),
    period_end=date(2026, 1, 1),
    template="employee_commuting",
    headcount=10,
)


def answers(
    mode: str, one_way_km: float, days: float = 5, weeks: float = 46
) -> list[cp.FormAnswer]:
    return [
        cp.FormAnswer(question_id="mode", choice=mode),
        cp.FormAnswer(question_id="one_way_km", quantity=one_way_km),
        cp.FormAnswer(question_id="days_per_week", quantity=days),
        cp.FormAnswer(question_id="weeks_worked", quantity=weeks),
    ]


def form(campaign_id: UUID, mode: str, km: float, key: str | None = None) -> cp.SubmitForm:
    return cp.SubmitForm(
        campaign_id=campaign_id, idempotency_key=key, site="lyon", region="FRA",
        answers=answers(mode, km),
    )  # fmt: skip


async def test_templates_are_listed_with_their_questions_and_rules(inv: Running) -> None:
    found = await inv.client.call(cp.LIST_TEMPLATES, cp.ListTemplates(), VIEWER)
    by_id = {t.template_id: t for t in found.templates}
    assert set(by_id) == {"employee_commuting", "business_travel", "site_energy"}
    commute = by_id["employee_commuting"]
    assert [q.question_id for q in commute.questions] == [
        "mode", "one_way_km", "days_per_week", "weeks_worked",
    ]  # fmt: skip
    assert (commute.survey, commute.rules[0].factor) == (True, 2.0)


async def test_a_commuting_survey_becomes_activities_extrapolated_on_closing(
    inv: Running,
) -> None:
    campaign = await inv.client.call(cp.OPEN_CAMPAIGN, SURVEY, ADMIN)
    assert campaign.template is not None and campaign.headcount == 10
    trips = [("bike", 5), ("bike", 3), ("car_petrol", 20), ("bike", 2)]
    sent = [form(campaign.campaign_id, mode, km) for mode, km in trips]
    forms = [await inv.client.call(cp.SUBMIT_FORM, f, INTEGRATOR) for f in sent]
    retracted = forms[3].activity_ids[0]  # a respondent whose answer was withdrawn
    await inv.client.call(c.RETRACT, c.RetractActivity(activity_id=retracted, reason="x"), ADMIN)

    closing = await inv.client.call(
        cp.CLOSE_CAMPAIGN, cp.CloseCampaign(campaign_id=campaign.campaign_id), ADMIN
    )

    assert (closing.respondents, closing.headcount) == (4, 10)
    assert (closing.response_rate, closing.factor) == (0.4, 2.5)
    page = await inv.client.call(c.LIST, c.ListActivities(status="recorded"), VIEWER)
    extrapolated = [a for a in page.items if a.attributes.get("extrapolated")]
    assert [a.activity_id for a in extrapolated] == closing.activity_ids
    # respondents: bike (5 + 3) x 2 x 5 x 46 km, car 20 x 2 x 5 x 46; 6 people more
    assert [(a.kind, a.quantity, a.unit) for a in extrapolated] == [
        ("commute_bike", pytest.approx(3680 * 1.5), "km"),
        ("commute_car_petrol", pytest.approx(9200 * 1.5), "km"),
    ]
    assert extrapolated[0].attributes["factor"] == 2.5
    assert extrapolated[0].attributes["response_rate"] == 0.4
    events = await inv.store.read_all()
    closed_event = next(e for e in events if e.type == "CampaignClosed")
    closed = cp.CampaignClosed.from_recorded(closed_event)
    assert closed.submission_ids == [f.submission_id for f in forms]
    lineage = [e for e in events if e.causation_id == closed_event.event_id]
    assert [UUID(e.payload["activity_id"]) for e in lineage] == closing.activity_ids


async def test_a_closed_campaign_takes_no_form_and_closing_again_answers_the_first(
    inv: Running,
) -> None:
    campaign = await inv.client.call(cp.OPEN_CAMPAIGN, SURVEY, ADMIN)
    await inv.client.call(cp.SUBMIT_FORM, form(campaign.campaign_id, "walk", 1), INTEGRATOR)
    close = cp.CloseCampaign(campaign_id=campaign.campaign_id)
    first, again = await asyncio.gather(
        inv.client.call(cp.CLOSE_CAMPAIGN, close, ADMIN),
        inv.client.call(cp.CLOSE_CAMPAIGN, close, ADMIN),
    )
    assert first == again and len(first.activity_ids) == 1
    head = await inv.store.head_position()
    with pytest.raises(RemoteError) as refused:
        await inv.client.call(cp.SUBMIT_FORM, form(campaign.campaign_id, "walk", 1), INTEGRATOR)
    assert (refused.value.code, refused.value.field) == ("campaign_closed", "campaign_id")
    assert await inv.store.head_position() == head


async def test_a_bad_template_answer_is_refused_naming_it_and_stores_nothing(
    inv: Running,
) -> None:
    campaign = await inv.client.call(cp.OPEN_CAMPAIGN, SURVEY, ADMIN)
    bad = form(campaign.campaign_id, "hovercraft", 5)
    with pytest.raises(RemoteError) as refused:
        await inv.client.call(cp.SUBMIT_FORM, bad, INTEGRATOR)
    assert (refused.value.code, refused.value.field) == ("invalid_choice", "answers.0.choice")
    assert "'hovercraft' is not a choice" in refused.value.message
    assert await inv.store.head_position() == 1
