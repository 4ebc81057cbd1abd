"""The footprint as known now, read from the current tables, gives the ledger's answer for
every query shape, whatever the order events arrive in; and a kept answer is never stale."""

from __future__ import annotations

import random
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
from kernel.events import DomainEvent
from kernel.migrations import upgrade
from kernel.store import EventStore
from services.reporting import current, now, queries
from services.reporting.projections import EmissionVersions
from services.reporting.rebuild import rebuild
from services.reporting.tables import reporting_tables
from tests.integration.reporting.test_footprint import (
    MIGRATIONS,
    YEAR,
    Setup,
    cause,
    emission,
    line,
    running,
)
from tests.unit.reporting.test_parts import request_log

TENANTS = ("acme", "globex", "initech")
SHAPES: list[tuple[list[str], dict[str, Any]]] = [
    ([], {}),
    (["scope"], {}),
    (["post"], {}),
    (["scope", "post"], {}),
    (["country"], {}),
    (["device"], {}),
    (["month", "site"], {}),
    (["category", "component", "scope2_basis"], {}),
    (["activity_kind", "source_kind"], {}),
    (["country", "scope", "category"], {"post": "product"}),
    (["device", "component"], {"scope": 3}),
    (["post"], {"country": "FRA"}),
    (["scope"], {"device": "smartphone"}),
    (["site"], {"device": "unspecified", "scope": 2}),
    (["month"], {"activity_kind": "electricity", "site": "hq"}),
    (["scope"], {"period_start": date(2024, 2, 1), "period_end": date(2024, 3, 1)}),
    ([], {"country": "BRA"}),
    (["post"], {"post": ""}),
]


def _requests() -> Iterator[r.Footprint]:
    for group_by, update in SHAPES:
        filters = YEAR.model_copy(update=update)
        yield r.Footprint.model_validate({"filters": filters, "group_by": group_by})


def _calculated(source: uuid.UUID, kg: float, **kw: Any) -> DomainEvent:
    lines = [line(kg, 2, basis="location"), line(kg / 4, 3, "upstream", 3), line(kg / 9, 1)]
    return c.EmissionCalculated(emission=emission(source, lines, **kw), cause=cause())


def _history() -> list[tuple[str, uuid.UUID, DomainEvent]]:
    """Three tenants: several posts, months, countries and kinds; restatements, withdrawals
    (one recalculated afterwards), unresolved sources (one resolved later), request logs."""
    found: list[tuple[str, uuid.UUID, DomainEvent]] = []
    for n, tenant in enumerate(TENANTS):
        a, b, u, w = (uuid.uuid4() for _ in range(4))
        log = request_log().model_copy(update={"site": f"www{n}"})
        restated = emission(a, [line(105 + n, 2, version=2), line(3, 3, "upstream", 1)],
                            month=2, country="DEU")  # fmt: skip
        unresolved = c.EmissionUnresolved(
            source=c.Source(kind="activity", id=u, event_id=uuid.uuid4(), stream_version=1),
            activity_kind="hotel_night", site="hq", country="BRA", period_start=date(2024, 3, 1),
            period_end=date(2024, 3, 2), reason="no factor", cause=cause(),
        )  # fmt: skip
        withdrawn = c.EmissionWithdrawn(
            source=c.Source(kind="activity", id=w, event_id=uuid.uuid4(), stream_version=2),
            previous_total=c.Kg(value=1, min=1, max=1), cause=cause("activity_retracted"),
        )  # fmt: skip
        revised = c.EmissionRestated(
            emission=restated,
            previous_total=c.Kg(value=70, min=63, max=77),
            cause=cause("factor_revised"),
        )
        found += [
            (tenant, a, _calculated(a, 70 + n, month=1 + n)),
            (tenant, b, _calculated(b, 11, post="business_travel", kind="flight", month=3)),
            (tenant, log.source.id, c.EmissionCalculated(emission=log, cause=cause())),
            (tenant, u, unresolved),
            (tenant, w, _calculated(w, 40, post="purchases", country="USA", kind="laptop")),
            (tenant, a, revised),
            (tenant, w, withdrawn),
        ]
        if n == 0:  # resolved later; withdrawn, then back
            found.append((tenant, u, _calculated(u, 5, kind="hotel_night", month=3)))
            found.append((tenant, w, _calculated(w, 41, post="purchases", kind="laptop")))
        if n == 1:  # a year outside the period
            old = uuid.uuid4()
            found.append((tenant, old, _calculated(old, 9, year=2023)))
    return found


async def history_beside_empty_reporting(engine: AsyncEngine) -> tuple[list[RecordedEvent], str]:
    """Compute's recorded history (in a schema of its own) and a migrated, empty reporting
    schema to project it into."""
    tag = uuid.uuid4().hex[:8]
    recorded, schema = await _recorded(engine, f"com_{tag}"), f"rep_{tag}"
    await upgrade(engine, schema, MIGRATIONS)
    return recorded, schema


async def _recorded(engine: AsyncEngine, schema: str) -> list[RecordedEvent]:
    """The history appended to a compute log, in its log order."""
    await upgrade(engine, schema)
    store, recorded = EventStore(engine, schema), []
    for tenant, source, event in _history():
        ctx = CallContext(tenant_id=tenant, role="service")
        recorded += await store.append([event.to_new_event(f"emission-{source}", ctx)])
    return recorded


def _same(fast: r.FootprintAnswer, ledger: r.FootprintAnswer) -> None:
    """Equal but for the order of the groups and the last bits of float sums."""
    assert (fast.position, fast.unresolved) == (ledger.position, ledger.unresolved)
    assert _figures(fast.total) == pytest.approx(_figures(ledger.total), rel=1e-12, abs=1e-12)

    def keyed(answer: r.FootprintAnswer) -> dict[str, Any]:
        return {repr(sorted(g.key.items())): (*_figures(g.kg), g.share, g.emissions)
                for g in answer.groups}  # fmt: skip

    mine, theirs = keyed(fast), keyed(ledger)  # the keys' repr tells 2 from "2"
    assert mine.keys() == theirs.keys()
    for key, figures in mine.items():
        assert figures == pytest.approx(theirs[key], rel=1e-12, abs=1e-12)


def _figures(kg: c.Kg) -> tuple[float, float, float]:
    return (kg.value, kg.min, kg.max)


async def _compare(engine: AsyncEngine, schema: str) -> int:
    """Every shape for every tenant, both paths in one snapshot; how many groups compared."""
    compared = 0
    async with engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="REPEATABLE READ")
        for tenant in TENANTS:
            position = (await now.head(conn, schema, tenant)).position
            for request in _requests():
                fast = await now.footprint(conn, schema, tenant, request, position)
                _same(fast, await queries.footprint(conn, schema, tenant, request))
                compared += len(fast.groups)
    return compared


@pytest.mark.parametrize("seed", [None, 1, 2], ids=["in-order", "shuffled-1", "shuffled-2"])
async def test_now_gives_the_ledgers_answer_whatever_the_arrival_order(
    engine: AsyncEngine, seed: int | None
) -> None:
    recorded, schema = await history_beside_empty_reporting(engine)
    versions = EmissionVersions(reporting_tables(schema))
    arrivals = list(recorded)
    if seed is not None:  # late deliveries: "now" waits at each gap, and so must the tables
        random.Random(seed).shuffle(arrivals)
    compared = 0
    for event in [*arrivals, arrivals[0]]:  # and one redelivery
        async with engine.begin() as conn:
            await versions.apply(event, conn)
        compared += await _compare(engine, schema)
    async with engine.connect() as conn:
        head = await now.head(conn, schema, "acme")
    assert head.position == len(recorded)
    assert compared > 500  # the shapes do group: the comparison is not of empty answers


async def test_the_migration_fills_the_current_tables_from_the_versions(
    engine: AsyncEngine,
) -> None:
    recorded, schema = await history_beside_empty_reporting(engine)
    tables = reporting_tables(schema)
    versions = EmissionVersions(tables)
    for event in recorded[:-3] + recorded[-2:]:  # one missing: the watermark stays below it
        async with engine.begin() as conn:
            await versions.apply(event, conn)
    before = await _rows(engine, tables.current.tables)
    async with engine.begin() as conn:
        for table in tables.current.tables:
            await conn.execute(table.delete())
        await conn.execute(sa.text(f'DELETE FROM "{schema}".alembic_version'))
        await conn.execute(sa.text(
            f"INSERT INTO \"{schema}\".alembic_version VALUES ('reporting_0005')"
        ))  # fmt: skip

    await upgrade(engine, schema, MIGRATIONS)

    assert await _rows(engine, tables.current.tables) == before
    assert len(before["current_figures"]) > 0
    await _compare(engine, schema)


async def _rows(engine: AsyncEngine, tables: tuple[sa.Table, ...]) -> dict[str, list[Any]]:
    async with engine.connect() as conn:
        return {t.name: sorted(map(tuple, await conn.execute(sa.select(t))), key=repr)
                for t in tables}  # fmt: skip


@pytest.fixture
async def setup(engine: AsyncEngine, nats_client: NatsClient, namespace: str) -> Any:
    async with running(engine, nats_client, namespace) as ready:
        yield ready


async def test_a_kept_answer_is_served_until_the_tenants_figures_change(
    engine: AsyncEngine, setup: Setup
) -> None:
    reporting, acme = setup.reporting, CallContext(tenant_id="acme", role="viewer")
    by_scope = r.Footprint(filters=YEAR, group_by=["scope"])
    figures = reporting_tables(reporting.schema).current.figures
    a = uuid.uuid4()
    await setup.emit(_calculated(a, 70), a)
    await _damage(engine, figures)
    assert (await reporting.footprint(acme, by_scope)).total.value == 0  # kept, damaged

    # a rebuild rewrites every stamp, so the answer is read again, from the rebuilt tables
    await rebuild(engine, reporting.nc, setup.namespace, reporting.schema)
    right = await reporting.footprint(acme, by_scope)
    assert right.total.value == pytest.approx(70 + 70 / 4 + 70 / 9)
    _same(right, await reporting.footprint(acme, _at(by_scope, right.position)))

    await _damage(engine, figures)  # behind the stamp's back: the kept answer is served
    assert await reporting.footprint(acme, by_scope) == right
    other, globex = uuid.uuid4(), CallContext(tenant_id="globex", role="service")
    moved = await setup.emit(_calculated(other, 5), other, globex)  # not acme's figures
    assert await reporting.footprint(acme, by_scope) == right.model_copy(update={"position": moved})

    await rebuild(engine, reporting.nc, setup.namespace, reporting.schema)
    b = uuid.uuid4()
    await setup.emit(_calculated(b, 30), b)  # acme's figures move: read again
    changed = await reporting.footprint(acme, by_scope)
    assert changed.total.value == pytest.approx(right.total.value + 30 + 30 / 4 + 30 / 9)
    _same(changed, await reporting.footprint(acme, _at(by_scope, changed.position)))


async def _damage(engine: AsyncEngine, figures: sa.Table) -> None:
    async with engine.begin() as conn:
        await conn.execute(figures.delete())


def _at(request: r.Footprint, position: int) -> r.Footprint:
    """The same request on the ledger path: as known at a position."""
    return request.model_copy(update={"as_of": r.AsOf(position=position)})


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


async def test_following_the_watermark_reads_by_key_whatever_the_table_size(
    engine: AsyncEngine,
) -> None:
    schema = f"rep_{uuid.uuid4().hex[:8]}"
    await upgrade(engine, schema, MIGRATIONS)
    lines = '[{"scope": 1, "component": "combustion", "kg": {"value": 1, "min": 1, "max": 1}}]'
    async with engine.begin() as conn:  # 20,000 sources at the watermark, then one more
        await conn.execute(sa.text(
            f'INSERT INTO "{schema}".emission_versions (compute_position, compute_event_id, '
            "event_type, recorded_at, tenant_id, source_id, source_kind, status, activity_kind, "
            "post, site, country, period_start, period_end, lines) SELECT n, gen_random_uuid(), "
            "'EmissionCalculated', now(), 'acme', gen_random_uuid(), 'activity', 'calculated', "
            f"'electricity', 'offices', 'hq', 'FRA', '2024-01-01', '2024-02-01', '{lines}' "
            "FROM generate_series(1, 20001) AS n"
        ))  # fmt: skip
        await current.follow(conn, schema, 0, 20000)
        for table in (
            "emission_versions",
            *(t.name for t in reporting_tables(schema).current.tables),
        ):
            await conn.execute(sa.text(f'ANALYZE "{schema}".{table}'))
        plans = []
        for statement in current.follow_statements(schema):
            explain = sa.text(f"EXPLAIN (FORMAT JSON) {statement.text}")
            [[found]] = (await conn.execute(explain, {"start": 20000, "end": 20001})).all()
            plans.append(found[0]["Plan"])
        figures = await conn.execute(sa.text(f'SELECT count(*) FROM "{schema}".current_figures'))
    assert figures.scalar_one() == 20000
    for plan in plans:
        assert not [n for n in _nodes(plan) if n["Node Type"] == "Seq Scan"]
        assert plan["Total Cost"] < 1000  # no JIT compilation per event either
