"""The gateway's queries over the real stack: factors, activities, emissions, footprint."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import Stack, changes, organisation

SEARCH = """query($f: FactorSearchInput) {
  searchFactors(filter: $f, pageSize: 3) {
    total results { factorId version activityKind values { unit kgco2ePerUnit region } }
    facets { name values { value count } }
  }
}"""
FACTOR = """query($id: ID!) { factor(factorId: $id) { factorId version releases
  values { source licence } } }"""
RESOLVE = """{ resolveFactors(activityKind: "electricity", region: "FRA", on: "2024-03-01") {
  components { component factor { factorId } regionUsed } unresolved } }"""
RELEASES = "{ releases { name members { factorId version } } }"
RECORD = """mutation($ikey: String!, $items: [ActivityInput!]!, $defaults: ActivityInput) {
  recordActivities(idempotencyKey: $ikey, activities: $items, defaults: $defaults) {
    activityIds accepted stored replayed rejected { index field reason } } }"""
ACTIVITIES = """query($filter: ActivityFilter, $first: Int!, $after: String) {
  activities(filter: $filter, first: $first, after: $after) {
    edges { cursor node { id kind quantity status
      emission { status total { value min max } lines { scope factor { factorId } } } } }
    pageInfo { hasNextPage endCursor } } }"""
FOOTPRINT = """query($f: FootprintFilter!, $by: [Dimension!]) {
  footprint(filter: $f, groupBy: $by) {
    total { value min max } unresolved position
    groups { key { dimension value } kg { value } share emissions } }
  footprintSeries(filter: $f) { month kg { value } } }"""
COMPARE = """query($f: FootprintFilter!) { compareFootprint(filter: $f, baseStart: "2023-01-01",
  baseEnd: "2024-01-01") { key { dimension value } current { value } base { value } changePct } }"""
UNRESOLVED = "{ unresolvedActivities { total items { sourceId activityKind reason } } }"
YEAR = {"periodStart": "2024-01-01", "periodEnd": "2025-01-01"}
DEFAULTS = {"unit": "kWh", "site": "paris", "region": "FRA", "periodEnd": "2024-02-01"}


def electricity(kwh: float, month: int = 1, **more: Any) -> dict[str, Any]:
    start = f"2024-{month:02d}-01"
    end = f"2024-{month + 1:02d}-01"
    return {"kind": "electricity", "quantity": kwh, "periodStart": start, "periodEnd": end, **more}


async def test_factors_search_get_resolve_and_releases(stack: Stack) -> None:
    key = await stack.key(organisation(), "viewer")
    found = (await stack.data(SEARCH, key, f={"activityKind": "electricity"}))["searchFactors"]
    assert found["total"] > 0
    assert {r["activityKind"] for r in found["results"]} == {"electricity"}
    assert {f["name"] for f in found["facets"]} >= {"region"}
    first = found["results"][0]["factorId"]
    assert (await stack.data(FACTOR, key, id=first))["factor"]["factorId"] == first
    resolved = (await stack.data(RESOLVE, key))["resolveFactors"]
    assert resolved["unresolved"] is None and resolved["components"]
    assert "ademe-base-empreinte" in {
        r["name"] for r in (await stack.data(RELEASES, key))["releases"]
    }
    missing = await stack.graphql(FACTOR, key, id="no-such-factor")
    assert missing["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_record_then_read_activities_emissions_and_footprint(stack: Stack) -> None:
    tenant = organisation()
    writer, viewer = await stack.key(tenant, "integrator"), await stack.key(tenant, "viewer")
    items = [
        electricity(1000, 1),
        electricity(500, 2),
        electricity(250, 2, region="ATA"),
        electricity(-3, 3),
    ]
    async with changes(stack, tenant) as heard:
        answer = await stack.data(RECORD, writer, ikey="k1", items=items, defaults=DEFAULTS)
        outcome = answer["recordActivities"]
        ids = [i for i in outcome["activityIds"] if i]
        await heard.settled(ids)
    assert outcome["accepted"] == 3, outcome
    assert outcome["stored"] and not outcome["replayed"]
    assert [(r["index"], r["field"]) for r in outcome["rejected"]] == [(3, "quantity")]

    again = await stack.data(RECORD, writer, ikey="k1", items=items, defaults=DEFAULTS)
    assert again["recordActivities"]["replayed"]
    assert again["recordActivities"]["activityIds"] == outcome["activityIds"]

    page = (await stack.data(ACTIVITIES, viewer, first=2))["activities"]
    assert [e["node"]["id"] for e in page["edges"]] == ids[:2]
    assert page["pageInfo"]["hasNextPage"]
    emission = page["edges"][0]["node"]["emission"]
    assert emission["status"] == "calculated" and emission["total"]["value"] > 0
    rest = await stack.data(ACTIVITIES, viewer, first=2, after=page["pageInfo"]["endCursor"])
    assert [e["node"]["id"] for e in rest["activities"]["edges"]] == ids[2:]
    assert not rest["activities"]["pageInfo"]["hasNextPage"]
    mid = await stack.data(ACTIVITIES, viewer, first=5, after=page["edges"][0]["cursor"])
    assert [e["node"]["id"] for e in mid["activities"]["edges"]] == ids[1:]
    filtered = await stack.data(ACTIVITIES, viewer, first=5, filter={"region": "ATA"})
    [unresolved] = filtered["activities"]["edges"]
    assert unresolved["node"]["emission"]["status"] == "unresolved"

    fp = await stack.data(FOOTPRINT, viewer, f=YEAR, by=["MONTH"])
    total = fp["footprint"]["total"]["value"]
    assert total > 0 and fp["footprint"]["unresolved"] == 1
    assert sum(g["share"] for g in fp["footprint"]["groups"]) == pytest.approx(1.0)
    series = {p["month"]: p["kg"]["value"] for p in fp["footprintSeries"]}
    assert len(series) == 12 and series["2024-01"] > 0 and series["2024-02"] > 0
    assert sum(series.values()) == pytest.approx(total)
    compared = await stack.data(COMPARE, viewer, f=YEAR)
    [group] = compared["compareFootprint"]
    assert group["current"]["value"] == pytest.approx(total) and group["base"]["value"] == 0
    queue = (await stack.data(UNRESOLVED, viewer))["unresolvedActivities"]
    assert [i["sourceId"] for i in queue["items"]] == [ids[2]]
