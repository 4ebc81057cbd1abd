"""Migration reporting_0007 (whole lines implied, not stored) on a schema holding a history:
down to the stored whole parts of before and back up, every footprint answer stays the
same, now and from the ledger, and the part rows come back as they were."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import command
from sqlalchemy.ext.asyncio import AsyncEngine

from kernel.migrations import upgrade
from services.reporting import now, queries
from services.reporting.projections import EmissionVersions
from services.reporting.tables import reporting_tables
from tests.integration.reporting.test_current import (
    TENANTS,
    _requests,
    _same,
    history_beside_empty_reporting,
)
from tests.integration.reporting.test_footprint import MIGRATIONS
from tests.integration.reporting.test_parts_migration import alembic_config

Answers = list[tuple[Any, Any]]


async def _answers(engine: AsyncEngine, schema: str, *, current: bool = True) -> Answers:
    """Every shape for every tenant: (from the ledger, as known now unless not `current`)."""
    found = []
    async with engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="REPEATABLE READ")
        for tenant in TENANTS:
            position = (await now.head(conn, schema, tenant)).position
            for request in _requests():
                ledger = await queries.footprint(conn, schema, tenant, request)
                fast = current and await now.footprint(conn, schema, tenant, request, position)
                found.append((ledger, fast or ledger))
    return found


async def _parts(engine: AsyncEngine, schema: str) -> list[tuple[Any, ...]]:
    parts = reporting_tables(schema).parts
    async with engine.connect() as conn:
        rows = await conn.execute(sa.select(parts).order_by(*parts.primary_key.columns))
        return [tuple(row) for row in rows]


async def _countries(engine: AsyncEngine, schema: str) -> dict[int, str]:
    versions = reporting_tables(schema).versions
    async with engine.connect() as conn:
        rows = await conn.execute(sa.select(versions.c.compute_position, versions.c.country))
        return {int(position): str(country) for position, country in rows}


def _alembic(connection: sa.Connection, schema: str, verb: str, revision: str) -> None:
    getattr(command, verb)(alembic_config(connection, schema), revision)


async def test_down_to_stored_whole_parts_and_back_changes_no_answer(
    engine: AsyncEngine,
) -> None:
    recorded, schema = await history_beside_empty_reporting(engine)
    versions = EmissionVersions(reporting_tables(schema))
    async with engine.begin() as conn:
        for event in recorded:
            await versions.apply(event, conn)
    implied, parts = await _answers(engine, schema), await _parts(engine, schema)

    async with engine.connect() as conn:
        await conn.run_sync(_alembic, schema, "downgrade", "reporting_0006")
        await conn.commit()
    stored = await _parts(engine, schema)
    assert set(parts) < set(stored)  # whole lines back as rows, the split ones untouched
    countries = await _countries(engine, schema)
    restored = set(stored) - set(parts)
    assert {p[1] for p in restored} == {"device", "country"}
    for position, dimension, _, member, *_ in restored:
        assert member == ("unspecified" if dimension == "device" else countries[position])
    # the ledger path as it read stored whole parts (the current figures' columns are gone)
    before = await _answers(engine, schema, current=False)

    await upgrade(engine, schema, MIGRATIONS)
    assert await _parts(engine, schema) == parts
    after = await _answers(engine, schema)
    for answers in (implied, before, after):
        for (ledger, fast), (ledger_then, _) in zip(answers, implied, strict=True):
            _same(ledger, ledger_then)
            _same(fast, ledger)
