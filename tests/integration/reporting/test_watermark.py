""" "Now" is the watermark: an event delivered late (a redelivery after a crash) is never
silently missing from an answer that claims its position."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from nats.aio.client import Client as NatsClient
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts import compute as c
from contracts import reporting as r
from kernel.endpoints import CallContext
from kernel.envelope import RecordedEvent
from kernel.errors import RequestRefused
from kernel.migrations import upgrade
from kernel.store import EventStore
from services.reporting.handlers import Reporting
from services.reporting.projections import EmissionVersions
from services.reporting.tables import reporting_tables
from tests.integration.reporting.test_footprint import MIGRATIONS, YEAR, cause, emission, line

ACME = CallContext(tenant_id="acme", role="admin")


async def three_events(engine: AsyncEngine, schema: str) -> list[RecordedEvent]:
    await upgrade(engine, schema)
    compute, recorded = EventStore(engine, schema), []
    for kg in (10, 20, 40):
        source = uuid.uuid4()
        event = c.EmissionCalculated(emission=emission(source, [line(kg, 1)]), cause=cause())
        recorded += await compute.append([event.to_new_event(f"emission-{source}", ACME)])
    return recorded


async def test_a_gap_holds_now_back_until_it_fills(
    engine: AsyncEngine, nats_client: NatsClient, namespace: str
) -> None:
    tag = uuid.uuid4().hex[:8]
    first, second, third = await three_events(engine, f"com_{tag}")
    await upgrade(engine, f"rep_{tag}", MIGRATIONS)
    versions = EmissionVersions(reporting_tables(f"rep_{tag}"))
    reporting = Reporting(engine, f"rep_{tag}", versions, nats_client, namespace)

    async def deliver(event: RecordedEvent) -> None:
        async with engine.begin() as conn:
            await versions.apply(event, conn)

    await deliver(first)
    await deliver(third)  # the second is late
    now = await reporting.footprint(ACME, r.Footprint(filters=YEAR))
    assert (now.total.value, now.position) == (10, 1)
    series = await reporting.timeseries(ACME, r.Timeseries(filters=YEAR))
    assert series.position == 1 and series.months[0].kg.value == 10
    report = r.GenerateReport(
        organisation=r.Organisation(name="Acme", identifier="9695005EMPREINTE0004"),
        period_start=date(2024, 1, 1),
        period_end=date(2025, 1, 1),
        net_revenue_eur=1e6,
        as_of=r.AsOf(position=3),
    )
    with pytest.raises(RequestRefused) as refused:
        await reporting.generate_report(ACME, report)
    assert (refused.value.code, refused.value.field) == ("position_ahead", "as_of.position")

    await deliver(second)
    await deliver(second)  # a redelivery changes nothing
    caught_up = await reporting.footprint(ACME, r.Footprint(filters=YEAR))
    assert (caught_up.total.value, caught_up.position) == (70, 3)
