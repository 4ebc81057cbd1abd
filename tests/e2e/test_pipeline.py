"""The whole pipeline through the services' own NATS APIs, all four running for real:
inventory records, compute calculates, reporting answers, every number traceable."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import pytest
from nats.aio.client import Client as NatsClient

from contracts import compute as c
from contracts import factors as f
from contracts import inventory as inv
from contracts import reporting as r
from contracts.audit import Verify, verify_spec
from contracts.services import SERVICES
from kernel.client import ServiceClient
from kernel.endpoints import CallContext
from kernel.settings import Settings
from tests.e2e.conftest import organisation

YEAR = r.Filters(period_start=date(2024, 1, 1), period_end=date(2025, 1, 1))
JAN = {"period_start": "2024-01-01", "period_end": "2024-02-01", "site": "paris-hq"}


class Org:
    def __init__(self, nc: NatsClient, settings: Settings) -> None:
        self.tenant = organisation()
        self.client = ServiceClient(nc, settings.namespace, timeout=30)
        self.notices: asyncio.Queue[r.FootprintChanged] = asyncio.Queue()

    def as_(self, role: str) -> CallContext:
        return CallContext(tenant_id=self.tenant, role=role)

    async def call(self, spec: Any, request: Any, role: str = "integrator") -> Any:
        return await self.client.call(spec, request, self.as_(role))

    async def footprint_once(self, done: Any) -> r.FootprintAnswer:
        """Re-ask at every change notice until `done(answer)`: the services settle in their
        own time (compute may still be reading the default catalogue when activities come)."""
        async with asyncio.timeout(90):
            ask = r.Footprint(filters=YEAR, group_by=["activity_kind"])
            while not done(answer := await self.call(r.FOOTPRINT, ask, "viewer")):  # fmt: skip
                await self.notices.get()
        return answer


@pytest.fixture
async def org(services: NatsClient, stack_settings: Settings) -> AsyncIterator[Org]:
    org = Org(services, stack_settings)

    async def heard(msg: Any) -> None:
        org.notices.put_nowait(r.FootprintChanged.model_validate_json(msg.data))

    sub = await services.subscribe(
        r.changes_subject(stack_settings.namespace, org.tenant), cb=heard
    )
    yield org
    await sub.unsubscribe()


def activity(kind: str, quantity: float, unit: str, region: str, **extra: Any) -> dict[str, Any]:
    return {"kind": kind, "quantity": quantity, "unit": unit, "region": region, **extra}


async def test_activities_become_a_traceable_footprint_that_follows_corrections(org: Org) -> None:
    batch = [
        activity("electricity", 10, "MWh", "FRA"),
        activity("natural_gas_gross_cv", 5000, "kWh", "FRA"),
        activity("hotel_night", 3, "night", "DEU"),
        activity("hotel_night", 2, "night", "BRA"),  # no factor for Brazil: unresolved, counted
        activity(
            "cloud_instance_usage",
            730,
            "hour",
            "FRA",
            attributes={"provider": "aws", "instance_type": "m5.xlarge", "load_percent": 50},
        ),
        activity("electricity", 12, "km", "FRA"),  # refused: the field and the reason named
    ]
    outcome = await org.call(
        inv.RECORD, inv.RecordActivities(idempotency_key="jan", activities=batch, defaults=JAN)
    )
    assert outcome.accepted == 5 and outcome.stored
    [rejection] = outcome.rejected
    assert (rejection.index, rejection.field) == (5, "unit")
    footprint = await org.footprint_once(
        lambda answer: answer.unresolved == 1 and sum(g.emissions for g in answer.groups) == 4
    )
    trail = await org.call(r.LINEAGE, r.Lineage(filters=YEAR), "auditor")
    computed = [i for i in trail.items if i.status == "calculated"]
    assert len(computed) == 4
    assert footprint.total.value == pytest.approx(sum(i.total.value for i in computed))

    electricity_id = outcome.activity_ids[0]
    expected = await _electricity_by_the_catalogue(org, 10_000)
    assert _total_of(trail, electricity_id) == pytest.approx(expected)

    await org.call(
        inv.CORRECT,
        inv.CorrectActivity(
            activity_id=electricity_id,
            quantity=20,
            unit="MWh",
            period_start=date(2024, 1, 1),
            period_end=date(2024, 2, 1),
            reason="the February bill was in it",
        ),
    )
    grown = footprint.total.value + expected
    later = await org.footprint_once(lambda a: a.total.value == pytest.approx(grown))
    diff = await org.call(
        r.DIFF, r.Diff(filters=YEAR, before=r.AsOf(position=footprint.position)), "auditor"
    )
    [changed] = [item for item in diff.items if item.source_id == electricity_id]
    assert changed.cause == "activity_corrected"

    await org.call(
        inv.RETRACT,
        inv.RetractActivity(activity_id=outcome.activity_ids[2], reason="cancelled trip"),
    )
    last = await org.footprint_once(lambda a: a.total.value < later.total.value)
    assert sum(g.emissions for g in last.groups) == 3
    waiting = await org.call(c.LIST_UNRESOLVED, c.ListUnresolved(), "viewer")
    assert [(i.activity_kind, i.country) for i in waiting.items] == [("hotel_night", "BRA")]
    for service in SERVICES:
        assert (await org.call(verify_spec(service), Verify(), "auditor")).ok, service


async def _electricity_by_the_catalogue(org: Org, kwh: float) -> float:
    """What the factors service itself says 10 MWh in France weigh: an independent path."""
    ask = f.ResolveFactors(
        activity_kind="electricity",
        region="FRA",
        on=date(2024, 1, 1),
        releases=["ademe-base-empreinte"],
    )
    resolution = await org.call(f.RESOLVE, ask, "viewer")
    return sum(kwh * p.factor.values.kgco2e_per_unit for p in resolution.components)


def _total_of(trail: r.LineageAnswer, source: uuid.UUID | None) -> float:
    [item] = [i for i in trail.items if i.source_id == source]
    assert item.total is not None
    return item.total.value
