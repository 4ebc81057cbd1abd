"""Reporting against real PostgreSQL and NATS: compute's events in, footprint answers out."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts import compute as c
from contracts import reporting as r
from kernel.consumer import Batched, Consumer, Subscription
from kernel.endpoints import CallContext
from kernel.events import DomainEvent
from kernel.migrations import upgrade
from kernel.naming import events_stream, events_subject
from kernel.relay import Relay
from kernel.store import EventStore
from services.reporting.handlers import Reporting
from services.reporting.projections import EmissionVersions
from services.reporting.tables import reporting_tables

MIGRATIONS = Path(__file__).resolve().parents[3] / "services" / "reporting" / "migrations"
ACME = CallContext(tenant_id="acme", role="auditor")
GLOBEX = CallContext(tenant_id="globex", role="auditor")
YEAR = r.Filters(period_start=date(2024, 1, 1), period_end=date(2025, 1, 1))


@dataclass
class Setup:
    compute: EventStore
    reporting: Reporting
    changes: asyncio.Queue[r.FootprintChanged]
    namespace: str

    async def emit(self, event: DomainEvent, source: uuid.UUID, ctx: CallContext = ACME) -> int:
        stream = f"emission-{source}"
        current = len(await self.compute.read_stream(stream))
        [recorded] = await self.compute.append(
            [event.to_new_event(stream, ctx)], expected_versions={stream: current}
        )
        while (
            await asyncio.wait_for(self.changes.get(), 10)
        ).compute_position < recorded.global_position:
            pass
        return recorded.global_position


@asynccontextmanager
async def running(
    engine: AsyncEngine, nats_client: NatsClient, namespace: str
) -> AsyncIterator[Setup]:
    """Compute's log and relay, reporting's schema and consumer, on a namespace of their own."""
    ns, tag = f"{namespace}r{uuid.uuid4().hex[:6]}", uuid.uuid4().hex[:8]
    compute_schema, reporting_schema = f"com_{tag}", f"rep_{tag}"
    await upgrade(engine, compute_schema)
    await upgrade(engine, reporting_schema, MIGRATIONS)
    compute = EventStore(engine, compute_schema)
    versions = EmissionVersions(reporting_tables(reporting_schema))
    reporting = Reporting(engine, reporting_schema, versions, nats_client, ns)
    changes: asyncio.Queue[r.FootprintChanged] = asyncio.Queue()

    async def heard(msg: Msg) -> None:
        changes.put_nowait(r.FootprintChanged.model_validate_json(msg.data))

    watch = await nats_client.subscribe(r.changes_subject(ns, "*"), cb=heard)
    stop = asyncio.Event()
    relay = Relay(compute, nats_client, namespace=ns, service="compute")
    tasks = [asyncio.create_task(relay.run(stop))]
    await asyncio.wait_for(relay.active.wait(), 10)
    sub = Subscription(
        "reporting_compute", events_stream(ns, "compute"), [events_subject(ns, "compute")]
    )
    handler = Batched(reporting.on_compute_events)
    consumer = Consumer(engine, reporting_schema, nats_client, sub, handler, namespace=ns)
    tasks.append(asyncio.create_task(consumer.run(stop)))
    try:
        yield Setup(compute, reporting, changes, ns)
    finally:
        stop.set()
        await asyncio.gather(*tasks)
        await watch.unsubscribe()


@pytest.fixture
async def setup(
    engine: AsyncEngine, nats_client: NatsClient, namespace: str
) -> AsyncIterator[Setup]:
    async with running(engine, nats_client, namespace) as ready:
        yield ready


def line(
    kg: float,
    scope: int,
    component: str = "generation",
    category: int | None = None,
    factor: str = "f1",
    version: int = 1,
    *,
    quantity: float = 1.0,
    unit: str = "kWh",
    basis: c.Scope2Basis | None = None,
) -> c.EmissionLine:
    ref = c.FactorRef(
        factor_id=factor,
        version=version,
        releases=["ademe"],
        source="ADEME",
        region_used="FRA",
        fallback=False,
        out_of_validity=False,
    )
    return c.EmissionLine(
        component=component,
        scope=scope,
        scope2_basis=basis,
        category=category,
        kg=c.Kg(value=kg, min=kg * 0.9, max=kg * 1.1),
        factor=ref,
        quantity=quantity,
        unit=unit,
    )


def emission(
    source: uuid.UUID,
    lines: list[c.EmissionLine],
    *,
    post: str = "offices",
    country: str = "FRA",
    month: int = 1,
    kind: str = "electricity",
    year: int = 2024,
) -> c.Emission:
    total = c.Kg(
        value=sum(x.kg.value for x in lines),
        min=sum(x.kg.min for x in lines),
        max=sum(x.kg.max for x in lines),
    )
    return c.Emission(
        source=c.Source(kind="activity", id=source, event_id=uuid.uuid4(), stream_version=1),
        activity_kind=kind,
        post=post,
        site="hq",
        country=country,
        period_start=date(year, month, 1),
        period_end=date(year, month, 28),
        lines=lines,
        total=total,
        method=c.Method(name="activity-factor", version="1"),
    )


def cause(kind: str = "activity_recorded") -> c.Cause:
    return c.Cause(kind=kind, event_id=uuid.uuid4())


async def test_footprint_by_scope_post_and_month_with_ranges_and_shares(setup: Setup) -> None:
    a, b, p = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await setup.emit(
        c.EmissionCalculated(
            emission=emission(a, [line(70, 2), line(20, 3, "upstream", 3)]), cause=cause()
        ),
        a,
    )
    await setup.emit(
        c.EmissionCalculated(
            emission=emission(b, [line(10, 1, "combustion")], month=2, kind="natural_gas_gross_cv"),
            cause=cause(),
        ),
        b,
    )
    await setup.emit(
        c.EmissionCalculated(
            emission=emission(
                p, [line(100, 3, "network", 11)], post="product", kind="data_transfer"
            ),
            cause=cause(),
        ),
        p,
    )
    await setup.emit(
        c.EmissionCalculated(emission=emission(uuid.uuid4(), [line(999, 1)]), cause=cause()),
        uuid.uuid4(),
        GLOBEX,
    )

    by_scope = await setup.reporting.footprint(ACME, r.Footprint(filters=YEAR, group_by=["scope"]))
    assert by_scope.total.value == pytest.approx(200)
    assert (by_scope.total.min, by_scope.total.max) == pytest.approx((180, 220))
    scopes = {g.key["scope"]: g for g in by_scope.groups}
    assert {s: g.kg.value for s, g in scopes.items()} == pytest.approx({1: 10, 2: 70, 3: 120})
    assert scopes[3].share == pytest.approx(0.6)

    # "What share of our footprint is the product?" is one query:
    by_post = await setup.reporting.footprint(ACME, r.Footprint(filters=YEAR, group_by=["post"]))
    assert {g.key["post"]: g.share for g in by_post.groups}["product"] == pytest.approx(0.5)
    months = await setup.reporting.footprint(ACME, r.Footprint(filters=YEAR, group_by=["month"]))
    assert {g.key["month"]: g.kg.value for g in months.groups} == pytest.approx(
        {"2024-01": 190, "2024-02": 10}
    )
    only_scope_2 = await setup.reporting.footprint(
        ACME, r.Footprint(filters=YEAR.model_copy(update={"scope": 2}))
    )
    assert only_scope_2.total.value == pytest.approx(70)


async def test_as_known_at_a_position_and_the_restatement_diff(setup: Setup) -> None:
    a = uuid.uuid4()
    first = await setup.emit(
        c.EmissionCalculated(emission=emission(a, [line(70, 2)]), cause=cause()), a
    )
    between = datetime.now(UTC)
    await setup.emit(
        c.EmissionRestated(
            emission=emission(a, [line(105, 2, version=2)]),
            previous_total=c.Kg(value=70, min=63, max=77),
            cause=cause("factor_revised"),
        ),
        a,
    )
    u = uuid.uuid4()
    await setup.emit(
        c.EmissionUnresolved(
            source=c.Source(kind="activity", id=u, event_id=uuid.uuid4(), stream_version=1),
            activity_kind="hotel_night",
            site="hq",
            country="BRA",
            period_start=date(2024, 3, 1),
            period_end=date(2024, 3, 2),
            reason="no factor",
            cause=cause(),
        ),
        u,
    )

    now = await setup.reporting.footprint(ACME, r.Footprint(filters=YEAR))
    then = await setup.reporting.footprint(
        ACME, r.Footprint(filters=YEAR, as_of=r.AsOf(position=first))
    )
    at_instant = await setup.reporting.footprint(
        ACME, r.Footprint(filters=YEAR, as_of=r.AsOf(instant=between))
    )
    assert (now.total.value, then.total.value, at_instant.total.value) == pytest.approx(
        (105, 70, 70)
    )
    assert (now.unresolved, then.unresolved) == (1, 0)

    diff = await setup.reporting.diff(ACME, r.Diff(filters=YEAR, before=r.AsOf(position=first)))
    [changed] = diff.items
    assert changed.source_id == a and changed.cause == "factor_revised"
    assert (changed.before.value, changed.after.value) == pytest.approx((70, 105))  # type: ignore[union-attr]

    trail = await setup.reporting.lineage(ACME, r.Lineage(filters=YEAR))
    traced = {i.source_id: i for i in trail.items}
    factor = traced[a].lines[0].factor
    assert factor is not None and factor.version == 2
    assert traced[u].status == "unresolved"
    assert await setup.reporting.lineage(GLOBEX, r.Lineage(filters=YEAR)) == r.LineageAnswer(
        items=[], position=trail.position
    )


async def test_a_withdrawn_emission_leaves_the_footprint_but_stays_in_the_past(
    setup: Setup,
) -> None:
    a = uuid.uuid4()
    before = await setup.emit(
        c.EmissionCalculated(emission=emission(a, [line(50, 2)]), cause=cause()), a
    )
    await setup.emit(
        c.EmissionWithdrawn(
            source=c.Source(kind="activity", id=a, event_id=uuid.uuid4(), stream_version=2),
            previous_total=c.Kg(value=50, min=45, max=55),
            cause=cause("activity_retracted"),
        ),
        a,
    )
    assert (await setup.reporting.footprint(ACME, r.Footprint(filters=YEAR))).total.value == 0
    past = await setup.reporting.footprint(
        ACME, r.Footprint(filters=YEAR, as_of=r.AsOf(position=before))
    )
    assert past.total.value == pytest.approx(50)
