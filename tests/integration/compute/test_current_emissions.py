"""The current-emissions table holds what the events say, whatever the batch holds, and
reads a calculated emission back from its event as it was written."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts import compute as c
from kernel.endpoints import CallContext
from kernel.events import DomainEvent
from kernel.migrations import upgrade
from kernel.store import EventStore
from services.compute.current_emissions import project, read_statuses
from services.compute.domain import EmissionStatus
from services.compute.tables import compute_tables

MIGRATIONS = Path(__file__).resolve().parents[3] / "services" / "compute" / "migrations"
ACME = CallContext(tenant_id="acme", role="service", actor="compute")
# Floats whose text differs between encoders (exponents, long fractions): jsonb keeps values.
AWKWARD = (1e-05, 1e16, 0.1 + 0.2, 123456789.123456789, 5e-324)


def _source(source_id: uuid.UUID) -> c.Source:
    return c.Source(kind="activity", id=source_id, event_id=uuid.uuid4(), stream_version=1)


def _emission(source_id: uuid.UUID, kg: float) -> c.Emission:
    total = c.Kg(value=kg, min=kg / 3, max=kg * 7)
    line = c.EmissionLine(component="generation", scope=2, kg=total, quantity=kg, unit="kWh")
    return c.Emission(
        source=_source(source_id), activity_kind="electricity", post="offices", site="hq",
        country="FRA", period_start=date(2024, 1, 1), period_end=date(2024, 2, 1),
        lines=[line], total=total, method=c.Method(name="m", version="1", constants={"é": kg}),
        breakdown={"big": 2**70, "nested": {"z": [kg, None, True], "a": "ü\n"}},
    )  # fmt: skip


async def test_a_batch_projects_each_sources_last_event(engine: AsyncEngine) -> None:
    tag = uuid.uuid4().hex[:8]
    await upgrade(engine, f"com_{tag}", MIGRATIONS)
    store, table = EventStore(engine, f"com_{tag}"), compute_tables(f"com_{tag}").emissions
    cause = c.Cause(kind="activity_recorded", event_id=uuid.uuid4())
    calculated = {uuid.uuid4(): kg for kg in AWKWARD}
    changes: list[tuple[uuid.UUID, DomainEvent]] = [
        (s, c.EmissionCalculated(emission=_emission(s, kg), cause=cause))
        for s, kg in calculated.items()
    ]
    twice, unresolved = uuid.uuid4(), uuid.uuid4()
    changes += [
        (twice, c.EmissionCalculated(emission=_emission(twice, 1.5), cause=cause)),
        (unresolved, c.EmissionUnresolved(
            source=_source(unresolved), activity_kind="fuel", site="hq", country="DEU",
            period_start=date(2024, 1, 1), period_end=date(2024, 2, 1), reason="none", cause=cause,
        )),
        (twice, c.EmissionWithdrawn(source=_source(twice), previous_total=None, cause=cause)),
    ]  # fmt: skip
    new = [event.to_new_event(f"emission-{s}", ACME) for s, event in changes]
    async with engine.begin() as conn:
        recorded = await store.append(new, conn=conn)
        await project(conn, table, zip([e for _, e in changes], recorded, strict=True))
        rows = {r.source_id: r for r in await conn.execute(sa.select(table))}
        statuses = await read_statuses(conn, table, [*calculated, twice, unresolved, uuid.uuid4()])

    assert set(rows) == set(statuses) == {*calculated, twice, unresolved}
    for (source, made), event in zip(changes[: len(calculated)], recorded, strict=False):
        row, status = rows[source], statuses[source]
        assert (row.status, row.tenant_id, row.version, row.country, row.position) == (
            "calculated", "acme", 1, "FRA", event.global_position,
        )  # fmt: skip
        assert isinstance(made, c.EmissionCalculated) and status.emission == made.emission
        assert status.emission.model_dump(mode="json") == event.payload["emission"]  # every float
    assert (rows[twice].status, rows[twice].version) == ("withdrawn", 2)
    assert rows[twice].position == recorded[-1].global_position
    assert statuses[twice] == EmissionStatus("withdrawn", None, None, 2)
    assert (rows[unresolved].status, rows[unresolved].reason) == ("unresolved", "none")
    assert rows[unresolved].activity_kind == "fuel"
    assert statuses[unresolved] == EmissionStatus("unresolved", None, "none", 1)
