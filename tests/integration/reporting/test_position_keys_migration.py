"""Migrations reporting_0008 (current figures keyed by version, versions' event ids bare) and
reporting_0009 (no period index on the versions) on a schema holding a history: down and
back up, the rows stay, the keys and indexes are those each revision names, and the
projection keeps the current tables right on either."""

from __future__ import annotations

from alembic import command
from sqlalchemy.ext.asyncio import AsyncEngine

from kernel.migrations import upgrade
from services.reporting.projections import EmissionVersions
from services.reporting.tables import reporting_tables
from tests.integration.reporting.test_current import (
    _compare,
    _rows,
    history_beside_empty_reporting,
)
from tests.integration.reporting.test_footprint import MIGRATIONS
from tests.integration.reporting.test_parts_migration import alembic_config
from tests.integration.reporting.test_rebuild import indexes_and_constraints

OLD_KEY = ("current_figures", "current_figures_pkey PRIMARY KEY "
           "(tenant_id, source_id, dimension, line, member)")  # fmt: skip
NEW_KEY = ("current_figures", "current_figures_pkey PRIMARY KEY "
           "(compute_position, dimension, line, member)")  # fmt: skip
EVENT_IDS = ("emission_versions", "emission_versions_compute_event_id_key UNIQUE "
             "(compute_event_id)")  # fmt: skip
PERIODS = "emission_versions_period_idx"


async def _downgrade(engine: AsyncEngine, schema: str) -> None:
    async with engine.connect() as conn:
        await conn.run_sync(
            lambda sync: command.downgrade(alembic_config(sync, schema), "reporting_0007")
        )
        await conn.commit()


async def test_down_and_up_keeps_the_rows_and_the_projection_works_on_both_keys(
    engine: AsyncEngine,
) -> None:
    recorded, schema = await history_beside_empty_reporting(engine)
    tables = reporting_tables(schema)
    projected = (tables.versions, *tables.current.tables)
    versions, half = EmissionVersions(tables), len(recorded) // 2
    for event in recorded[:half]:
        async with engine.begin() as conn:
            await versions.apply(event, conn)
    rows = await _rows(engine, projected)

    await _downgrade(engine, schema)
    structure = await indexes_and_constraints(engine, schema)
    assert {OLD_KEY, EVENT_IDS} <= structure and NEW_KEY not in structure
    assert any(PERIODS in definition for _, definition in structure)
    assert await _rows(engine, projected) == rows
    for event in recorded[half:]:  # the later half projected on the old keys
        async with engine.begin() as conn:
            await versions.apply(event, conn)
    assert await _compare(engine, schema) > 0
    rows = await _rows(engine, projected)

    await upgrade(engine, schema, MIGRATIONS)
    structure = await indexes_and_constraints(engine, schema)
    assert NEW_KEY in structure and not {OLD_KEY, EVENT_IDS} & structure
    assert not any(PERIODS in definition for _, definition in structure)
    assert await _rows(engine, projected) == rows
    await _compare(engine, schema)
