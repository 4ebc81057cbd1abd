"""A commuting survey through GraphQL: templates listed, forms answered, the campaign closed
and extrapolated to the headcount, its response rate shown."""

from __future__ import annotations

from tests.e2e.conftest import Stack, organisation

TEMPLATES = "{ campaignTemplates { id survey questions { questionId choices { value } } } }"
OPEN = """mutation { openCampaign(name: "commute 2024", periodStart: "2024-01-01",
  periodEnd: "2025-01-01", template: "employee_commuting", headcount: 8,
  idempotencyKey: "commute-2024") { id headcount template { id rules { multiply factor } } } }"""
SUBMIT = """mutation($campaign: ID!, $mode: String!, $km: Float!) { submitForm(
  campaignId: $campaign, site: "paris", region: "FRA", answers: [
  {questionId: "mode", choice: $mode}, {questionId: "one_way_km", quantity: $km},
  {questionId: "days_per_week", quantity: 4}, {questionId: "weeks_worked", quantity: 40}]) {
  activityIds } }"""
CLOSE = """mutation($campaign: ID!) { closeCampaign(campaignId: $campaign) {
  respondents headcount responseRate factor extrapolatedActivityIds } }"""
ACTIVITY = "query($id: ID!) { activity(id: $id) { kind quantity unit attributes } }"
PROGRESS = "campaign { id headcount } openedAt closedAt forms"
CAMPAIGNS = f"{{ campaigns(first: 10) {{ items {{ {PROGRESS} }} nextCursor }} }}"
CAMPAIGN = f"query($id: ID!) {{ campaign(id: $id) {{ {PROGRESS} }} }}"


async def test_a_commuting_survey_is_answered_closed_and_extrapolated(stack: Stack) -> None:
    tenant = organisation()
    keys = {role: await stack.key(tenant, role) for role in ("compliance", "integrator", "viewer")}
    templates = (await stack.data(TEMPLATES, keys["viewer"]))["campaignTemplates"]
    commuting = next(t for t in templates if t["id"] == "employee_commuting")
    assert commuting["survey"] and "bike" in [
        c["value"] for c in commuting["questions"][0]["choices"]
    ]

    opened = (await stack.data(OPEN, keys["compliance"]))["openCampaign"]
    assert (await stack.data(OPEN, keys["compliance"]))["openCampaign"] == opened  # a retry
    assert opened["headcount"] == 8
    assert opened["template"]["rules"] == [
        {"multiply": ["one_way_km", "days_per_week", "weeks_worked"], "factor": 2.0}
    ]
    for mode, km in (("bike", 4.0), ("bike", 6.0)):
        form = await stack.data(SUBMIT, keys["integrator"], campaign=opened["id"], mode=mode, km=km)
        assert len(form["submitForm"]["activityIds"]) == 1

    [progress] = (await stack.data(CAMPAIGNS, keys["viewer"]))["campaigns"]["items"]
    assert (progress["campaign"]["id"], progress["forms"], progress["closedAt"]) == (
        opened["id"], 2, None,
    )  # fmt: skip
    closing = (await stack.data(CLOSE, keys["compliance"], campaign=opened["id"]))["closeCampaign"]
    closed = (await stack.data(CAMPAIGN, keys["viewer"], id=opened["id"]))["campaign"]
    assert closed["closedAt"] is not None and closed["forms"] == 2
    assert {k: closing[k] for k in ("respondents", "headcount", "responseRate", "factor")} == {
        "respondents": 2, "headcount": 8, "responseRate": 0.25, "factor": 4.0,
    }  # fmt: skip
    [extra] = closing["extrapolatedActivityIds"]
    activity = (await stack.data(ACTIVITY, keys["viewer"], id=extra))["activity"]
    # the respondents rode (4 + 6) x 2 x 4 x 40 = 3,200 km; six more people ride three times that
    assert (activity["kind"], activity["quantity"], activity["unit"]) == (
        "commute_bike",
        9600,
        "km",
    )
    assert activity["attributes"]["extrapolated"] is True

    late = await stack.graphql(
        SUBMIT, keys["integrator"], campaign=opened["id"], mode="walk", km=1.0
    )
    assert late["errors"][0]["extensions"]["code"] == "CAMPAIGN_CLOSED"


async def test_a_bad_page_argument_is_refused_naming_the_argument(stack: Stack) -> None:
    key = await stack.key(organisation(), "viewer")
    cases = [
        ("{ campaigns(first: 0) { nextCursor } }", "first"),
        ('{ campaigns(after: "nope") { nextCursor } }', "after"),
        ('{ requestLogs(after: "nope") { nextCursor } }', "after"),
        ("{ unresolvedActivities(first: 0) { nextCursor } }", "first"),
    ]
    for query, argument in cases:
        [error] = (await stack.graphql(query, key))["errors"]
        assert (error["extensions"]["code"], error["extensions"]["field"]) == (
            "BAD_USER_INPUT" if argument == "first" else "INVALID_CURSOR",
            argument,
        ), query
