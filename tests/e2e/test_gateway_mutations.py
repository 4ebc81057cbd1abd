"""The gateway's mutations over the real stack: ledger, campaigns, factors; role checks."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import Stack, changes, organisation

RECORD = """mutation($ikey: String!, $items: [ActivityInput!]!) {
  recordActivities(idempotencyKey: $ikey, activities: $items) { activityIds accepted } }"""
CORRECT = """mutation($id: ID!, $q: Float!) {
  correctActivity(id: $id, quantity: $q, unit: "kWh", periodStart: "2024-01-01",
                  periodEnd: "2024-02-01", reason: "meter read again") {
    id quantity status version } }"""
RETRACT = """mutation($id: ID!) { retractActivity(id: $id, reason: "duplicate",
  idempotencyKey: "retract-once") { id status } }"""
EMISSION = "query($id: ID!) { emission(sourceId: $id) { status total { value } } }"
OPEN = """mutation { openCampaign(name: "commute 2024", periodStart: "2024-01-01",
  periodEnd: "2025-01-01", questions: [{questionId: "bus_km", prompt: "km by bus a week",
  kind: "commute_bus_diesel", unit: "km", scale: 47}]) { id name questions { questionId } } }"""
SUBMIT = """mutation($campaign: ID!) { submitForm(campaignId: $campaign, site: "paris",
  region: "FRA", answers: [{questionId: "bus_km", quantity: 20}], idempotencyKey: "alice") {
  id campaignId activityIds } }"""
VALUES = {
    "unit": "kWh",
    "kgco2ePerUnit": 0.5,
    "region": "FRA",
    "validFrom": "2024-01-01",
    "scope": 2,
    "source": "own meter study",
    "licence": "internal",
    "year": 2024,
}
PUBLISH = """mutation($v: FactorValuesInput!) { publishFactor(idempotencyKey: "f1",
  factor: {activityKind: "electricity", component: "generation", values: $v}) {
  factorId version } }"""
REVISE = """mutation($id: ID!, $v: FactorValuesInput!) {
  reviseFactor(factorId: $id, expectedVersion: 1, values: $v, reason: "better study") {
  factorId version } }"""
RETIRE = """mutation($id: ID!) { retireFactor(factorId: $id, expectedVersion: 2,
  retiredFrom: "2025-01-01", reason: "superseded") { factorId version } }"""
FACTOR = "query($id: ID!) { factor(factorId: $id) { version organisation retiredFrom } }"


def activity(kwh: float) -> dict[str, Any]:
    return {
        "kind": "electricity",
        "quantity": kwh,
        "unit": "kWh",
        "periodStart": "2024-01-01",
        "periodEnd": "2024-02-01",
        "site": "paris",
        "region": "FRA",
    }


def code(answer: dict[str, Any]) -> str:
    return str(answer["errors"][0]["extensions"]["code"])


async def test_correct_and_retract_restate_then_withdraw_the_emission(stack: Stack) -> None:
    tenant = organisation()
    writer = await stack.key(tenant, "integrator")
    async with changes(stack, tenant) as heard:
        [aid] = (await stack.data(RECORD, writer, ikey="c", items=[activity(100)]))[
            "recordActivities"
        ]["activityIds"]
        await heard.settled([aid], "calculated")
        before = (await stack.data(EMISSION, writer, id=aid))["emission"]["total"]["value"]
        corrected = (await stack.data(CORRECT, writer, id=aid, q=200))["correctActivity"]
        assert (corrected["quantity"], corrected["status"], corrected["version"]) == (
            200,
            "corrected",
            2,
        )
        heard.seen.clear()
        await heard.settled([aid], "calculated")
        after = (await stack.data(EMISSION, writer, id=aid))["emission"]["total"]["value"]
        assert after == 2 * before
        retracted = (await stack.data(RETRACT, writer, id=aid))["retractActivity"]
        assert retracted["status"] == "retracted"
        assert (await stack.data(RETRACT, writer, id=aid))["retractActivity"] == retracted
        await heard.settled([aid], "withdrawn")


async def test_writes_need_their_roles(stack: Stack) -> None:
    tenant = organisation()
    viewer, auditor = await stack.key(tenant, "viewer"), await stack.key(tenant, "auditor")
    for key in (viewer, auditor):
        assert code(await stack.graphql(RECORD, key, ikey="x", items=[activity(1)])) == "FORBIDDEN"
        assert code(await stack.graphql(OPEN, key)) == "FORBIDDEN"
        assert code(await stack.graphql(PUBLISH, key, v=VALUES)) == "FORBIDDEN"
    integrator = await stack.key(tenant, "integrator")
    assert code(await stack.graphql(PUBLISH, integrator, v=VALUES)) == "FORBIDDEN"


async def test_campaign_and_form_become_activities(stack: Stack) -> None:
    tenant = organisation()
    compliance = await stack.key(tenant, "compliance")
    campaign = (await stack.data(OPEN, compliance))["openCampaign"]
    assert campaign["questions"] == [{"questionId": "bus_km"}]
    submitted = (await stack.data(SUBMIT, compliance, campaign=campaign["id"]))["submitForm"]
    assert len(submitted["activityIds"]) == 1
    again = (await stack.data(SUBMIT, compliance, campaign=campaign["id"]))["submitForm"]
    assert again == submitted
    got = "query($id: ID!) { activity(id: $id) { kind quantity } }"
    [aid] = submitted["activityIds"]
    assert (await stack.data(got, compliance, id=aid))["activity"] == {
        "kind": "commute_bus_diesel",
        "quantity": 940.0,
    }


async def test_admin_publishes_revises_and_retires_an_own_factor(stack: Stack) -> None:
    tenant = organisation()
    admin = await stack.key(tenant, "admin")
    published = (await stack.data(PUBLISH, admin, v=VALUES))["publishFactor"]
    assert published["version"] == 1
    fid = published["factorId"]
    revised = await stack.data(REVISE, admin, id=fid, v={**VALUES, "kgco2ePerUnit": 0.4})
    assert revised["reviseFactor"] == {"factorId": fid, "version": 2}
    assert (await stack.data(RETIRE, admin, id=fid))["retireFactor"]["factorId"] == fid
    factor = (await stack.data(FACTOR, admin, id=fid))["factor"]
    assert factor == {"version": 2, "organisation": tenant, "retiredFrom": "2025-01-01"}
    retired = await stack.graphql(REVISE, admin, id=fid, v=VALUES)
    assert retired["errors"][0]["extensions"] == {"code": "FACTOR_RETIRED", "field": "factorId"}
    bad = await stack.graphql(PUBLISH, admin, v={**VALUES, "kgco2ePerUnit": -1})
    assert code(bad) == "BAD_USER_INPUT"
    assert bad["errors"][0]["extensions"]["field"] == "factor.kgco2ePerUnit"
