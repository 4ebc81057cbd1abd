"""Compute's copy of activities: redelivered and overtaken events leave it as it should be."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts import inventory as inv
from kernel.endpoints import CallContext
from kernel.envelope import RecordedEvent
from kernel.migrations import upgrade
from kernel.store import EventStore
from services.compute.domain import ActivityState
from services.compute.projections import ReadModels
from services.compute.tables import compute_tables
from tests.integration.compute.conftest import electricity

MIGRATIONS = Path(__file__).resolve().parents[3] / "services" / "compute" / "migrations"
ACME = CallContext(tenant_id="acme", role="integrator")


async def test_redelivered_and_overtaken_events_keep_the_newest_state(engine: AsyncEngine) -> None:
    tag = uuid.uuid4().hex[:8]
    await upgrade(engine, f"inv_{tag}")
    await upgrade(engine, f"com_{tag}", MIGRATIONS)
    store, models = EventStore(engine, f"inv_{tag}"), ReadModels(compute_tables(f"com_{tag}"))
    a = uuid.uuid4()
    corrected = inv.ActivityCorrected(
        activity_id=a, quantity=5, unit="MWh", period_start=date(2024, 1, 1),
        period_end=date(2024, 2, 1), reason="bill",
    )  # fmt: skip
    [recorded] = await store.append([electricity(a, 2).to_new_event(f"activity-{a}", ACME)])
    [correction] = await store.append([corrected.to_new_event(f"activity-{a}", ACME)])

    async def apply(event: RecordedEvent) -> ActivityState | None:
        async with engine.begin() as conn:
            return await models.apply_activity_event(event, conn)

    with pytest.raises(LookupError):
        await apply(correction)  # overtook its recording
    first = await apply(recorded)
    assert first is not None and (first.quantity, first.stream_version) == (2, 1)
    assert await apply(recorded) == first  # redelivered: nothing written, same state
    newer = await apply(correction)
    assert newer is not None and (newer.quantity, newer.stream_version) == (5, 2)
    assert await apply(recorded) == newer  # an old event does not undo the correction
    assert await apply(correction) == newer
