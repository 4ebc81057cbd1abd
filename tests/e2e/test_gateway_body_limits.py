"""Body size limits on the real stack: uploads cut off as they cross the limit, nothing stored."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from nats.js.errors import NotFoundError

from contracts import inventory as inv
from gateway.app import create_app
from tests.e2e.conftest import Stack, organisation
from tests.e2e.test_gateway_rest import LIST, item, ndjson

UPLOAD_LIMIT, BODY_LIMIT = 256 * 1024, 4096
NDJSON = "application/x-ndjson"
LOG_PARAMS = {
    "format": "ndjson",
    "period_start": "2024-06-01",
    "period_end": "2024-07-01",
    "site": "www.example.org",
}


@dataclass
class Endless:
    """A body that never ends, counting what the server pulled of it."""

    chunk: bytes
    sent: int = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in itertools.count():
            self.sent += len(self.chunk)
            yield self.chunk


@pytest.fixture
async def capped(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    """A gateway with small limits, in front of the session's services."""
    limits = {"max_upload_bytes": UPLOAD_LIMIT, "max_body_bytes": BODY_LIMIT}
    app = create_app(stack.settings.model_copy(update=limits))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
            yield http


def assert_too_large(response: httpx.Response) -> None:
    assert response.status_code == 413, response.text
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "PAYLOAD_TOO_LARGE", "field": "body"}
    assert f"{UPLOAD_LIMIT}-byte limit" in error["message"] or str(BODY_LIMIT) in error["message"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_an_endless_activity_stream_is_cut_off_and_nothing_is_recorded(
    stack: Stack, capped: httpx.AsyncClient
) -> None:
    key = await stack.key(organisation(), "integrator")
    body = Endless(ndjson(*(item(q) for q in range(100))))  # 1000 items make a batch
    headers = {"Content-Type": NDJSON, "Idempotency-Key": "endless", "X-API-Key": key}
    response = await capped.post("/v1/activities", content=body, headers=headers)
    assert_too_large(response)
    assert body.sent <= UPLOAD_LIMIT + 2 * len(body.chunk)  # cut off where it crossed
    assert (await stack.data(LIST, key))["activities"]["edges"] == []  # not even a batch


async def test_an_activity_body_within_the_limit_is_recorded(
    stack: Stack, capped: httpx.AsyncClient
) -> None:
    key = await stack.key(organisation(), "integrator")
    body = ndjson(*(item(q) for q in range(1, 51)))
    headers = {"Content-Type": NDJSON, "Idempotency-Key": "fits", "X-API-Key": key}
    outcome = (await capped.post("/v1/activities", content=body, headers=headers)).json()
    assert (outcome["accepted"], outcome["batches"]) == (50, 1)


async def test_an_announced_length_over_the_limit_is_refused_before_reading(
    stack: Stack, capped: httpx.AsyncClient
) -> None:
    key = await stack.key(organisation(), "integrator")
    headers = {"Content-Type": NDJSON, "Idempotency-Key": "big", "X-API-Key": key}
    assert_too_large(await capped.post("/v1/activities", content=b" " * (UPLOAD_LIMIT + 1),
                                       headers=headers))  # fmt: skip
    query = {"query": "{ me { organisation } }", "variables": {"pad": "x" * BODY_LIMIT}}
    assert_too_large(await capped.post("/graphql", json=query, headers={"X-API-Key": key}))


async def test_an_endless_request_log_is_cut_off_and_leaves_nothing_in_the_bucket(
    stack: Stack, capped: httpx.AsyncClient
) -> None:
    tenant = organisation()
    key = await stack.key(tenant, "integrator")
    await capped.post(  # makes sure the bucket exists, so its stream can be counted
        "/v1/request-logs", params={**LOG_PARAMS, "name": "small.ndjson"},
        content=b'{"bytes": 1, "client_country": "FRA"}\n', headers={"X-API-Key": key},
    )  # fmt: skip
    js = stack.nc.jetstream()
    bucket = inv.request_log_bucket(stack.settings.namespace)
    stream = f"OBJ_{bucket}"
    before = (await js.stream_info(stream)).state.messages
    body = Endless(b'{"bytes": 1000, "client_country": "FRA", "server_country": "DEU"}\n' * 500)
    response = await capped.post(
        "/v1/request-logs", params={**LOG_PARAMS, "name": "endless.ndjson"},
        content=body, headers={"X-API-Key": key},
    )  # fmt: skip
    assert_too_large(response)
    assert body.sent <= UPLOAD_LIMIT + 2 * len(body.chunk)
    store = await js.object_store(bucket)
    with pytest.raises(NotFoundError):
        await store.get_info(f"{tenant}/endless.ndjson")
    assert (await js.stream_info(stream)).state.messages == before  # its chunks purged
