"""A request log with bad rows through the REST upload: refused by default; accepted on
demand with its rejects counted, and compute's figure then leaves exactly those rows out."""

from __future__ import annotations

import json
from typing import Any

from tests.e2e.conftest import Stack, changes, organisation

EMISSION = "query($id: ID!) { emission(sourceId: $id) { status total { value } } }"
GOOD = [(2_000_000, "FRA"), (5_000_000, "DEU")]


def row(bytes_: object, client: str = "FRA", device: str = "laptop") -> bytes:
    cells = {"bytes": bytes_, "client_country": client, "server_country": "FRA", "device": device}
    return json.dumps(cells).encode() + b"\n"


def params(name: str, **extra: str) -> dict[str, str]:
    return {
        "name": name, "format": "ndjson", "period_start": "2024-06-01",
        "period_end": "2024-07-01", "site": "www.example.org", **extra,
    }  # fmt: skip


async def upload(stack: Stack, key: str, body: bytes, **query: str) -> Any:
    headers = {"X-API-Key": key, "Content-Type": "application/octet-stream"}
    return await stack.http.post("/v1/request-logs", params=params(**query), content=body,
                                 headers=headers)  # fmt: skip


async def test_bad_rows_are_refused_or_skipped_as_the_caller_chooses(stack: Stack) -> None:
    tenant = organisation()
    key = await stack.key(tenant, "integrator", "viewer")
    good = b"".join(row(b, c) for b, c in GOOD)
    mixed = row(-1) + row(GOOD[0][0], GOOD[0][1]) + row(9, "ZZZ") + row(GOOD[1][0], GOOD[1][1])

    refused = await upload(stack, key, mixed, name="mixed.ndjson")
    assert refused.status_code == 400, refused.text
    error = refused.json()["errors"][0]
    assert (error["extensions"]["code"], error["extensions"]["field"]) == (
        "INVALID_ROWS",
        "rows.1.bytes",
    )
    assert error["message"].startswith("2 of 4 rows are invalid")

    async with changes(stack, tenant) as heard:
        accepted = await upload(stack, key, mixed, name="mixed.ndjson", bad_rows="accept")
        clean = await upload(stack, key, good, name="clean.ndjson")
        assert accepted.status_code == clean.status_code == 200, accepted.text
        check = accepted.json()["schema_check"]
        assert (check["rows_checked"], check["rows_rejected"], check["bad_rows"]) == (
            4,
            2,
            "accept",
        )
        ids = [accepted.json()["log_id"], clean.json()["log_id"]]
        await heard.settled(ids)

    figures = [(await stack.data(EMISSION, key, id=i))["emission"] for i in ids]
    assert [f["status"] for f in figures] == ["calculated", "calculated"]
    assert figures[0]["total"]["value"] == figures[1]["total"]["value"] > 0
    logs = (await stack.data(LOGS, key))["requestLogs"]
    assert [(g["id"], g["check"]["rowsRejected"]) for g in logs["items"]] == [
        (ids[0], 2),
        (ids[1], 0),
    ]
    assert logs["nextCursor"] is None


LOGS = """{ requestLogs(first: 10) { items { id objectName rowCount check { rowsRejected } }
  nextCursor } }"""


SERVER_EMISSION = """query($id: ID!) { emission(sourceId: $id) {
  status total { value } lines { component kg { value min max } } breakdown } }"""


async def test_a_server_footprint_uploaded_with_a_log_replaces_its_data_centre(
    stack: Stack,
) -> None:
    tenant = organisation()
    key = await stack.key(tenant, "integrator", "viewer")
    body = b"".join(row(b, c) for b, c in GOOD)
    bad = await upload(stack, key, body, name="bad.ndjson", server_use_kg="3,2,1")
    assert bad.status_code == 400, bad.text
    assert bad.json()["errors"][0]["extensions"]["code"] == "INVALID_SERVER_FOOTPRINT"
    assert bad.json()["errors"][0]["extensions"]["field"] == "server_use_kg"
    worse = await upload(
        stack, key, body, name="bad.ndjson", server_use_kg="0.2", server_embedded_kg="lots"
    )
    assert worse.status_code == 400, worse.text
    refusal = worse.json()["errors"][0]
    assert refusal["extensions"]["field"] == "server_embedded_kg"
    assert refusal["message"].startswith("server_embedded_kg: 'lots'")

    async with changes(stack, tenant) as heard:
        shared = await upload(
            stack, key, body, name="shared.ndjson", server_use_kg="0.2,0.1,0.4",
            server_embedded_kg="0.05", server_allocation="bytes", server_source="fleet",
        )  # fmt: skip
        assert shared.status_code == 200, shared.text
        assert shared.json()["server"]["use_kg"] == {"value": 0.2, "min": 0.1, "max": 0.4}
        await heard.settled([shared.json()["log_id"]])

    emission = (await stack.data(SERVER_EMISSION, key, id=shared.json()["log_id"]))["emission"]
    lines = {line["component"]: line["kg"] for line in emission["lines"]}
    assert lines["data_centre_operational"] == {"value": 0.2, "min": 0.1, "max": 0.4}
    assert lines["data_centre_embodied"]["value"] == 0.05
    allocation = emission["breakdown"]["constants"]["server_allocation"]
    assert (allocation["basis"], allocation["source"]) == ("bytes", "fleet")
    assert allocation["period_total"] == sum(b for b, _ in GOOD)
