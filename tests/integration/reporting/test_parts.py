"""Footprint by device and by country from emission parts, against real PostgreSQL and NATS.

The request log's emission is compute's own (its pure core and product mapping), carried by
EmissionCalculated through compute's log, the relay and reporting's consumer.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import sqlalchemy as sa
from nats.aio.client import Client as NatsClient
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts import compute as c
from contracts import reporting as r
from kernel.errors import RequestRefused
from services.reporting.parts import UNSPECIFIED
from tests.integration.reporting.test_footprint import (
    ACME,
    YEAR,
    Setup,
    cause,
    emission,
    line,
    running,
)
from tests.unit.reporting.test_parts import request_log

KG = ("value", "min", "max")


@pytest.fixture
async def setup(
    engine: AsyncEngine, nats_client: NatsClient, namespace: str
) -> AsyncIterator[Setup]:
    async with running(engine, nats_client, namespace) as ready:
        yield ready


def triple(kg: c.Kg) -> tuple[float, float, float]:
    return (kg.value, kg.min, kg.max)


def approx(kg: c.Kg) -> Any:
    return pytest.approx(triple(kg), rel=1e-9)


def grams(breakdown: dict[str, Any], key: str) -> dict[str, c.Kg]:
    return {m: c.Kg(**{b: g[b] / 1000 for b in KG}) for m, g in breakdown[key].items()}


async def footprint(setup: Setup, *dims: Any, **filters: Any) -> r.FootprintAnswer:
    request = r.Footprint(filters=YEAR.model_copy(update=filters), group_by=list(dims))
    return await setup.reporting.footprint(ACME, request)


def by(answer: r.FootprintAnswer, dim: str) -> dict[Any, r.FootprintGroup]:
    return {g.key[dim]: g for g in answer.groups}


async def ledger(setup: Setup) -> tuple[c.Emission, uuid.UUID, int]:
    """A request log over three devices and several countries, and one office activity."""
    log = request_log()
    position = await setup.emit(c.EmissionCalculated(emission=log, cause=cause()), log.source.id)
    office = uuid.uuid4()
    lines = [line(70, 2, basis="location"), line(20, 3, "upstream", 3)]
    await setup.emit(
        c.EmissionCalculated(emission=emission(office, lines, country="BEL"), cause=cause()),
        office,
    )
    return log, log.source.id, position


def assert_adds_up(answer: r.FootprintAnswer, total: r.FootprintAnswer) -> None:
    summed = [sum(getattr(g.kg, b) for g in answer.groups) for b in KG]
    assert tuple(summed) == approx(total.total)
    assert triple(answer.total) == approx(total.total)
    assert sum(g.share for g in answer.groups) == pytest.approx(1.0)


async def test_footprint_by_device_gives_the_logs_devices_with_shares(setup: Setup) -> None:
    log, _, _ = await ledger(setup)
    by_device = await footprint(setup, "device")
    by_scope = await footprint(setup, "scope")
    total = await footprint(setup)

    devices = by(by_device, "device")
    assert set(devices) == {"laptop", "smartphone", "desktop", UNSPECIFIED}
    for device, kg in grams(log.breakdown, "by_device").items():
        assert triple(devices[device].kg) == approx(kg)
        assert devices[device].emissions == 1
        assert devices[device].share == pytest.approx(kg.value / total.total.value)
    office = devices[UNSPECIFIED].kg
    assert (office.value, office.min, office.max) == pytest.approx((90, 81, 99))
    assert_adds_up(by_device, total)
    assert_adds_up(by_scope, total)
    assert total.total.value == pytest.approx(90 + log.total.value)


async def test_footprint_by_country_splits_the_log_by_segment_country(setup: Setup) -> None:
    await ledger(setup)
    by_country = await footprint(setup, "country")
    countries = by(by_country, "country")
    # data centres ran in DEU, USA, CHN; users were in FRA, USA, IND; the office is in BEL
    assert set(countries) == {"DEU", "USA", "CHN", "FRA", "IND", "BEL"}
    assert countries["BEL"].kg.value == pytest.approx(90) and countries["BEL"].emissions == 1
    assert countries["USA"].emissions == 1  # the log, as client and as server country
    assert_adds_up(by_country, await footprint(setup))
    # data centre lines (category 1) by server country, the rest (11) by client country
    crossed = await footprint(setup, "country", "category", post="product")
    cells = {(g.key["country"], g.key["category"]) for g in crossed.groups}
    assert cells == {("DEU", 1), ("USA", 1), ("CHN", 1), ("FRA", 11), ("USA", 11), ("IND", 11)}
    only_fra = await footprint(setup, country="FRA")
    assert only_fra.total.value == pytest.approx(countries["FRA"].kg.value)


async def test_device_filter_series_and_comparison_read_the_same_parts(setup: Setup) -> None:
    log, source, _ = await ledger(setup)
    laptop = grams(log.breakdown, "by_device")["laptop"]
    assert triple((await footprint(setup, device="laptop")).total) == approx(laptop)
    series = await setup.reporting.timeseries(
        ACME, r.Timeseries(filters=YEAR.model_copy(update={"device": "laptop"}))
    )
    assert series.months[0].kg.value == pytest.approx(laptop.value)
    assert sum(m.kg.value for m in series.months[1:]) == 0
    compared = await setup.reporting.compare(
        ACME,
        r.Compare(
            filters=YEAR, base_start=YEAR.period_start.replace(year=2023),
            base_end=YEAR.period_start, group_by=["device"],
        ),
    )  # fmt: skip
    assert {g.key["device"]: g.current.value for g in compared.groups}["laptop"] == (
        pytest.approx(laptop.value)
    )
    traced = await setup.reporting.lineage(
        ACME, r.Lineage(filters=YEAR.model_copy(update={"device": "laptop"}))
    )
    assert [item.source_id for item in traced.items] == [source]
    [item] = traced.items
    assert item.inside is not None and triple(item.inside) == approx(laptop)
    everything = await setup.reporting.lineage(ACME, r.Lineage(filters=YEAR))
    assert len(everything.items) == 2 and all(i.inside is None for i in everything.items)


async def test_lineage_finds_whole_lines_by_the_members_they_imply(setup: Setup) -> None:
    """The office's lines have no part rows (parts.py): they fall whole to device
    "unspecified" and to the office's country, and lineage finds it by either."""
    _, source, _ = await ledger(setup)

    async def traced(**update: str) -> list[tuple[uuid.UUID, tuple[float, ...] | None]]:
        filters = YEAR.model_copy(update=update)
        found = await setup.reporting.lineage(ACME, r.Lineage(filters=filters))
        return [(i.source_id, i.inside and triple(i.inside)) for i in found.items]

    [(office, inside)] = await traced(device=UNSPECIFIED)
    assert office != source and inside == pytest.approx((90, 81, 99))
    assert await traced(country="BEL") == [(office, inside)]
    assert [s for s, _ in await traced(country="FRA")] == [source]


async def test_device_with_country_is_refused_naming_the_field(setup: Setup) -> None:
    await ledger(setup)
    with pytest.raises(RequestRefused) as grouped:
        await footprint(setup, "device", "country")
    assert (grouped.value.code, grouped.value.field) == ("device_with_country", "group_by")
    with pytest.raises(RequestRefused) as filtered:
        await footprint(setup, "device", country="FRA")
    assert filtered.value.field == "filters.country"


async def test_parts_follow_restatements_and_withdrawals_as_known_at(setup: Setup) -> None:
    log, source, first = await ledger(setup)
    bigger = request_log("swd-v4").model_copy(update={"source": log.source})
    restated = await setup.emit(
        c.EmissionRestated(
            emission=bigger, previous_total=log.total, cause=cause("factor_revised")
        ),
        source,
    )  # fmt: skip
    withdrawn = c.EmissionWithdrawn(
        source=log.source, previous_total=bigger.total, cause=cause("activity_retracted")
    )
    await setup.emit(withdrawn, source)

    def laptop(answer: r.FootprintAnswer) -> float:
        found = by(answer, "device").get("laptop")
        return 0.0 if found is None else found.kg.value

    async def at(position: int) -> r.FootprintAnswer:
        request = r.Footprint(filters=YEAR, group_by=["device"], as_of=r.AsOf(position=position))
        return await setup.reporting.footprint(ACME, request)

    expected = [grams(e.breakdown, "by_device")["laptop"].value for e in (log, bigger)]
    assert expected[0] != pytest.approx(expected[1])
    assert laptop(await at(first)) == pytest.approx(expected[0])
    assert laptop(await at(restated)) == pytest.approx(expected[1])
    now = await footprint(setup, "device")
    assert laptop(now) == 0.0 and set(by(now, "device")) == {UNSPECIFIED}


async def test_the_piano_questions_are_one_query_each(setup: Setup) -> None:
    log, _, _ = await ledger(setup)
    whole = 90 + log.total.value
    product = by(await footprint(setup, "post"), "post")["product"]
    assert product.share == pytest.approx(log.total.value / whole)
    # "what share of the product is data transit?": the network segment of the product
    within = by(await footprint(setup, "component", post="product"), "component")
    transit = sum(g.share for name, g in within.items() if name.startswith("network_"))
    network = sum(x.kg.value for x in log.lines if str(x.component).startswith("network_"))
    assert transit == pytest.approx(network / log.total.value)
    assert 0 < transit < 1


async def test_a_redelivered_event_adds_no_parts(setup: Setup, engine: AsyncEngine) -> None:
    _, source, _ = await ledger(setup)
    parts = setup.reporting.versions.t.parts
    count = sa.select(sa.func.count()).select_from(parts)
    async with engine.connect() as conn:
        before = (await conn.execute(count)).scalar_one()
    [event] = await setup.compute.read_stream(f"emission-{source}")
    async with engine.begin() as conn:
        assert await setup.reporting.versions.apply(event, conn) is None
    async with engine.connect() as conn:
        assert (await conn.execute(count)).scalar_one() == before > 0
