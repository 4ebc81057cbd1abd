from __future__ import annotations

import asyncio
from datetime import date
from uuid import uuid4

import pytest

from contracts import campaigns as cp
from contracts import inventory as c
from kernel.errors import RemoteError
from tests.integration.inventory.conftest import ADMIN, INTEGRATOR, OTHER_TENANT, VIEWER, Running

COMMUTING = cp.OpenCampaign(
    name="Commuting survey 2025",
    period_start=date(2025, 1, 1),
    period_end=date(2026, 1, 1),
    questions=[
        cp.CampaignQuestion(question_id="bus_km", prompt="km by bus per week",
                           kind="commute_bus_diesel", unit="km", scale=47),
        cp.CampaignQuestion(question_id="bike_mi", prompt="miles by bike per week",
                           kind="commute_bike", unit="mile", scale=47),
    ],
)  # fmt: skip


def form(campaign_id, *answers: tuple[str, float]) -> cp.SubmitForm:
    return cp.SubmitForm(
        campaign_id=campaign_id,
        site="paris-hq",
        region="FRA",
        answers=[cp.FormAnswer(question_id=q, quantity=v) for q, v in answers],
    )


async def test_a_submitted_form_becomes_recorded_activities(inv: Running) -> None:
    campaign = await inv.client.call(cp.OPEN_CAMPAIGN, COMMUTING, ADMIN)
    submission = await inv.client.call(
        cp.SUBMIT_FORM, form(campaign.campaign_id, ("bus_km", 20), ("bike_mi", 5)), VIEWER
    )

    page = await inv.client.call(c.LIST, c.ListActivities(), VIEWER)
    assert [a.activity_id for a in page.items] == submission.activity_ids
    assert [(a.kind, a.quantity, a.unit) for a in page.items] == [
        ("commute_bus_diesel", 940, "km"),
        ("commute_bike", 235, "mile"),
    ]
    events = await inv.store.read_all()
    assert [e.type for e in events] == [
        "CampaignOpened",
        "FormSubmitted",
        *["ActivityRecorded"] * 2,
    ]
    assert events[2].causation_id == events[1].event_id
    assert cp.FormSubmitted.from_recorded(events[1]).respondent == VIEWER.actor


async def test_only_admin_or_compliance_opens_a_campaign(inv: Running) -> None:
    with pytest.raises(RemoteError) as refused:
        await inv.client.call(cp.OPEN_CAMPAIGN, COMMUTING, INTEGRATOR)
    assert refused.value.code == "forbidden"
    bad = COMMUTING.model_copy(update={"questions": [COMMUTING.questions[0].model_copy(
        update={"unit": "kWh"})]})  # fmt: skip
    with pytest.raises(RemoteError) as invalid:
        await inv.client.call(cp.OPEN_CAMPAIGN, bad, ADMIN)
    assert (invalid.value.code, invalid.value.field) == ("invalid_unit", "questions.0.unit")


async def test_a_bad_answer_refuses_the_whole_form(inv: Running) -> None:
    campaign = await inv.client.call(cp.OPEN_CAMPAIGN, COMMUTING, ADMIN)
    answers = form(campaign.campaign_id, ("bus_km", 20), ("bike_mi", -1))
    with pytest.raises(RemoteError) as refused:
        await inv.client.call(cp.SUBMIT_FORM, answers, VIEWER)
    assert (refused.value.code, refused.value.field) == ("invalid_quantity", "answers.1.quantity")
    assert await inv.store.head_position() == 1


async def test_a_form_for_another_tenants_or_no_campaign_is_not_found(inv: Running) -> None:
    campaign = await inv.client.call(cp.OPEN_CAMPAIGN, COMMUTING, ADMIN)
    for campaign_id, ctx in ((campaign.campaign_id, OTHER_TENANT), (uuid4(), VIEWER)):
        with pytest.raises(RemoteError) as refused:
            await inv.client.call(cp.SUBMIT_FORM, form(campaign_id, ("bus_km", 1)), ctx)
        assert (refused.value.code, refused.value.field) == ("not_found", "campaign_id")


async def test_a_resubmitted_form_with_its_key_answers_the_first_submission(inv: Running) -> None:
    campaign = await inv.client.call(cp.OPEN_CAMPAIGN, COMMUTING, ADMIN)
    answers = form(campaign.campaign_id, ("bus_km", 20)).model_copy(
        update={"idempotency_key": "alice-2025"}
    )
    first = await inv.client.call(cp.SUBMIT_FORM, answers, VIEWER)
    again = await inv.client.call(cp.SUBMIT_FORM, answers, VIEWER)

    assert again == first and await inv.store.head_position() == 3
    changed = answers.model_copy(
        update={"answers": [cp.FormAnswer(question_id="bus_km", quantity=9)]}
    )
    with pytest.raises(RemoteError) as refused:
        await inv.client.call(cp.SUBMIT_FORM, changed, VIEWER)
    assert (refused.value.code, refused.value.field) == (
        "idempotency_key_reused",
        "idempotency_key",
    )


async def test_a_campaign_opened_again_with_its_key_is_the_first_one(inv: Running) -> None:
    keyed = COMMUTING.model_copy(update={"idempotency_key": "commuting-2025"})
    first, concurrent = await asyncio.gather(  # two writers racing on one key
        inv.client.call(cp.OPEN_CAMPAIGN, keyed, ADMIN),
        inv.client.call(cp.OPEN_CAMPAIGN, keyed, ADMIN),
    )
    again = await inv.client.call(cp.OPEN_CAMPAIGN, keyed, ADMIN)

    assert first == concurrent == again
    assert [e.type for e in await inv.store.read_all()] == ["CampaignOpened"]
    renamed = keyed.model_copy(update={"name": "Commuting survey 2025, take two"})
    with pytest.raises(RemoteError) as refused:
        await inv.client.call(cp.OPEN_CAMPAIGN, renamed, ADMIN)
    assert (refused.value.code, refused.value.field) == (
        "idempotency_key_reused",
        "idempotency_key",
    )
    unkeyed = await inv.client.call(cp.OPEN_CAMPAIGN, COMMUTING, ADMIN)
    assert unkeyed.campaign_id != first.campaign_id  # without a key, each opening is new


async def test_campaigns_list_in_opening_order_with_their_progress(inv: Running) -> None:
    first = await inv.client.call(cp.OPEN_CAMPAIGN, COMMUTING, ADMIN)
    renamed = COMMUTING.model_copy(update={"name": "Commuting survey 2026"})
    second = await inv.client.call(cp.OPEN_CAMPAIGN, renamed, ADMIN)
    for answer in (("bus_km", 20.0), ("bike_mi", 3.0)):
        await inv.client.call(cp.SUBMIT_FORM, form(first.campaign_id, answer), VIEWER)
    closing = cp.CloseCampaign(campaign_id=first.campaign_id)
    await inv.client.call(cp.CLOSE_CAMPAIGN, closing, ADMIN)

    page = await inv.client.call(cp.LIST_CAMPAIGNS, cp.ListCampaigns(limit=1), VIEWER)
    [closed] = page.items
    assert (closed.campaign, closed.forms) == (first, 2)
    assert closed.closed_at is not None and closed.opened_at <= closed.closed_at
    rest = cp.ListCampaigns(limit=1, after=page.next_cursor)
    [still_open] = (last := await inv.client.call(cp.LIST_CAMPAIGNS, rest, VIEWER)).items
    assert (still_open.campaign, still_open.forms, still_open.closed_at) == (second, 0, None)
    assert last.next_cursor is None
    one = cp.GetCampaign(campaign_id=second.campaign_id)
    assert await inv.client.call(cp.GET_CAMPAIGN, one, VIEWER) == still_open


async def test_campaigns_are_read_by_their_organisation_only_and_cursors_checked(
    inv: Running,
) -> None:
    opened = await inv.client.call(cp.OPEN_CAMPAIGN, COMMUTING, ADMIN)
    page = await inv.client.call(cp.LIST_CAMPAIGNS, cp.ListCampaigns(), OTHER_TENANT)
    assert page.items == [] and page.next_cursor is None
    with pytest.raises(RemoteError) as missing:
        await inv.client.call(
            cp.GET_CAMPAIGN, cp.GetCampaign(campaign_id=opened.campaign_id), OTHER_TENANT
        )
    assert (missing.value.code, missing.value.field) == ("not_found", "campaign_id")
    for cursor in ("nope", "eyJhZnRlciI6IDN9"):  # not base64 JSON; a position, not an id
        with pytest.raises(RemoteError) as bad:
            await inv.client.call(cp.LIST_CAMPAIGNS, cp.ListCampaigns(after=cursor), VIEWER)
        assert (bad.value.code, bad.value.field) == ("invalid_cursor", "after")
