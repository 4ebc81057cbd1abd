"""A request log uploaded through REST, then its footprint by device and country in GraphQL."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.e2e.conftest import Stack, changes, organisation

ROWS = [
    {"bytes": 4_000_000, "client_country": "FRA", "server_country": "DEU", "device": "laptop"},
    {"bytes": 1_000_000, "client_country": "DEU", "server_country": "DEU", "device": "smartphone"},
    {"bytes": 2_500_000, "client_country": "FRA", "server_country": "FRA", "device": "desktop"},
    {"bytes": 500_000, "client_country": "USA", "server_country": "FRA", "device": "smartphone"},
]
PARAMS = {
    "name": "march.ndjson",
    "format": "ndjson",
    "period_start": "2024-03-01",
    "period_end": "2024-04-01",
    "site": "www.example.org",
}
FOOTPRINT = """query($f: FootprintFilter!, $by: [Dimension!]) {
  footprint(filter: $f, groupBy: $by) {
    total { value min max } groups { key { dimension value } kg { value min max } share } } }"""
BREAKDOWN = "query($id: ID!) { emission(sourceId: $id) { status total { value } breakdown } }"
YEAR = {"periodStart": "2024-01-01", "periodEnd": "2025-01-01"}


async def _uploaded(stack: Stack, tenant: str) -> str:
    """The log's id, once reporting has projected its emission."""
    key = await stack.key(tenant, "integrator")
    body = b"".join(json.dumps(row).encode() + b"\n" for row in ROWS)
    async with changes(stack, tenant) as heard:
        response = await stack.http.post(
            "/v1/request-logs", params=PARAMS, content=body, headers={"X-API-Key": key}
        )
        assert response.status_code == 200, response.text
        log_id: str = response.json()["log_id"]
        await heard.settled([log_id], "calculated")
    return log_id


def _groups(answer: dict[str, Any], dimension: str) -> dict[str, dict[str, Any]]:
    return {
        g["key"][0]["value"]: g
        for g in answer["footprint"]["groups"]
        if g["key"][0]["dimension"] == dimension
    }


async def test_footprint_by_device_returns_the_logs_devices_with_their_shares(
    stack: Stack,
) -> None:
    tenant = organisation()
    log_id = await _uploaded(stack, tenant)
    viewer = await stack.key(tenant, "viewer")
    emission = (await stack.data(BREAKDOWN, viewer, id=log_id))["emission"]
    assert emission["status"] == "calculated"
    total = emission["total"]["value"]
    by_device = emission["breakdown"]["by_device"]

    answer = await stack.data(FOOTPRINT, viewer, f=YEAR, by=["DEVICE"])
    devices = _groups(answer, "device")
    assert set(devices) == {"laptop", "smartphone", "desktop"}
    for device, group in devices.items():
        assert group["kg"]["value"] == pytest.approx(by_device[device]["value"] / 1000)
        assert group["share"] == pytest.approx(by_device[device]["value"] / 1000 / total)
    assert answer["footprint"]["total"]["value"] == pytest.approx(total)
    assert sum(g["share"] for g in devices.values()) == pytest.approx(1.0)

    countries = _groups(await stack.data(FOOTPRINT, viewer, f=YEAR, by=["COUNTRY"]), "country")
    assert set(countries) == {"FRA", "DEU", "USA"}
    assert sum(g["kg"]["value"] for g in countries.values()) == pytest.approx(total)

    refused = await stack.graphql(FOOTPRINT, viewer, f=YEAR, by=["DEVICE", "COUNTRY"])
    assert refused["errors"][0]["extensions"]["field"] == "groupBy"
