"""Tenant isolation through the gateway: organisation B tries every door into A's data.

A holds activities (one calculated, one unresolved), a campaign, a factor of its own, a
request log and keys in every role. B, in every role, queries, mutates, subscribes, posts
and replays A's ids, cursors and idempotency keys: B never sees A's data (not found or
empty), and A's data is the same after as before.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from contracts import reporting as r
from tests.e2e.conftest import Stack, changes, organisation
from tests.e2e.test_gateway_subscriptions import receive, socket, subscribed

YEAR = {"periodStart": "2024-01-01", "periodEnd": "2025-01-01"}
ITEMS = [
    {
        "kind": "electricity",
        "quantity": 100.0,
        "unit": "kWh",
        "periodStart": "2024-02-01",
        "periodEnd": "2024-03-01",
        "site": "a-hq",
        "region": "FRA",
    },
    {
        "kind": "electricity",
        "quantity": 7.0,
        "unit": "kWh",
        "periodStart": "2024-02-01",
        "periodEnd": "2024-03-01",
        "site": "a-hq",
        "region": "ATA",
    },
]
RECORD = """mutation($ikey: String!, $items: [ActivityInput!]!) {
  recordActivities(idempotencyKey: $ikey, activities: $items) { activityIds replayed } }"""
ACTIVITIES = """query($after: String) { activities(first: 100, after: $after) {
  edges { cursor node { id quantity version status } } pageInfo { endCursor } } }"""
FOOTPRINT = """query($f: FootprintFilter!) { footprint(filter: $f, groupBy: [SITE]) {
  total { value } unresolved groups { key { value } } }
  footprintSeries(filter: $f) { month kg { value } } }"""
VALUES = {
    "unit": "km",
    "kgco2ePerUnit": 0.9,
    "region": "ISL",
    "validFrom": "2024-01-01",
    "scope": 2,
    "source": "a's own study",
    "licence": "internal",
    "year": 2024,
}
PUBLISH = """mutation($v: FactorValuesInput!) { publishFactor(idempotencyKey: "own",
  factor: {activityKind: "commute_bike", component: "total", values: $v}) { factorId } }"""
OPEN = """mutation { openCampaign(name: "a's", periodStart: "2024-01-01", periodEnd: "2025-01-01",
  questions: [{questionId: "km", prompt: "km", kind: "commute_bus_diesel", unit: "km"}]) { id } }"""
LOG_ROW = b'{"bytes": 1000, "client_country": "FRA", "server_country": "FRA", "device": "laptop"}\n'
GENERATE = """mutation($input: GenerateReportInput!) { generateReport(input: $input) { id } }"""
REPORT = {
    "organisation": {"name": "A", "identifier": "969500T3MBS4SQAMHJ45"},
    "periodStart": "2024-01-01",
    "periodEnd": "2025-01-01",
    "netRevenueEur": 1_000_000,
    "electricityMix": {"fossil": 0.1, "nuclear": 0.65, "renewable": 0.25},
}
ROLES = ("viewer", "integrator", "auditor", "compliance", "admin")


@dataclass
class World:
    a: dict[str, str]  # role -> key
    b: dict[str, str]
    a_org: str
    b_org: str
    activity_ids: list[str]
    factor_id: str
    campaign_id: str
    cursor: str
    report_id: str
    before: dict[str, Any]


async def keys(stack: Stack, org: str) -> dict[str, str]:
    return {role: await stack.key(org, role) for role in ROLES}


async def snapshot(stack: Stack, world_a: dict[str, str], factor_id: str) -> dict[str, Any]:
    """What A sees of its own data: must not move whatever B does."""
    return {
        "activities": await stack.data(ACTIVITIES, world_a["viewer"]),
        "footprint": await stack.data(FOOTPRINT, world_a["viewer"], f=YEAR),
        "factor": await stack.data(
            "query($id: ID!) { factor(factorId: $id) { version retiredFrom } }",
            world_a["viewer"],
            id=factor_id,
        ),
    }


@pytest.fixture(scope="module")
async def world(stack: Stack) -> World:
    a_org, b_org = organisation(), organisation()
    a, b = await keys(stack, a_org), await keys(stack, b_org)
    async with changes(stack, a_org) as heard:
        ids = (await stack.data(RECORD, a["integrator"], ikey="shared", items=ITEMS))[
            "recordActivities"
        ]["activityIds"]
        await heard.settled(ids)
    factor_id = (await stack.data(PUBLISH, a["admin"], v=VALUES))["publishFactor"]["factorId"]
    campaign = (await stack.data(OPEN, a["compliance"]))["openCampaign"]["id"]
    first = await stack.data("{ activities(first: 1) { pageInfo { endCursor } } }", a["viewer"])
    cursor = first["activities"]["pageInfo"]["endCursor"]
    report = await stack.data(GENERATE, a["compliance"], input=REPORT)
    before = await snapshot(stack, a, factor_id)
    assert len(before["activities"]["activities"]["edges"]) == 2  # A sees what B must not
    assert before["footprint"]["footprint"]["total"]["value"] > 0
    report_id = report["generateReport"]["id"]
    return World(a, b, a_org, b_org, ids, factor_id, campaign, cursor, report_id, before)


def codes(answer: dict[str, Any]) -> set[str]:
    return {e["extensions"]["code"] for e in answer.get("errors", [])}


def mentions(answer: Any, ids: list[str]) -> bool:
    text = json.dumps(answer)
    return any(i in text for i in ids)


async def test_b_cannot_read_a_activities_emissions_or_cursors(stack: Stack, world: World) -> None:
    for role in ROLES:
        key = world.b[role]
        for aid in world.activity_ids:
            got = await stack.graphql("query($id: ID!) { activity(id: $id) { id } }", key, id=aid)
            assert codes(got) == {"NOT_FOUND"} and got["data"] is None
            emission = "query($id: ID!) { emission(sourceId: $id) { status } }"
            assert await stack.data(emission, key, id=aid) == {"emission": None}
        listed = await stack.data(ACTIVITIES, key)
        across = await stack.data(ACTIVITIES, key, after=world.cursor)
        unresolved = await stack.data("{ unresolvedActivities { items { sourceId } } }", key)
        assert not mentions([listed, across, unresolved], world.activity_ids)


async def test_b_footprints_hold_nothing_of_a(stack: Stack, world: World) -> None:
    for role in ROLES:
        found = await stack.data(FOOTPRINT, world.b[role], f=YEAR)
        assert found["footprint"]["total"]["value"] == 0
        assert found["footprint"]["unresolved"] == 0
        assert found["footprint"]["groups"] == []
        assert {p["kg"]["value"] for p in found["footprintSeries"]} == {0}
        compare = """query($f: FootprintFilter!) { compareFootprint(filter: $f,
          baseStart: "2023-01-01", baseEnd: "2024-01-01") { current { value } } }"""
        compared = await stack.data(compare, world.b[role], f=YEAR)
        assert {g["current"]["value"] for g in compared["compareFootprint"]} <= {0}


async def test_the_same_question_asked_at_once_is_answered_for_each_caller(
    stack: Stack, world: World
) -> None:
    """The gateway runs identical queries asked at the same time once (gateway/coalesce.py):
    only for callers with the same key, so A's figures or A's key id never reach B."""
    who = "{ me { organisation keyId } }"
    callers = [world.a["viewer"], world.b["viewer"], world.a["admin"]] * 10
    answers = await asyncio.gather(*(stack.data(who, key) for key in callers))
    for key, answer in zip(callers, answers, strict=True):
        assert answer["me"]["keyId"] == key.split("_")[1]
        assert answer["me"]["organisation"] == (
            world.a_org if key in world.a.values() else world.b_org
        )
    viewers = [world.a["viewer"], world.b["viewer"]] * 10
    footprints = await asyncio.gather(*(stack.data(FOOTPRINT, k, f=YEAR) for k in viewers))
    for key, found in zip(viewers, footprints, strict=True):
        total = found["footprint"]["total"]["value"]
        assert (total > 0) if key == world.a["viewer"] else (total == 0)


async def test_b_lists_none_of_a_campaigns_or_request_logs(stack: Stack, world: World) -> None:
    lists = "{ campaigns { items { campaign { id } } } requestLogs { items { id } } }"
    mine = await stack.data(lists, world.a["viewer"])
    assert [p["campaign"]["id"] for p in mine["campaigns"]["items"]] == [world.campaign_id]
    theirs = await stack.data(lists, world.b["viewer"])
    assert theirs == {"campaigns": {"items": []}, "requestLogs": {"items": []}}
    one = "query($id: ID!) { campaign(id: $id) { forms } }"
    assert codes(await stack.graphql(one, world.b["viewer"], id=world.campaign_id)) == {"NOT_FOUND"}


async def test_b_cannot_see_a_own_factor(stack: Stack, world: World) -> None:
    key = world.b["viewer"]
    got = await stack.graphql(
        "query($id: ID!) { factor(factorId: $id) { factorId } }", key, id=world.factor_id
    )
    assert codes(got) == {"NOT_FOUND"}
    search = """{ searchFactors(filter: {source: "a's own study"}) {
      total results { organisation } facets { values { value } } } }"""
    assert (await stack.data(search, world.a["viewer"]))["searchFactors"]["total"] == 1
    assert (await stack.data(search, key))["searchFactors"]["total"] == 0
    everything = await stack.data(
        "{ searchFactors(pageSize: 500) { results { organisation } } }", key
    )
    assert world.a_org not in {r["organisation"] for r in everything["searchFactors"]["results"]}
    releases = await stack.data("{ releases { organisation } }", key)
    assert world.a_org not in {r["organisation"] for r in releases["releases"]}
    resolve = """{ resolveFactors(activityKind: "commute_bike", region: "ISL", on: "2024-05-01")
      { components { factor { factorId organisation } } unresolved } }"""
    resolved = (await stack.data(resolve, key))["resolveFactors"]["components"]
    assert world.factor_id not in {c["factor"]["factorId"] for c in resolved}
    assert world.a_org not in {c["factor"]["organisation"] for c in resolved}


async def test_b_auditors_see_none_of_a_history_lineage_past_or_diffs(
    stack: Stack, world: World
) -> None:
    key = world.b["auditor"]
    history = """query($s: Service!, $stream: String) { auditHistory(service: $s,
      streamId: $stream, first: 1000) { events { streamId payload } } }"""
    for service in ("FACTORS", "INVENTORY", "COMPUTE", "REPORTING"):
        whole = await stack.data(history, key, s=service)
        assert not mentions(whole, [*world.activity_ids, world.factor_id, world.campaign_id])
        verified = await stack.data(
            "query($s: Service!) { verifyLog(service: $s) { ok } }", key, s=service
        )
        assert verified["verifyLog"]["ok"]
    for aid in world.activity_ids:
        stream = await stack.data(history, key, s="INVENTORY", stream=f"activity-{aid}")
        assert stream["auditHistory"]["events"] == []
    lineage = "query($f: FootprintFilter!) { lineage(filter: $f) { items { sourceId } } }"
    assert (await stack.data(lineage, key, f=YEAR))["lineage"]["items"] == []
    past = """query($f: FootprintFilter!) { footprintAsKnownAt(filter: $f,
      asOf: {position: 1000000}) { total { value } } }"""
    assert (await stack.data(past, key, f=YEAR))["footprintAsKnownAt"]["total"]["value"] == 0
    report = await stack.graphql(
        "query($id: ID!) { report(id: $id) { id } }", key, id=world.report_id
    )
    assert codes(report) == {"NOT_FOUND"}
    listed = await stack.data("{ reports(first: 500) { items { id } } }", key)
    assert not mentions(listed, [world.report_id])
    diff = """query($f: FootprintFilter!) { restatementDiff(filter: $f,
      before: {position: 0}) { items { sourceId } } }"""
    assert (await stack.data(diff, key, f=YEAR))["restatementDiff"]["items"] == []


async def test_b_mutations_never_touch_a(stack: Stack, world: World) -> None:
    b = world.b
    aid = world.activity_ids[0]
    correct = """mutation($id: ID!) { correctActivity(id: $id, quantity: 1, unit: "kWh",
      periodStart: "2024-02-01", periodEnd: "2024-03-01", reason: "mine now") { id } }"""
    retract = 'mutation($id: ID!) { retractActivity(id: $id, reason: "gone") { id } }'
    for query in (correct, retract):
        assert codes(await stack.graphql(query, b["integrator"], id=aid)) == {"NOT_FOUND"}
    submit = """mutation($c: ID!) { submitForm(campaignId: $c, site: "b", region: "FRA",
      answers: [{questionId: "km", quantity: 5}]) { id } }"""
    assert codes(await stack.graphql(submit, b["compliance"], c=world.campaign_id)) == {"NOT_FOUND"}
    revise = """mutation($id: ID!, $v: FactorValuesInput!) { reviseFactor(factorId: $id,
      expectedVersion: 1, values: $v, reason: "b") { version } }"""
    retire = """mutation($id: ID!) { retireFactor(factorId: $id, expectedVersion: 1,
      retiredFrom: "2024-06-01", reason: "b") { version } }"""
    assert codes(await stack.graphql(revise, b["admin"], id=world.factor_id, v=VALUES))
    assert codes(await stack.graphql(retire, b["admin"], id=world.factor_id))
    revoke = "mutation($k: String!) { revokeApiKey(keyId: $k) }"
    a_key_id = world.a["viewer"].split("_")[1]
    assert codes(await stack.graphql(revoke, b["admin"], k=a_key_id)) == {"NOT_FOUND"}
    elsewhen = {**ITEMS[0], "periodStart": "2023-02-01", "periodEnd": "2023-03-01"}
    same_key = await stack.data(RECORD, b["integrator"], ikey="shared", items=[elsewhen])
    outcome = same_key["recordActivities"]
    assert not outcome["replayed"] and not mentions(outcome, world.activity_ids)
    assert await snapshot(stack, world.a, world.factor_id) == world.before


async def test_b_rest_uploads_stay_in_b(stack: Stack, world: World) -> None:
    key = world.b["integrator"]
    line = json.dumps(
        {
            "kind": "electricity",
            "quantity": 3,
            "unit": "kWh",
            "site": "b",
            "period_start": "2023-02-01",
            "period_end": "2023-03-01",
            "region": "FRA",
        }
    ).encode()
    headers = {
        "X-API-Key": key,
        "Idempotency-Key": "shared",
        "Content-Type": "application/x-ndjson",
    }
    posted = (await stack.http.post("/v1/activities", content=line, headers=headers)).json()
    assert not posted["replayed"] and not mentions(posted, world.activity_ids)
    params = {
        "name": "shared.ndjson",
        "format": "ndjson",
        "period_start": "2023-02-01",
        "period_end": "2023-03-01",
        "site": "b",
    }
    uploaded = await stack.http.post(
        "/v1/request-logs", params=params, content=LOG_ROW, headers={"X-API-Key": key}
    )
    assert uploaded.json()["object_name"] == f"{world.b_org}/shared.ndjson"
    assert await snapshot(stack, world.a, world.factor_id) == world.before


async def test_b_subscription_hears_nothing_of_a(
    stack: Stack, world: World, live_gateway: str
) -> None:
    async with socket(live_gateway, {"X-API-Key": world.b["viewer"]}) as ws:
        await subscribed(ws, stack, world.b_org)
        async with changes(stack, world.a_org) as heard:
            item = {**ITEMS[0], "site": "a-later"}
            done = await stack.data(RECORD, world.a["integrator"], ikey="later", items=[item])
            ids = done["recordActivities"]["activityIds"]
            await heard.settled(ids)
        heard_by_b = await until_probe(ws, stack, world.b_org)
    assert not mentions(heard_by_b, [*world.activity_ids, *ids])


async def until_probe(ws: Any, stack: Stack, b_org: str) -> list[dict[str, Any]]:
    """What B hears until a probe sent after A's change was announced."""
    probe = r.FootprintChanged(
        tenant_id=b_org, source_id=uuid.uuid4(), status="probe-2", compute_position=0
    )
    await stack.nc.publish(
        r.changes_subject(stack.settings.namespace, b_org), probe.model_dump_json().encode()
    )
    heard: list[dict[str, Any]] = []
    while not heard or heard[-1]["status"] != "probe-2":
        message = await asyncio.wait_for(receive(ws), 10)
        heard.append(message["payload"]["data"]["footprintChanged"])
    return heard
