"""Fault tolerance with real processes: while activities are recorded at a steady rate, kill
-9 each service, restart NATS, restart PostgreSQL, replay duplicates, run two compute
replicas. Afterwards every accepted activity has exactly one current emission, the
dashboard equals the logs, every hash chain verifies, and no acknowledged request is lost.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import date

import nats
import pytest
import sqlalchemy as sa
from nats.aio.client import Client as NatsClient
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeout
from nats.js.errors import NotFoundError

from contracts import inventory as inv
from contracts import reporting as r
from contracts.services import HEALTH_VERB, SERVICES
from kernel.client import ServiceClient
from kernel.db import create_engine
from kernel.endpoints import CallContext
from kernel.errors import RemoteError
from kernel.naming import dead_letter_stream, endpoint_subject, events_subject
from kernel.store import EventStore
from tests.e2e.faults.stack import ProcessStack

TENANT = CallContext(tenant_id="faulty", role="integrator")
YEAR = r.Filters(period_start=date(2024, 1, 1), period_end=date(2025, 1, 1))
RETRYABLE = (NoRespondersError, NatsTimeout, RemoteError, TimeoutError, OSError)


@pytest.fixture(scope="module")
def stack() -> Iterator[ProcessStack]:
    # Started from the main thread: the processes die with the thread that started them.
    processes = ProcessStack(namespace=f"f{secrets.token_hex(4)}")
    processes.start_servers()
    for service in SERVICES:
        processes.start(service)
    yield processes
    processes.stop()


@pytest.fixture
async def client(stack: ProcessStack) -> AsyncIterator[NatsClient]:
    assert stack.nats
    nc = await nats.connect(stack.nats.url, max_reconnect_attempts=-1, reconnect_time_wait=0.2)
    yield nc
    await nc.close()


class Recorder:
    """Records one activity at a time, retrying each request with its own key until it is
    acknowledged: an acknowledged activity must never be lost, a retry never duplicated."""

    def __init__(self, nc: NatsClient, namespace: str) -> None:
        self.services = ServiceClient(nc, namespace, timeout=5)
        self.accepted: list[uuid.UUID] = []
        self.grew = asyncio.Condition()

    async def run(self, stop: asyncio.Event) -> None:
        n = 0
        while not stop.is_set():
            await self._record_until_acknowledged(n)
            n += 1
            await asyncio.sleep(0.02)  # the steady rate itself, not a wait for an event

    async def _record_until_acknowledged(self, n: int) -> None:
        request = inv.RecordActivities(
            idempotency_key=f"faults-{n}",
            activities=[
                {
                    "kind": "electricity",
                    "quantity": 1 + n % 7,
                    "unit": "MWh",
                    "region": "FRA",
                    "period_start": "2024-03-01",
                    "period_end": "2024-04-01",
                    "site": f"site-{n % 5}",
                }
            ],
        )
        while True:
            try:
                outcome = await self.services.call(inv.RECORD, request, TENANT)
                break
            except RETRYABLE:
                await asyncio.sleep(0.2)  # back off, then retry with the same key
        async with self.grew:
            self.accepted += [a for a in outcome.activity_ids if a is not None]
            self.grew.notify_all()

    async def progress(self, count: int) -> None:
        """Return once `count` more activities were acknowledged (the stack works again)."""
        async with self.grew:
            target = len(self.accepted) + count
            await asyncio.wait_for(self.grew.wait_for(lambda: len(self.accepted) >= target), 180)


async def ready(nc: NatsClient, namespace: str) -> None:
    for service in SERVICES:
        while True:
            try:
                await nc.request(endpoint_subject(namespace, service, HEALTH_VERB), b"", timeout=5)
                break
            except (NoRespondersError, NatsTimeout):
                await asyncio.sleep(0.1)  # the process is still starting: nothing to await


async def test_the_stack_survives_kills_restarts_duplicates_and_replicas(
    stack: ProcessStack, client: NatsClient
) -> None:
    await asyncio.wait_for(ready(client, stack.namespace), 180)
    recorder, stop = Recorder(client, stack.namespace), asyncio.Event()
    recording = asyncio.create_task(recorder.run(stop))
    await recorder.progress(10)
    for service in ("compute", "inventory", "reporting", "factors"):
        stack.kill(service)
        stack.start(service)
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
    assert await dead_letters(client, stack.namespace) == 0  # outages are waited out
    await check_invariants(stack, recorder.accepted)


async def dead_letters(nc: NatsClient, namespace: str) -> int:
    try:
        info = await nc.jetstream().stream_info(dead_letter_stream(namespace))
    except NotFoundError:
        return 0
    return int(info.state.messages)


async def replay_duplicates(stack: ProcessStack, nc: NatsClient) -> None:
    """Publish some inventory events again, newest first, under new message ids."""
    assert stack.postgres
    engine = create_engine(stack.postgres.url, pool_size=1)
    events = await EventStore(engine, "inventory").read_all(limit=20)
    await engine.dispose()
    js = nc.jetstream()
    for event in reversed(events):
        subject = events_subject(stack.namespace, "inventory", event.type)
        await js.publish(
            subject,
            json.dumps(event.to_json()).encode(),
            headers={"Nats-Msg-Id": f"replayed-{event.event_id}"},
        )


async def check_invariants(stack: ProcessStack, accepted: list[uuid.UUID]) -> None:
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
            per_stream = dict(
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
        footprint, position = await dashboard_total(stack)
        async with engine.connect() as conn:
            logged_total = await conn.scalar(LOGGED_TOTAL, {"position": position})
        assert footprint == pytest.approx(logged_total)
    finally:
        await engine.dispose()


async def settled(engine: sa.ext.asyncio.AsyncEngine, expected: int) -> None:
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


async def dashboard_total(stack: ProcessStack) -> tuple[float, int]:
    assert stack.nats
    nc = await nats.connect(stack.nats.url)
    try:
        services = ServiceClient(nc, stack.namespace, timeout=30)
        viewer = CallContext(tenant_id="faulty", role="viewer")
        async with asyncio.timeout(120):  # reporting catches up with compute's log
            while True:
                answer = await services.call(r.FOOTPRINT, r.Footprint(filters=YEAR), viewer)
                if answer.position >= await _compute_head(stack):
                    return answer.total.value, answer.position
                await asyncio.sleep(0.2)
    finally:
        await nc.close()


async def _compute_head(stack: ProcessStack) -> int:
    assert stack.postgres
    engine = create_engine(stack.postgres.url, pool_size=1)
    try:
        return await EventStore(engine, "compute").head_position()
    finally:
        await engine.dispose()
