"""The rebuild's bulk path against the live projection's, on the same published events:
the same rows in every projection table, with the current tables kept in memory, or, when
the events leave a gap or are too many to keep, filled by SQL up to the watermark."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from kernel import wire
from kernel.migrations import upgrade
from services.reporting.bulk import BulkReplay
from services.reporting.projections import EmissionVersions
from services.reporting.rebuild import OneByOne
from services.reporting.tables import reporting_tables
from tests.integration.reporting.test_current import _recorded
from tests.integration.reporting.test_footprint import MIGRATIONS

Rows = dict[str, list[tuple[object, ...]]]


async def _replayed(
    engine: AsyncEngine, messages: list[bytes], *, bulk: bool, kept_rows: int = 1000
) -> Rows:
    schema = f"rep_{uuid.uuid4().hex[:8]}"
    await upgrade(engine, schema, MIGRATIONS)
    tables = reporting_tables(schema)
    replay = BulkReplay(tables, kept_rows) if bulk else OneByOne(EmissionVersions(tables))
    batch = 3
    async with engine.begin() as conn:
        for start in range(0, len(messages), batch):
            await replay.write(messages[start : start + batch], conn)
        await replay.finish(conn)
    rows: Rows = {}
    async with engine.connect() as conn:
        for table in tables.projections:
            found = await conn.execute(sa.select(table).order_by(*table.primary_key.columns))
            rows[table.name] = [tuple(row) for row in found]
    return rows


@pytest.mark.parametrize(
    ("gap", "kept_rows"),
    [(None, 1000), (5, 1000), (None, 10)],
    ids=["whole-stream", "a-gap", "too-many-rows-to-keep"],
)
async def test_bulk_writes_the_live_projections_rows(
    engine: AsyncEngine, gap: int | None, kept_rows: int
) -> None:
    recorded = await _recorded(engine, f"com_{uuid.uuid4().hex[:8]}")
    messages = [wire.encode(event.to_json()) for event in recorded]
    messages.append(messages[2])  # a redelivery
    if gap is not None:
        del messages[gap]
    bulk = await _replayed(engine, messages, bulk=True, kept_rows=kept_rows)
    if kept_rows < 1000:  # more current rows than it may keep: SQL filled them instead
        assert len(bulk["current_figures"]) + len(bulk["current_sources"]) > kept_rows
    assert bulk == await _replayed(engine, messages, bulk=False)
    [(_, watermark)] = bulk["compute_watermark"]
    assert watermark == (len(recorded) if gap is None else gap)
    assert bulk["current_figures"] and bulk["current_stamps"]
    assert max(row[2] for row in bulk["current_sources"]) <= watermark  # none from past a gap
