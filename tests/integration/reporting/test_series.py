"""Monthly series, period comparison and the unresolved queue, on real PostgreSQL and NATS."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date

import pytest
from nats.aio.client import Client as NatsClient
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts import compute as c
from contracts import reporting as r
from kernel.endpoints import CallContext
from kernel.errors import RequestRefused
from tests.integration.reporting.test_footprint import Setup, cause, emission, line, running

ACME = CallContext(tenant_id="acme", role="viewer")
GLOBEX = CallContext(tenant_id="globex", role="viewer")
Q1_2024 = r.Filters(period_start=date(2024, 1, 1), period_end=date(2024, 4, 1))


@pytest.fixture
async def setup(
    engine: AsyncEngine, nats_client: NatsClient, namespace: str
) -> AsyncIterator[Setup]:
    async with running(engine, nats_client, namespace) as ready:
        yield ready


async def calculated(setup: Setup, lines: list[c.EmissionLine], **where: object) -> uuid.UUID:
    source = uuid.uuid4()
    made = emission(source, lines, **where)  # type: ignore[arg-type]
    await setup.emit(c.EmissionCalculated(emission=made, cause=cause()), source, ACME)
    return source


async def unresolved(setup: Setup, kind: str, reason: str, ctx: CallContext = ACME) -> uuid.UUID:
    source = uuid.uuid4()
    event = c.EmissionUnresolved(
        source=c.Source(kind="activity", id=source, event_id=uuid.uuid4(), stream_version=1),
        activity_kind=kind,
        site="hq",
        country="BRA",
        period_start=date(2024, 3, 1),
        period_end=date(2024, 3, 2),
        reason=reason,
        cause=cause(),
    )
    await setup.emit(event, source, ctx)
    return source


async def test_monthly_totals_with_ranges_and_empty_months(setup: Setup) -> None:
    await calculated(setup, [line(100, 2)], month=1)
    await calculated(setup, [line(50, 1, "combustion"), line(10, 3, "upstream", 3)], month=3)
    await calculated(setup, [line(999, 2)], month=5)  # outside the period

    answer = await setup.reporting.timeseries(ACME, r.Timeseries(filters=Q1_2024))
    assert [m.month for m in answer.months] == ["2024-01", "2024-02", "2024-03"]
    values = [x for m in answer.months for x in (m.kg.value, m.kg.min, m.kg.max)]
    assert values == pytest.approx([100, 90, 110, 0, 0, 0, 60, 54, 66])
    scope1 = await setup.reporting.timeseries(
        ACME, r.Timeseries(filters=Q1_2024.model_copy(update={"scope": 1}))
    )
    assert [m.kg.value for m in scope1.months] == pytest.approx([0, 0, 50])
    then = await setup.reporting.timeseries(
        ACME, r.Timeseries(filters=Q1_2024, as_of=r.AsOf(position=1))
    )
    assert [m.kg.value for m in then.months] == pytest.approx([100, 0, 0])


async def test_this_year_against_the_base_year_in_percent(setup: Setup) -> None:
    await calculated(setup, [line(200, 2), line(100, 3, "upstream", 3)], year=2023)
    await calculated(setup, [line(150, 2), line(100, 3, "upstream", 3)], year=2024)
    await calculated(setup, [line(40, 1, "combustion")], year=2024, post="cloud")
    year = r.Filters(period_start=date(2024, 1, 1), period_end=date(2025, 1, 1))
    request = r.Compare(filters=year, base_start=date(2023, 1, 1), base_end=date(2024, 1, 1))

    total = await setup.reporting.compare(ACME, request)
    [group] = total.groups
    assert (group.current.value, group.base.value) == pytest.approx((290, 300))
    assert group.change_pct == pytest.approx(-100 / 30)
    by_scope = await setup.reporting.compare(
        ACME, request.model_copy(update={"group_by": ["scope"]})
    )
    changes = {g.key["scope"]: g.change_pct for g in by_scope.groups}
    assert changes[1] is None and changes[2] == pytest.approx(-25) and changes[3] == 0
    backwards = request.model_copy(update={"base_end": date(2022, 1, 1)})
    with pytest.raises(RequestRefused) as refused:
        await setup.reporting.compare(ACME, backwards)
    assert refused.value.field == "base_end"


async def test_unresolved_sources_are_listed_with_their_reasons_page_by_page(
    setup: Setup,
) -> None:
    waiting = {await unresolved(setup, f"kind{i}", f"no factor for kind{i}") for i in range(3)}
    later = await unresolved(setup, "hotel_night", "no factor for BRA")
    resolved = emission(later, [line(30, 3, "total", 6)], kind="hotel_night")
    await setup.emit(c.EmissionRestated(emission=resolved, previous_total=None, cause=cause(
        "factor_published")), later, ACME)  # fmt: skip
    await unresolved(setup, "meal_average", "no factor", GLOBEX)

    first = await setup.reporting.unresolved(ACME, r.ListUnresolved(limit=2))
    rest = await setup.reporting.unresolved(ACME, r.ListUnresolved(limit=2, after=first.next))
    items = first.items + rest.items
    assert (first.total, len(first.items), rest.next) == (3, 2, None)
    assert {i.source_id for i in items} == waiting
    assert all(i.reason == f"no factor for {i.activity_kind}" for i in items)
    footprint = await setup.reporting.footprint(ACME, r.Footprint(filters=Q1_2024))
    assert footprint.unresolved == 3
    with pytest.raises(RequestRefused) as refused:
        await setup.reporting.unresolved(ACME, r.ListUnresolved(after="not-a-cursor"))
    assert (refused.value.code, refused.value.field) == ("invalid_cursor", "after")
