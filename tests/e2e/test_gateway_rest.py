"""REST for integrators over the real stack: bulk activities and streamed request logs."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
from nats.aio.client import Client as NatsClient

from contracts import inventory as inv
from tests.e2e.conftest import Stack, organisation

LINE = {
    "kind": "electricity",
    "unit": "kWh",
    "periodStart": "2024-06-01",
    "periodEnd": "2024-07-01",
    "site": "lille",
    "region": "FRA",
}
CSV = (
    "kind,quantity,unit,period_start,period_end,site,region\n"
    "electricity,10,kWh,2024-06-01,2024-07-01,lille,FRA\n"
    "electricity,lots,kWh,2024-06-01,2024-07-01,lille,FRA\n"
    "electricity,30,kWh,2024-06-01\n"
)
LIST = "{ activities(first: 100) { edges { node { id quantity } } } }"


def ndjson(*items: Any) -> bytes:
    return b"".join((json.dumps(i) if isinstance(i, dict) else i).encode() + b"\n" for i in items)


def item(quantity: float) -> dict[str, Any]:
    return {
        "kind": "electricity",
        "quantity": quantity,
        "unit": "kWh",
        "period_start": "2024-06-01",
        "period_end": "2024-07-01",
        "site": "lille",
        "region": "FRA",
    }


async def post(
    stack: Stack, key: str | None, body: bytes, kind: str, idempotency: str = "r1"
) -> httpx.Response:
    headers = {"Content-Type": kind, "Idempotency-Key": idempotency}
    if key:
        headers["X-API-Key"] = key
    return await stack.http.post("/v1/activities", content=body, headers=headers)


async def test_ndjson_is_recorded_item_by_item_and_a_retry_answers_the_first(
    stack: Stack,
) -> None:
    tenant = organisation()
    key = await stack.key(tenant, "integrator")
    body = ndjson(item(1), "not json", item(-5), item(4))
    first = await post(stack, key, body, "application/x-ndjson")
    assert first.status_code == 200, first.text
    outcome = first.json()
    assert outcome["accepted"] == 2 and outcome["batches"] == 1 and not outcome["replayed"]
    assert [(r["index"], r["field"]) for r in outcome["rejected"]] == [
        (1, "line"),
        (2, "quantity"),
    ]
    ids = outcome["activity_ids"]
    assert ids[1] is None and ids[2] is None and ids[0] and ids[3]

    again = (await post(stack, key, body, "application/x-ndjson")).json()
    assert again["replayed"] and again["activity_ids"] == ids
    listed = (await stack.data(LIST, key))["activities"]["edges"]
    assert sorted(e["node"]["id"] for e in listed) == sorted([ids[0], ids[3]])


async def test_csv_and_large_bodies_go_in_batches(stack: Stack) -> None:
    key = await stack.key(organisation(), "integrator")
    small = (await post(stack, key, CSV.encode(), "text/csv")).json()
    assert small["accepted"] == 1
    assert [(r["index"], r["field"]) for r in small["rejected"]] == [(1, "quantity"), (2, "line")]

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, 2500, 500):
            yield ndjson(*(item(q) for q in range(start, start + 500)))

    headers = {"Content-Type": "application/x-ndjson", "Idempotency-Key": "big", "X-API-Key": key}
    big = (await stack.http.post("/v1/activities", content=chunks(), headers=headers)).json()
    assert (big["accepted"], big["batches"], big["rejected"]) == (2500, 3, [])


async def test_rest_routes_check_keys_roles_and_media_types(stack: Stack) -> None:
    tenant = organisation()
    viewer = await stack.key(tenant, "viewer")
    writer = await stack.key(tenant, "integrator")
    assert (await post(stack, None, ndjson(item(1)), "application/x-ndjson")).status_code == 401
    refused = await post(stack, viewer, ndjson(item(1)), "application/x-ndjson")
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await post(stack, writer, b"<xml/>", "application/xml")).status_code == 415
    no_key = await stack.http.post(
        "/v1/activities",
        content=ndjson(item(1)),
        headers={"Content-Type": "application/x-ndjson", "X-API-Key": writer},
    )
    assert no_key.status_code == 422
    assert no_key.json()["errors"][0]["extensions"] == {
        "code": "BAD_USER_INPUT",
        "field": "idempotency-key",
    }


async def test_a_request_log_streams_into_the_bucket_and_is_registered(stack: Stack) -> None:
    tenant = organisation()
    key = await stack.key(tenant, "integrator")
    body = b"".join(
        b'{"bytes": %d, "client_country": "FRA", "server_country": "DEU", "device": "laptop"}\n' % i
        for i in range(50_000)
    )

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 65_536):
            yield body[start : start + 65_536]

    params = {
        "name": "june.ndjson",
        "format": "ndjson",
        "period_start": "2024-06-01",
        "period_end": "2024-07-01",
        "site": "www.example.org",
    }
    headers = {"X-API-Key": key, "Content-Type": "application/octet-stream"}
    response = await stack.http.post(
        "/v1/request-logs", params=params, content=chunks(), headers=headers
    )
    assert response.status_code == 200, response.text
    view = response.json()
    assert view["object_name"] == f"{tenant}/june.ndjson"
    assert view["sha256"] == hashlib.sha256(body).hexdigest()
    assert (view["size"], view["row_count"]) == (len(body), 50_000)
    bad = await stack.http.post(
        "/v1/request-logs", params={**params, "name": "../x"}, content=b"{}", headers=headers
    )
    assert bad.status_code == 422


async def test_the_openapi_document_lists_the_routes(stack: Stack) -> None:
    paths = (await stack.http.get("/openapi.json")).json()["paths"]
    assert {"/v1/activities", "/v1/request-logs"} <= set(paths)


async def test_a_stored_request_log_is_never_replaced_and_a_retry_replays(
    stack: Stack, services: NatsClient
) -> None:
    tenant = organisation()
    headers = {"X-API-Key": await stack.key(tenant, "integrator")}
    params = {
        "name": "july.ndjson",
        "format": "ndjson",
        "period_start": "2024-07-01",
        "period_end": "2024-08-01",
        "site": "www.example.org",
    }
    row = b'{"bytes": %d, "client_country": "FRA", "server_country": "DEU", "device": "laptop"}\n'
    first, other = row % 1000, row % 2000

    async def upload(body: bytes) -> httpx.Response:
        return await stack.http.post(
            "/v1/request-logs", params=params, content=body, headers=headers
        )

    registered = await upload(first)
    replaced = await upload(other)
    retried = await upload(first)

    assert registered.status_code == 200, registered.text
    assert replaced.status_code == 409, replaced.text
    assert replaced.json()["errors"][0]["extensions"] == {"code": "ALREADY_STORED", "field": "name"}
    assert retried.status_code == 200, retried.text
    assert retried.json()["log_id"] == registered.json()["log_id"]
    store = await services.jetstream().object_store(
        inv.request_log_bucket(stack.settings.namespace)
    )
    assert (await store.get(f"{tenant}/july.ndjson")).data == first
    names = [
        o.name for o in await store.list(ignore_deletes=True) if o.name.startswith(f"{tenant}/")
    ]
    assert names == [f"{tenant}/july.ndjson"]  # no staging copy left behind


async def test_two_uploads_racing_for_a_new_name_never_lose_the_winner(
    stack: Stack, services: NatsClient
) -> None:
    tenant = organisation()
    headers = {"X-API-Key": await stack.key(tenant, "integrator")}
    params = {
        "name": "race.ndjson",
        "format": "ndjson",
        "period_start": "2024-08-01",
        "period_end": "2024-09-01",
        "site": "www.example.org",
    }
    row = b'{"bytes": %d, "client_country": "FRA", "server_country": "DEU", "device": "laptop"}\n'
    first, second = row % 1000 * 3, row % 2000
    second_answered = asyncio.Event()

    async def first_body() -> AsyncIterator[bytes]:
        yield first[:10]
        await second_answered.wait()  # the second upload runs while this one is in flight
        yield first[10:]

    async def upload(body: Any) -> httpx.Response:
        return await stack.http.post(
            "/v1/request-logs", params=params, content=body, headers=headers
        )

    async def second_upload() -> httpx.Response:
        await claimed(services, stack.settings.namespace, f"{tenant}/race.ndjson")
        try:
            return await upload(second)
        finally:
            second_answered.set()

    winner, loser = await asyncio.gather(upload(first_body()), second_upload())
    assert winner.status_code == 200, winner.text
    assert loser.status_code == 409, loser.text
    assert loser.json()["errors"][0]["extensions"] == {"code": "CONFLICT", "field": "name"}
    assert winner.json()["sha256"] == hashlib.sha256(first).hexdigest()
    store = await services.jetstream().object_store(
        inv.request_log_bucket(stack.settings.namespace)
    )
    assert (await store.get(f"{tenant}/race.ndjson")).data == first
    retried = await upload(second)  # the name is taken for good now, by other bytes
    assert retried.json()["errors"][0]["extensions"]["code"] == "ALREADY_STORED"


async def claimed(nc: NatsClient, namespace: str, object_name: str) -> None:
    """Returns once an upload has claimed `object_name` (it watches the claims bucket)."""
    bucket = f"{inv.request_log_bucket(namespace)}_names"
    claims = await nc.jetstream().create_key_value(bucket=bucket)  # or the existing one
    watcher = await claims.watch(hashlib.sha256(object_name.encode()).hexdigest())
    try:
        while (entry := await watcher.updates(timeout=30)) is None:
            pass  # None marks "no earlier value": wait for the claim itself
        assert entry.value is not None and b"uploading" in entry.value
    finally:
        await watcher.stop()
