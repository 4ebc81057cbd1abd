"""The compute test stack: real event stores for inventory, factors and compute, relayed to
JetStream, with compute's two durable consumers, read models and log as in production.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from nats.aio.client import Client as NatsClient
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts import factors as f
from contracts import inventory as inv
from kernel.consumer import Batched, Consumer, Subscription
from kernel.endpoints import CallContext
from kernel.events import DomainEvent
from kernel.migrations import upgrade
from kernel.naming import events_stream, events_subject
from kernel.relay import Relay
from kernel.store import EventStore
from services.compute.consumers import EmissionWorkflow
from services.compute.domain import EmissionStatus
from services.compute.projections import ReadModels
from services.compute.tables import compute_tables

MIGRATIONS = Path(__file__).resolve().parents[3] / "services" / "compute" / "migrations"
TENANT = CallContext(tenant_id="acme", role="integrator")
CATALOGUE = CallContext(tenant_id=f.GLOBAL_TENANT, role="admin")


@dataclass
class Stack:
    inventory: EventStore
    factors: EventStore
    compute: EventStore
    models: ReadModels
    namespace: str
    js: Any

    async def record(self, event: DomainEvent, stream: str, ctx: CallContext = TENANT) -> None:
        store = self.factors if type(event).__name__ in f.EVENTS.by_type else self.inventory
        await store.append([event.to_new_event(stream, ctx)])

    async def until(
        self, source: uuid.UUID, check: Callable[[EmissionStatus], bool]
    ) -> EmissionStatus:
        async with asyncio.timeout(20):
            while True:
                async with self.compute.engine.connect() as conn:
                    status = await self.models.emission_status(conn, source)
                if status is not None and check(status):
                    return status
                await asyncio.sleep(0.02)

    async def until_factor(self, factor_id: str, version: int, release: str = "") -> None:
        """Compute's copy holds `version` of the factor (and has it in `release`, if given)."""
        fv = self.models.t.factors
        query = sa.select(fv.c.version).where(fv.c.factor_id == factor_id, fv.c.version == version)
        if release:
            query = query.where(sa.literal(release) == sa.any_(fv.c.releases))
        async with asyncio.timeout(8):
            while True:
                async with self.compute.engine.connect() as conn:
                    if await conn.scalar(query) is not None:
                        return
                await asyncio.sleep(0.02)


@pytest.fixture
async def stack(
    engine: AsyncEngine, nats_client: NatsClient, namespace: str
) -> AsyncIterator[Stack]:
    ns, tag = f"{namespace}c{uuid.uuid4().hex[:6]}", uuid.uuid4().hex[:8]
    schemas = {name: f"{name[:3]}_{tag}" for name in ("inventory", "factors", "compute")}
    for schema in schemas.values():
        await upgrade(engine, schema, MIGRATIONS if schema.startswith("com") else None)
    stores = {name: EventStore(engine, schema) for name, schema in schemas.items()}
    models = ReadModels(compute_tables(schemas["compute"]))
    js, stop = nats_client.jetstream(), asyncio.Event()
    workflow = EmissionWorkflow(
        stores["compute"], models, ["ademe-base-empreinte"], allow_fallback=False, js=js
    )
    relays = [
        Relay(stores[s], nats_client, namespace=ns, service=s) for s in ("inventory", "factors")
    ]
    tasks = [asyncio.create_task(r.run(stop)) for r in relays]
    for relay in relays:
        await asyncio.wait_for(relay.active.wait(), 10)
    consumers = [
        # As compute runs: the inventory consumer hands over each batch's fresh events.
        _consumer(
            engine,
            schemas["compute"],
            nats_client,
            ns,
            "inventory",
            Batched(workflow.on_inventory_events),
        ),
        _consumer(engine, schemas["compute"], nats_client, ns, "factors", workflow.on_factor_event),
    ]
    tasks += [asyncio.create_task(c.run(stop)) for c in consumers]
    yield Stack(stores["inventory"], stores["factors"], stores["compute"], models, ns, js)
    stop.set()
    await asyncio.gather(*tasks)


def _consumer(
    engine: AsyncEngine, schema: str, nc: NatsClient, ns: str, service: str, handler: Any
) -> Consumer:
    sub = Subscription(
        f"compute_{service}", events_stream(ns, service), [events_subject(ns, service)]
    )
    return Consumer(engine, schema, nc, sub, handler, namespace=ns, backoff_s=(0.05,))


def values(kg: float, region: str = "FRA", **extra: Any) -> f.FactorValues:
    return f.FactorValues(
        unit="kWh",
        kgco2e_per_unit=kg,
        uncertainty_pct=10,
        region=region,
        valid_from=date(2020, 1, 1),
        scope=2,
        source="test",
        licence="test",
        year=2024,
        **extra,
    )


def electricity(activity_id: uuid.UUID, mwh: float, region: str = "FRA") -> inv.ActivityRecorded:
    return inv.ActivityRecorded(
        activity_id=activity_id,
        kind="electricity",
        quantity=mwh,
        unit="MWh",
        period_start=date(2024, 1, 1),
        period_end=date(2024, 2, 1),
        site="hq",
        region=region,
    )


LOG_CSV = (
    b"bytes,client_country,server_country,device\n"
    + b"1000000000,FRA,FRA,laptop\n" * 3
    + b"500000,DEU,FRA,smartphone\n"
)


async def upload(stack: Stack, content: bytes) -> tuple[str, str]:
    bucket = inv.request_log_bucket(stack.namespace)
    try:
        store = await stack.js.object_store(bucket)
    except Exception:
        store = await stack.js.create_object_store(bucket)
    name = f"logs/{uuid.uuid4()}.csv"
    await store.put(name, content)
    return bucket, name


def received(
    log_id: uuid.UUID, bucket: str, name: str, sha: str, size: int
) -> inv.RequestLogReceived:
    return inv.RequestLogReceived(
        log_id=log_id,
        bucket=bucket,
        object_name=name,
        sha256=sha,
        size=size,
        format="csv",
        period_start=date(2024, 1, 1),
        period_end=date(2024, 2, 1),
        site="app",
    )
