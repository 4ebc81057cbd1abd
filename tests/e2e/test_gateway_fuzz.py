"""Schemathesis against the REST OpenAPI of the real gateway (uvicorn, real services): no
generated request, valid or not, with a valid key, a wrong one or none, gets a 5xx.

Hypothesis drives synchronous HTTP, so it runs in a worker thread while the event loop
serves the gateway. The upload routes read their body raw (the OpenAPI does not describe
it), so bodies are fuzzed by a strategy of our own: NDJSON-ish and CSV-ish lines, bytes.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.generation import GenerationMode

from tests.e2e.conftest import Stack, organisation

EXAMPLES = 60  # per operation and generation mode
RUN = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
               suppress_health_check=list(HealthCheck))  # fmt: skip
MEDIA = ["application/x-ndjson", "text/csv", "application/json", "application/octet-stream", ""]


def line() -> st.SearchStrategy[bytes]:
    json_ish = st.dictionaries(
        st.sampled_from(["kind", "quantity", "unit", "period_start", "period_end", "site",
                         "region", "attributes", "bytes", "client_country"]),
        st.one_of(st.none(), st.booleans(), st.floats(allow_nan=True), st.text(max_size=12),
                  st.integers(), st.lists(st.integers(), max_size=2)),
    ).map(lambda d: str(d).replace("'", '"').encode())  # fmt: skip
    csv_ish = st.lists(st.text(max_size=8), max_size=8).map(lambda c: ",".join(c).encode())
    return st.one_of(json_ish, csv_ish, st.binary(max_size=40))


BODIES = st.lists(line(), max_size=6).map(lambda lines: b"\n".join(lines))


def no_5xx(response: Any, what: str) -> None:
    assert response.status_code < 500, f"{what}: {response.status_code} {response.text[:500]}"


def fuzz_operations(openapi: dict[str, Any], base: str, keys: list[str | None]) -> int:
    """Every operation, positive and negative cases, each with one of `keys`; cases run."""
    schema = schemathesis.openapi.from_dict(openapi)
    ran = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @RUN
            @given(case=operation.as_strategy(generation_mode=mode), key=st.sampled_from(keys))
            def check(case: Any, key: str | None) -> None:
                nonlocal ran
                headers = {"X-API-Key": key} if key else {}
                no_5xx(case.call(base_url=base, headers=headers, timeout=60), repr(case))
                ran += 1

            try:
                check()
            except Unsatisfiable:  # some operations have no invalid form to generate
                assert mode is GenerationMode.NEGATIVE, operation.label
    return ran


def fuzz_bodies(base: str, keys: list[str | None]) -> None:
    """Raw bodies of every kind on the upload routes."""
    with httpx.Client(base_url=base, timeout=60) as http:

        @RUN
        @given(body=BODIES, media=st.sampled_from(MEDIA), key=st.sampled_from(keys))
        def check(body: bytes, media: str, key: str | None) -> None:
            headers = {"Content-Type": media, "Idempotency-Key": "fuzz", **_key(key)}
            no_5xx(http.post("/v1/activities", content=body, headers=headers), repr(body))
            params = {"name": "fuzz.log", "format": "ndjson", "period_start": "2024-01-01",
                      "period_end": "2024-02-01", "site": "fuzz"}  # fmt: skip
            answer = http.post("/v1/request-logs", params=params, content=body, headers=_key(key))
            no_5xx(answer, repr(body))

        check()


def _key(key: str | None) -> dict[str, str]:
    return {"X-API-Key": key} if key else {}


async def test_no_generated_request_gets_a_5xx(stack: Stack, live_gateway: str) -> None:
    base = live_gateway.replace("ws://", "http://").removesuffix("/graphql")
    openapi = (await stack.http.get("/openapi.json")).json()
    valid = await stack.key(organisation(), "integrator", "auditor")
    keys: list[str | None] = [valid, None, "emp_0000_wrong", "not-a-key"]
    ran = await asyncio.to_thread(fuzz_operations, openapi, base, keys)
    assert ran >= len(openapi["paths"]) * EXAMPLES  # the cases did run, with every route
    await asyncio.to_thread(fuzz_bodies, base, keys)


async def test_what_the_fuzzing_found_is_refused_by_line(stack: Stack) -> None:
    key = await stack.key(organisation(), "integrator")
    for body, media in [
        (b"kind,quantity\nelectricity,1\r2\n", "text/csv"),  # a stray carriage return
        (b"[" * 100_000 + b"\n", "application/x-ndjson"),  # nested past json's depth
    ]:
        headers = {"Content-Type": media, "Idempotency-Key": "found", "X-API-Key": key}
        answer = await stack.http.post("/v1/activities", content=body, headers=headers)
        assert answer.status_code == 200, answer.text
        assert [(r["index"], r["field"]) for r in answer.json()["rejected"]] == [(0, "line")]
    headers = {"Content-Type": "text/csv", "Idempotency-Key": "found2", "X-API-Key": key}
    bad_header = await stack.http.post("/v1/activities", content=b"ki\rnd\n", headers=headers)
    assert bad_header.status_code == 400
    assert bad_header.json()["errors"][0]["extensions"]["field"] == "header"
