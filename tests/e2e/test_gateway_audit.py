"""Audit queries over the real stack: history, chain verification, lineage, the past, diffs."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Stack, changes, organisation

RECORD = """mutation($items: [ActivityInput!]!) {
  recordActivities(idempotencyKey: "a", activities: $items) { activityIds } }"""
CORRECT = """mutation($id: ID!) { correctActivity(id: $id, quantity: 300, unit: "kWh",
  periodStart: "2024-03-01", periodEnd: "2024-04-01", reason: "typo") { id } }"""
HISTORY = """query($s: Service!, $stream: String) { auditHistory(service: $s, streamId: $stream) {
  events { type streamId streamVersion globalPosition actor payload hash } nextAfterPosition } }"""
VERIFY = "query($s: Service!) { verifyLog(service: $s) { service ok checked } }"
LINEAGE = """query($f: FootprintFilter!) { lineage(filter: $f) { position items {
  sourceId status total { value } lines { factor { factorId version } } sourceEventId } } }"""
PAST = """query($f: FootprintFilter!, $at: AsOfInput!) {
  footprintAsKnownAt(filter: $f, asOf: $at) { total { value } position } }"""
DIFF = """query($f: FootprintFilter!, $before: AsOfInput!) {
  restatementDiff(filter: $f, before: $before) { items { sourceId before { value }
  after { value } cause } totalBefore { value } totalAfter { value } } }"""
NOW = "query($f: FootprintFilter!) { footprint(filter: $f) { total { value } position } }"
YEAR = {"periodStart": "2024-01-01", "periodEnd": "2025-01-01"}
ITEM = {
    "kind": "electricity",
    "quantity": 100.0,
    "unit": "kWh",
    "periodStart": "2024-03-01",
    "periodEnd": "2024-04-01",
    "site": "lyon",
    "region": "FRA",
}


async def _recorded_then_corrected(stack: Stack, tenant: str) -> tuple[str, int]:
    """One activity recorded, then corrected: its id and the compute position in between."""
    writer = await stack.key(tenant, "integrator")
    async with changes(stack, tenant) as heard:
        answer = await stack.data(RECORD, writer, items=[ITEM])
        [aid] = answer["recordActivities"]["activityIds"]
        await heard.settled([aid], "calculated")
        position = heard.last_position
        await stack.data(CORRECT, writer, id=aid)
        heard.seen.clear()
        await heard.settled([aid], "calculated")
    return aid, position


async def test_auditors_read_verify_trace_and_reproduce(stack: Stack) -> None:
    tenant = organisation()
    aid, between = await _recorded_then_corrected(stack, tenant)
    auditor = await stack.key(tenant, "auditor")

    stream = f"activity-{aid}"
    history = (await stack.data(HISTORY, auditor, s="INVENTORY", stream=stream))["auditHistory"]
    assert [e["type"] for e in history["events"]] == ["ActivityRecorded", "ActivityCorrected"]
    for service in ("FACTORS", "INVENTORY", "COMPUTE", "REPORTING"):
        verified = (await stack.data(VERIFY, auditor, s=service))["verifyLog"]
        assert verified["ok"], verified

    traced = (await stack.data(LINEAGE, auditor, f=YEAR))["lineage"]
    [item] = traced["items"]
    assert item["sourceId"] == aid and item["total"]["value"] > 0
    assert item["lines"][0]["factor"]["factorId"]

    now = (await stack.data(NOW, auditor, f=YEAR))["footprint"]["total"]["value"]
    past = await stack.data(PAST, auditor, f=YEAR, at={"position": between})
    assert past["footprintAsKnownAt"]["total"]["value"] * 3 == pytest.approx(now)

    diff = await stack.data(DIFF, auditor, f=YEAR, before={"position": between})
    [changed] = diff["restatementDiff"]["items"]
    assert changed["sourceId"] == aid and changed["after"]["value"] == now
    assert changed["cause"]


async def test_audit_needs_an_auditor_role(stack: Stack) -> None:
    tenant = organisation()
    for role in ("viewer", "integrator"):
        key = await stack.key(tenant, role)
        for query, variables in (
            (VERIFY, {"s": "COMPUTE"}),
            (LINEAGE, {"f": YEAR}),
            (PAST, {"f": YEAR, "at": {"position": 0}}),
        ):
            answer = await stack.graphql(query, key, **variables)
            assert answer["errors"][0]["extensions"]["code"] == "FORBIDDEN"
