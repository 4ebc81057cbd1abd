"""Fault tolerance with real processes: while an integrator records activities through the
gateway at a steady rate, kill -9 each service and the gateway, restart NATS, restart
PostgreSQL, replay duplicates, run two compute replicas. Afterwards every accepted activity
has exactly one current emission, the dashboard (read through the gateway) equals the logs,
every hash chain verifies, and no acknowledged request is lost.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import nats
import pytest
import sqlalchemy as sa
from nats.aio.client import Client as NatsClient
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeout
from nats.js.errors import NotFoundError
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.processes import gateway_up
from contracts.services import HEALTH_VERB, SERVICES
from kernel.db import create_engine
from kernel.naming import dead_letter_stream, endpoint_subject, events_subject
from kernel.store import EventStore
from tests.e2e.faults.recorder import Recorder
from tests.e2e.faults.stack import GATEWAY, ProcessStack

ORGANISATION = "faulty"
FOOTPRINT = """
query Dashboard($filter: FootprintFilter!) {
  footprint(filter: $filter) { total { value } position }
}"""
YEAR = {"periodStart": "2024-01-01", "periodEnd": "2025-01-01"}


@pytest.fixture(scope="module")
def stack() -> Iterator[ProcessStack]:
    # Started from the main thread: the processes die with the thread that started them.
    processes = ProcessStack(namespace=f"f{secrets.token_hex(4)}")
    processes.start_servers()
    for service in (*SERVICES, GATEWAY):
        processes.start(service)
    yield processes
    processes.stop()


@pytest.fixture
async def client(stack: ProcessStack) -> AsyncIterator[NatsClient]:
    assert stack.nats
    nc = await nats.connect(stack.nats.url, max_reconnect_attempts=-1, reconnect_time_wait=0.2)
    yield nc
    await nc.close()


@pytest.fixture
async def gateway(stack: ProcessStack) -> AsyncIterator[httpx.AsyncClient]:
    """The test organisation's integrator, holding a key an operator made with the CLI."""
    key = stack.create_key(ORGANISATION, "integrator", "viewer")
    headers = {"X-API-Key": key}
    async with httpx.AsyncClient(base_url=stack.gateway_url, headers=headers, timeout=15) as http:
        yield http


async def ready(nc: NatsClient, namespace: str, http: httpx.AsyncClient) -> None:
    for service in SERVICES:
        while True:
            try:
                await nc.request(endpoint_subject(namespace, service, HEALTH_VERB), b"", timeout=5)
                break
            except (NoRespondersError, NatsTimeout):
                await asyncio.sleep(0.1)  # the process is still starting: nothing to await
    while True:
        if await gateway_up(http):
            return
        await asyncio.sleep(0.1)  # uvicorn is still starting: nothing to await


async def test_the_stack_survives_kills_restarts_duplicates_and_replicas(
    stack: ProcessStack, client: NatsClient, gateway: httpx.AsyncClient
) -> None:
    await asyncio.wait_for(ready(client, stack.namespace, gateway), 180)
    recorder, stop = Recorder(gateway), asyncio.Event()
    recording = asyncio.create_task(recorder.run(stop))
    await recorder.progress(10)
    for process in ("compute", "inventory", "reporting", "factors", GATEWAY):
        stack.kill(process)
        stack.start(process)
        await recorder.progress(10)
    stack.restart_nats()
    await recorder.progress(10)
    stack.restart_postgres()
    await recorder.progress(10)
    stack.start("compute")  # a second replica on the same durable consumer
    await recorder.progress(20)
    await replay_duplicates(stack, client)
    await recorder.progress(10)
    stop.set()
    await recording
    print(f"accepted {len(recorder.accepted)}, replayed answers {recorder.replayed}, "
          f"retried failures {dict(recorder.failures)}")  # fmt: skip
    for n in (0, len(recorder.answered) // 2, len(recorder.answered) - 1):
        assert await recorder.resend(n) == recorder.answered[n]  # a retry never duplicates
    assert await dead_letters(client, stack.namespace) == 0  # outages are waited out
    await check_invariants(stack, recorder.accepted, gateway)


async def dead_letters(nc: NatsClient, namespace: str) -> int:
    try:
        info = await nc.jetstream().stream_info(dead_letter_stream(namespace))
    except NotFoundError:
        return 0
    return int(info.state.messages)


async def replay_duplicates(stack: ProcessStack, nc: NatsClient) -> None:
    """Publish some inventory events (compute's input) and compute events (reporting's) again,
    newest first, under new message ids."""
    assert stack.postgres
    engine = create_engine(stack.postgres.url, pool_size=1)
    js = nc.jetstream()
    for service in ("inventory", "compute"):
        events = await EventStore(engine, service).read_all(limit=20)
        for event in reversed(events):
            subject = events_subject(stack.namespace, service, event.type)
            await js.publish(
                subject,
                json.dumps(event.to_json()).encode(),
                headers={"Nats-Msg-Id": f"replayed-{event.event_id}"},
            )
    await engine.dispose()


async def check_invariants(
    stack: ProcessStack, accepted: list[uuid.UUID], gateway: httpx.AsyncClient
) -> None:
    assert stack.postgres
    engine = create_engine(stack.postgres.url, pool_size=2)
    try:
        await settled(engine, len(accepted))
        async with engine.connect() as conn:
            recorded = set(
                await conn.scalars(
                    sa.text(
                        "SELECT (payload->>'activity_id')::uuid FROM inventory.events "
                        "WHERE type = 'ActivityRecorded'"
                    )
                )
            )
            per_stream: dict[str, int] = dict(
                (
                    await conn.execute(
                        sa.text(
                            "SELECT stream_id, count(*) FROM compute.events "
                            "WHERE type = 'EmissionCalculated' GROUP BY stream_id"
                        )
                    )
                ).all()
            )
        assert set(accepted) <= recorded and len(recorded) == len(set(accepted))
        assert all(per_stream.get(f"emission-{a}") == 1 for a in accepted)
        for service in SERVICES:
            assert (await EventStore(engine, service).verify_chain()).ok, service
        # Restatements may still be flowing (a release arriving after an activity): compare
        # the dashboard with the logs at the very position the dashboard was read at.
        footprint, position = await dashboard_total(stack, gateway)
        async with engine.connect() as conn:
            logged_total = await conn.scalar(LOGGED_TOTAL, {"position": position})
        assert footprint == pytest.approx(logged_total)
    finally:
        await engine.dispose()


async def settled(engine: AsyncEngine, expected: int) -> None:
    """Wait (polling the database, with a deadline) until compute has an emission for all."""
    query = sa.text("SELECT count(*) FROM compute.emissions WHERE status = 'calculated'")
    async with asyncio.timeout(180):
        while True:
            async with engine.connect() as conn:
                if await conn.scalar(query) == expected:
                    return
            await asyncio.sleep(0.2)


LOGGED_TOTAL = sa.text(
    "SELECT sum((payload->'emission'->'total'->>'value')::float8) FROM ("
    "SELECT DISTINCT ON (stream_id) payload FROM compute.events "
    "WHERE global_position <= :position ORDER BY stream_id, stream_version DESC) latest"
)


async def dashboard_total(stack: ProcessStack, gateway: httpx.AsyncClient) -> tuple[float, int]:
    """The organisation's total for 2024 as its dashboard reads it (through the gateway), once
    reporting has caught up with compute's log; and the position it was read at."""
    async with asyncio.timeout(120):
        while True:
            footprint = await _footprint(gateway)
            if footprint["position"] >= await _compute_head(stack):
                return footprint["total"]["value"], footprint["position"]
            await asyncio.sleep(0.2)  # reporting is catching up: poll, with the deadline


async def _footprint(gateway: httpx.AsyncClient) -> dict[str, Any]:
    body = {"query": FOOTPRINT, "variables": {"filter": YEAR}}
    answer = (await gateway.post("/graphql", json=body)).json()
    assert "errors" not in answer, answer["errors"]
    found: dict[str, Any] = answer["data"]["footprint"]
    return found


async def _compute_head(stack: ProcessStack) -> int:
    assert stack.postgres
    engine = create_engine(stack.postgres.url, pool_size=1)
    try:
        return await EventStore(engine, "compute").head_position()
    finally:
        await engine.dispose()
