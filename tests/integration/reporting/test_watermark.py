""" "Now" is the watermark: an event delivered late (a redelivery after a crash) is never
silently missing from an answer that claims its position."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
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
from services.reporting.watermark import advance_statement
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


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


async def test_moving_the_watermark_reads_by_key_whatever_the_table_size(
    engine: AsyncEngine,
) -> None:
    schema = f"rep_{uuid.uuid4().hex[:8]}"
    await upgrade(engine, schema, MIGRATIONS)
    async with engine.begin() as conn:  # 20,000 versions, analysed, the last one missing
        await conn.execute(sa.text(
            f'INSERT INTO "{schema}".emission_versions (compute_position, compute_event_id, '
            "event_type, recorded_at, tenant_id, source_id, source_kind, status, activity_kind, "
            "post, site, country, period_start, period_end, lines) SELECT n, gen_random_uuid(), "
            "'EmissionCalculated', now(), 'acme', gen_random_uuid(), 'activity', 'calculated', "
            "'electricity', 'offices', 'hq', 'FRA', '2024-01-01', '2024-02-01', '[]' "
            "FROM generate_series(1, 19999) AS n"
        ))  # fmt: skip
        await conn.execute(sa.text(f'ANALYZE "{schema}".emission_versions'))
        explain = sa.text(f"EXPLAIN (FORMAT JSON) {advance_statement(schema).text}")
        [[found]] = (await conn.execute(explain, {"start": 19999})).all()
    plan = found[0]["Plan"]
    scans = {(n["Node Type"], n.get("Relation Name")) for n in _nodes(plan)}
    assert ("Seq Scan", "emission_versions") not in scans
    assert plan["Total Cost"] < 1000  # far below JIT's threshold: no compilation per event
