"""`empreinte reporting rebuild`: every projection comes back identical from its sources."""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import date

import pytest
import sqlalchemy as sa
from nats.aio.client import Client as NatsClient
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from contracts import compute as c
from contracts import reporting as r
from kernel.endpoints import CallContext
from services.reporting.parts import figures_of, stored
from services.reporting.rebuild import rebuild
from tests.integration.reporting.test_footprint import Setup, cause, emission, line, running
from tests.unit.reporting.test_parts import request_log

ACME = CallContext(tenant_id="acme", role="admin")
LOG = request_log()
# the 4 activity lines are whole on both dimensions (implied, no rows): the log's parts only
PARTS = len(stored([figures_of(x) for x in LOG.lines], LOG.country, LOG.breakdown))
# now: sources a and u of acme (a line each), and the log's lines and parts
FIGURES = 2 + len(LOG.lines) + PARTS
GLOBEX = CallContext(tenant_id="globex", role="admin")
CLI = (
    "import typer; from empreinte_cli.reporting_commands import reporting_app; "
    "app = typer.Typer(); app.add_typer(reporting_app, name='reporting'); app()"
)


@pytest.fixture
async def setup(
    engine: AsyncEngine, nats_client: NatsClient, namespace: str
) -> AsyncIterator[Setup]:
    async with running(engine, nats_client, namespace) as ready:
        await _history(ready)
        yield ready


async def _history(setup: Setup) -> None:
    """Every kind of compute event, two tenants, a request log, and two reports."""
    a, b, u = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    first = emission(a, [line(70, 2, quantity=1000, basis="location")])
    await setup.emit(c.EmissionCalculated(emission=first, cause=cause()), a)
    restated = emission(a, [line(105, 2, version=2, quantity=1000, basis="location")])
    previous = c.Kg(value=70, min=63, max=77)
    await setup.emit(c.EmissionRestated(emission=restated, previous_total=previous,
                                        cause=cause("factor_revised")), a)  # fmt: skip
    second = emission(b, [line(9, 1)], kind="natural_gas_net_cv")
    await setup.emit(c.EmissionCalculated(emission=second, cause=cause()), b)
    await setup.emit(c.EmissionWithdrawn(source=second.source, previous_total=previous,
                                         cause=cause("activity_retracted")), b)  # fmt: skip
    await setup.emit(c.EmissionUnresolved(
        source=c.Source(kind="activity", id=u, event_id=uuid.uuid4(), stream_version=1),
        activity_kind="hotel_night", site="hq", country="BRA", period_start=date(2024, 3, 1),
        period_end=date(2024, 3, 2), reason="no factor", cause=cause()), u, GLOBEX)  # fmt: skip
    await setup.emit(c.EmissionCalculated(emission=emission(u, [line(5, 2)]), cause=cause()), u)
    await setup.emit(c.EmissionCalculated(emission=LOG, cause=cause()), LOG.source.id)
    report = r.GenerateReport(
        organisation=r.Organisation(name="Acme", identifier="9695005EMPREINTE0004"),
        period_start=date(2024, 1, 1),
        period_end=date(2025, 1, 1),
        net_revenue_eur=1e6,
        electricity_mix=r.Mix(fossil=0.1, nuclear=0.7, renewable=0.2),
    )
    mix = r.Mix(fossil=0, nuclear=0.5, renewable=0.5)
    await setup.reporting.generate_report(ACME, report)
    await setup.reporting.generate_report(ACME, report.model_copy(update={"electricity_mix": mix}))


async def fingerprints(engine: AsyncEngine, setup: Setup) -> dict[str, tuple[int, str]]:
    """Per projection table: its row count and the md5 of all its rows in key order."""
    async with engine.connect() as conn:
        return await fingerprints_seen(conn, setup)


async def fingerprints_seen(conn: AsyncConnection, setup: Setup) -> dict[str, tuple[int, str]]:
    """`fingerprints` as `conn`'s transaction sees them."""
    found = {}
    for table in setup.reporting.versions.t.projections:
        key = ", ".join(column.name for column in table.primary_key)
        sql = (
            f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY {key}), '')) "
            f'FROM "{table.schema}"."{table.name}" AS t'
        )
        count, digest = (await conn.execute(sa.text(sql))).one()
        found[table.name] = (int(count), str(digest))
    return found


@pytest.mark.parametrize(
    ("bulk", "batch"),
    [(True, 1000), (True, 3), (False, 1000)],
    # by 3: a withdrawal and a restatement in another batch than their source's first version
    ids=["bulk", "bulk-in-batches-of-3", "per-event"],
)
async def test_rebuild_gives_identical_projections(
    engine: AsyncEngine, setup: Setup, bulk: bool, batch: int
) -> None:
    before = await fingerprints(engine, setup)
    assert {name: count for name, (count, _) in before.items()} == {
        "emission_versions": 7, "emission_parts": PARTS, "compute_watermark": 1, "reports": 2,
        "current_sources": 4, "current_figures": FIGURES, "current_stamps": 2,
    }  # fmt: skip
    async with engine.begin() as conn:  # damage every table: the rebuild must not rely on them
        for table in setup.reporting.versions.t.projections:
            await conn.execute(table.delete())

    told: list[tuple[int, int]] = []
    done = await rebuild(engine, setup.reporting.nc, setup.namespace, setup.reporting.schema,
                         bulk=bulk, batch=batch, progress=lambda *n: told.append(n))  # fmt: skip

    assert (done.compute_events, done.report_events) == (7, 2)
    replayed = [n for n, _ in told]  # after each batch, out of the stream's 7
    assert replayed == [*range(batch, 7, batch), 7] and {t for _, t in told} == {7}
    assert await fingerprints(engine, setup) == before


async def test_the_cli_rebuilds_from_the_environment(
    engine: AsyncEngine, setup: Setup, subprocess_env: dict[str, str]
) -> None:
    before = await fingerprints(engine, setup)
    env = {**subprocess_env, "EMPREINTE_NAMESPACE": setup.namespace}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CLI, "reporting", "rebuild", "--schema", setup.reporting.schema,
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    assert "emission_versions: 7 compute events replayed" in out.decode()
    assert await fingerprints(engine, setup) == before


async def indexes_and_constraints(engine: AsyncEngine, schema: str) -> set[tuple[str, str]]:
    """Every index (by its definition, name included) and constraint of the schema."""
    sql = (
        "SELECT tablename, indexdef FROM pg_indexes WHERE schemaname = :schema UNION ALL "
        "SELECT c.relname, k.conname || ' ' || pg_get_constraintdef(k.oid) "
        "FROM pg_constraint AS k JOIN pg_class AS c ON c.oid = k.conrelid "
        "WHERE k.connamespace = CAST(:schema AS regnamespace)"
    )
    async with engine.connect() as conn:
        rows = await conn.execute(sa.text(sql), {"schema": schema})
        return {(str(table), str(definition)) for table, definition in rows}


async def test_rebuilding_again_keeps_the_tables_their_indexes_and_constraints(
    engine: AsyncEngine, setup: Setup
) -> None:
    schema = setup.reporting.schema
    tables = await fingerprints(engine, setup)
    structure = await indexes_and_constraints(engine, schema)
    assert ("current_figures", "current_figures_pkey PRIMARY KEY "
            "(compute_position, dimension, line, member)") in structure  # fmt: skip

    for _ in range(2):
        await rebuild(engine, setup.reporting.nc, setup.namespace, schema)

        assert await fingerprints(engine, setup) == tables
        assert await indexes_and_constraints(engine, schema) == structure


async def test_a_snapshot_taken_before_the_rebuild_commits_keeps_the_old_rows(
    engine: AsyncEngine, setup: Setup
) -> None:
    """As footprints now read (now.py: one REPEATABLE READ snapshot): swapping in tables
    built aside would show such a reader empty tables, their rows being newer than it."""
    rebuilt = await fingerprints(engine, setup)
    schema, figures = setup.reporting.schema, setup.reporting.versions.t.current.figures
    async with engine.begin() as conn:  # the old rows: the figures without their parts
        await conn.execute(figures.delete().where(figures.c.dimension != "line"))
    old = await fingerprints(engine, setup)
    async with engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="REPEATABLE READ")
        await conn.execute(sa.text(f'SELECT position FROM "{schema}".compute_watermark'))

        await rebuild(engine, setup.reporting.nc, setup.namespace, schema)

        assert await fingerprints_seen(conn, setup) == old
    assert await fingerprints(engine, setup) == rebuilt != old
