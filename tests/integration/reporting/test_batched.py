"""A batch of compute events is projected into exactly the rows (versions, parts, current
tables, watermark) and the change notices that applying them one at a time would give."""

from __future__ import annotations

import random
import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from kernel.envelope import RecordedEvent
from kernel.migrations import upgrade
from services.reporting.projections import EmissionVersions
from services.reporting.tables import ReportingTables, reporting_tables
from tests.integration.reporting.test_current import _recorded
from tests.integration.reporting.test_footprint import MIGRATIONS


def _arrivals(recorded: list[RecordedEvent], rng: random.Random) -> list[RecordedEvent]:
    """Shuffled (late deliveries), with redeliveries, some right after their first copy."""
    arrivals = list(recorded)
    rng.shuffle(arrivals)
    for event in rng.sample(recorded, 6):
        at = arrivals.index(event) + rng.choice([1, 1, 4, 12])
        arrivals.insert(min(at, len(arrivals)), event)
    return arrivals


def _cut(arrivals: list[RecordedEvent], rng: random.Random) -> list[list[RecordedEvent]]:
    batches, start = [], 0
    while start < len(arrivals):
        size = rng.randint(1, 9)
        batches.append(arrivals[start : start + size])
        start += size
    return batches


async def _projected(
    engine: AsyncEngine, batches: list[list[RecordedEvent]]
) -> tuple[list[Any], dict[str, list[Any]]]:
    """Project the batches, one transaction each, into a fresh schema: what each batch
    reported as new (the notices' source), then every table's rows."""
    schema = f"rep_{uuid.uuid4().hex[:8]}"
    await upgrade(engine, schema, MIGRATIONS)
    tables = reporting_tables(schema)
    versions, announced = EmissionVersions(tables), []
    for batch in batches:
        async with engine.begin() as conn:
            rows = await versions.apply_batch(batch, conn)
        announced += [(row["compute_position"], row["status"]) for row in rows]
    return announced, await _rows(engine, tables)


async def _rows(engine: AsyncEngine, tables: ReportingTables) -> dict[str, list[Any]]:
    every = (tables.versions, tables.parts, tables.watermark, *tables.current.tables)
    async with engine.connect() as conn:
        return {t.name: sorted(map(tuple, await conn.execute(sa.select(t))), key=repr)
                for t in every}  # fmt: skip


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
async def test_batches_write_what_one_event_at_a_time_writes(
    engine: AsyncEngine, seed: int
) -> None:
    rng = random.Random(seed)
    recorded = await _recorded(engine, f"com_{uuid.uuid4().hex[:8]}")
    arrivals = _arrivals(recorded, rng)

    one_by_one = await _projected(engine, [[event] for event in arrivals])
    batched = await _projected(engine, _cut(arrivals, rng))

    assert batched == one_by_one
    announced, rows = batched
    assert len(announced) == len(recorded)  # each event once, redeliveries not announced
    assert rows["compute_watermark"] == [(1, len(recorded))]
    assert len(rows["current_figures"]) > 0
