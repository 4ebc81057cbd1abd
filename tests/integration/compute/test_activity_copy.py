"""Compute's copy of activities: redelivered and overtaken events leave it as it should be."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts import inventory as inv
from kernel.endpoints import CallContext
from kernel.envelope import RecordedEvent
from kernel.migrations import upgrade
from kernel.store import EventStore
from services.compute.activity_copy import activity_state, record_activities
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


async def test_a_batch_of_recordings_gives_the_states_its_rows_hold(engine: AsyncEngine) -> None:
    tag = uuid.uuid4().hex[:8]
    await upgrade(engine, f"inv_{tag}")
    await upgrade(engine, f"com_{tag}", MIGRATIONS)
    store, tables = EventStore(engine, f"inv_{tag}"), compute_tables(f"com_{tag}")
    ids = [uuid.uuid4() for _ in range(3)]
    recorded = await store.append(
        [electricity(a, n + 0.5).to_new_event(f"activity-{a}", ACME) for n, a in enumerate(ids)]
    )
    recorded[2] = (await store.read_stream(f"activity-{ids[2]}"))[0]
    attributes = inv.ActivityRecorded(**{**electricity(ids[0], 1).model_dump(),
                                         "attributes": {"meter": "é-7", "n": 2**40}})  # fmt: skip
    [with_attributes] = await store.append([attributes.to_new_event("other", ACME)])
    async with engine.begin() as conn:  # one of them was copied before: a redelivery
        await record_activities(conn, tables, recorded[1:2])
    batch = [*recorded, recorded[0], with_attributes]  # and one twice in the same batch

    async with engine.begin() as conn:
        states = await record_activities(conn, tables, batch)
        a = tables.activities
        rows = {r.activity_id: activity_state(r) for r in await conn.execute(sa.select(a))}

    assert [s.activity_id for s in states] == [ids[0], ids[1], ids[2], ids[0], ids[0]]
    assert states[:4] == [rows[i] for i in (ids[0], ids[1], ids[2], ids[0])]
    assert states[4] == states[0]  # the second recording of an activity changes nothing
