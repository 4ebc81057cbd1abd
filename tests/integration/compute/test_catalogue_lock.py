"""A factor change and the activity computations in flight exclude each other.

Otherwise an activity computed with the old factors while a change commits would never be
restated: the change looks for the activities it affects before that one has committed.
Here a transaction computing activities is held open; the factor change waits for it.
"""

from __future__ import annotations

import asyncio
import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts import factors as f
from kernel.envelope import RecordedEvent
from kernel.migrations import upgrade
from kernel.store import EventStore
from services.compute.consumers import EmissionWorkflow
from tests.integration.compute.conftest import CATALOGUE, Stack, values

WAITING = (
    "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
    "WHERE d.datname = current_database() AND l.locktype = 'advisory' AND NOT l.granted"
)


async def a_factor_event(engine: AsyncEngine) -> RecordedEvent:
    """A FactorPublished as the factors service records it (in a log no relay reads)."""
    store = EventStore(engine, f"fx_{uuid.uuid4().hex[:8]}")
    await upgrade(engine, store.schema)
    published = f.FactorPublished(
        factor_id="elec-lock", activity_kind="electricity", component="generation",
        values=values(0.1),
    )  # fmt: skip
    [recorded] = await store.append([published.to_new_event("factor-elec-lock", CATALOGUE)])
    return recorded


async def until_someone_waits_for_a_lock(engine: AsyncEngine) -> None:
    async with asyncio.timeout(20):
        while True:
            async with engine.connect() as conn:
                if await conn.scalar(sa.text(WAITING)):
                    return
            await asyncio.sleep(0.01)


async def test_a_factor_change_waits_for_the_activity_computations_in_flight(
    stack: Stack,
) -> None:
    engine = stack.compute.engine
    workflow = EmissionWorkflow(stack.compute, stack.models, [], allow_fallback=False)
    event = await a_factor_event(engine)

    async def change_factors() -> None:
        async with engine.begin() as conn:
            await workflow.on_factor_event(event, conn)

    async with engine.connect() as computing:
        await computing.begin()
        await workflow.on_inventory_events([], computing)  # a batch in flight
        changing = asyncio.create_task(change_factors())
        await until_someone_waits_for_a_lock(engine)
        assert not changing.done()
        await computing.commit()
    await changing  # it goes on once the computation committed
    fv = stack.models.t.factors
    async with engine.connect() as conn:
        found = await conn.scalar(sa.select(fv.c.version).where(fv.c.factor_id == "elec-lock"))
    assert found == 1
