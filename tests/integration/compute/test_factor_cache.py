"""Compute's cache of parsed factors against real PostgreSQL: never staler than the table.

Two ReadModels on one schema stand for two compute replicas: the durable factor consumer
is shared, so only one of them applies a given factor event.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts import factors as f
from kernel.endpoints import CallContext
from kernel.envelope import RecordedEvent
from kernel.events import DomainEvent
from kernel.migrations import upgrade
from kernel.store import EventStore
from services.compute.domain import ActivityState
from services.compute.projections import ReadModels
from services.compute.tables import compute_tables
from tests.integration.compute.conftest import values

MIGRATIONS = Path(__file__).resolve().parents[3] / "services" / "compute" / "migrations"
CATALOGUE = CallContext(tenant_id=f.GLOBAL_TENANT, role="admin")
ACME = CallContext(tenant_id="acme", role="admin")


@dataclass
class Replicas:
    engine: AsyncEngine
    factors: EventStore
    a: ReadModels
    b: ReadModels

    async def published(self, event: DomainEvent, ctx: CallContext = CATALOGUE) -> RecordedEvent:
        stream = f"factor-{getattr(event, 'factor_id', uuid.uuid4().hex)}"
        [recorded] = await self.factors.append([event.to_new_event(stream, ctx)])
        return recorded

    async def apply(
        self, models: ReadModels, event: DomainEvent, ctx: CallContext = CATALOGUE
    ) -> None:
        recorded = await self.published(event, ctx)
        async with self.engine.begin() as conn:
            await models.apply_factor_event(recorded, conn)

    async def versions(self, models: ReadModels, tenant: str = "acme") -> set[tuple[str, int]]:
        async with self.engine.connect() as conn:
            found = await models.candidates(conn, "electricity", tenant)
        return {(v.factor_id, v.version) for v in found if v.retired_from is None}


@pytest.fixture
async def replicas(engine: AsyncEngine) -> AsyncIterator[Replicas]:
    tag = uuid.uuid4().hex[:8]
    await upgrade(engine, f"fac_{tag}")
    await upgrade(engine, f"com_{tag}", MIGRATIONS)
    tables = compute_tables(f"com_{tag}")
    yield Replicas(engine, EventStore(engine, f"fac_{tag}"), ReadModels(tables), ReadModels(tables))


def published(factor_id: str, kg: float) -> f.FactorPublished:
    return f.FactorPublished(
        factor_id=factor_id, activity_kind="electricity", component="generation",
        values=values(kg),
    )  # fmt: skip


async def test_a_revision_applied_by_one_replica_is_seen_by_the_other(replicas: Replicas) -> None:
    await replicas.apply(replicas.a, published("elec-fra", 0.035))
    assert await replicas.versions(replicas.b) == {("elec-fra", 1)}  # b caches version 1

    revised = f.FactorRevised(factor_id="elec-fra", version=2, values=values(0.05), reason="x")
    await replicas.apply(replicas.a, revised)

    assert await replicas.versions(replicas.b) == {("elec-fra", 1), ("elec-fra", 2)}


async def test_a_release_and_a_retirement_change_what_is_cached(replicas: Replicas) -> None:
    await replicas.apply(replicas.a, published("elec-fra", 0.035))
    async with replicas.engine.connect() as conn:
        [before] = await replicas.b.candidates(conn, "electricity", "acme")
    release = f.ReleasePublished(
        release_id="r1", name="ademe-base-empreinte", description="",
        members=[f.ReleaseMember(factor_id="elec-fra", version=1)],
    )  # fmt: skip
    await replicas.apply(replicas.a, release)
    async with replicas.engine.connect() as conn:
        [after] = await replicas.b.candidates(conn, "electricity", "acme")
    assert (before.releases, after.releases) == ([], ["ademe-base-empreinte"])

    retired = f.FactorRetired(
        factor_id="elec-fra", version=1, retired_from=date(2025, 1, 1), reason="x"
    )
    await replicas.apply(replicas.a, retired)
    assert await replicas.versions(replicas.b) == set()


async def test_a_tenant_factor_reaches_its_tenant_only(replicas: Replicas) -> None:
    await replicas.apply(replicas.a, published("elec-fra", 0.035))
    assert await replicas.versions(replicas.b, "acme") == {("elec-fra", 1)}
    assert await replicas.versions(replicas.b, "beta") == {("elec-fra", 1)}
    await replicas.apply(replicas.a, published("acme-own", 0.01), ACME)

    assert await replicas.versions(replicas.b, "acme") == {("elec-fra", 1), ("acme-own", 1)}
    assert await replicas.versions(replicas.b, "beta") == {("elec-fra", 1)}


async def test_what_a_rolled_back_change_cached_is_never_used(replicas: Replicas) -> None:
    await replicas.apply(replicas.a, published("elec-fra", 0.035))
    recorded = await replicas.published(published("elec-deu", 0.4))

    class Abandoned(Exception):
        pass

    with pytest.raises(Abandoned):
        async with replicas.engine.begin() as conn:
            await replicas.a.apply_factor_event(recorded, conn)
            inside = await replicas.a.candidates(conn, "electricity", "acme")
            assert {v.factor_id for v in inside} == {"elec-fra", "elec-deu"}
            raise Abandoned

    assert await replicas.versions(replicas.a) == {("elec-fra", 1)}


def electricity_in_france() -> ActivityState:
    return ActivityState(
        activity_id=uuid.uuid4(), tenant_id="acme", kind="electricity", quantity=1.0,
        unit="MWh", period_start=date(2024, 1, 1), period_end=date(2024, 2, 1), site="hq",
        region="FRA", event_id=uuid.uuid4(), stream_version=1,
    )  # fmt: skip


async def resolved_version(models: ReadModels, engine: AsyncEngine) -> int | None:
    async with engine.connect() as conn:
        found = await models.factors.resolved(
            conn, electricity_in_france(), ["ademe-base-empreinte"], allow_fallback=False
        )
    return found.components[0].factor.version if found.components else None


async def test_a_remembered_resolution_follows_a_revision_by_another_replica(
    replicas: Replicas,
) -> None:
    assert await resolved_version(replicas.b, replicas.engine) is None  # nothing yet
    await replicas.apply(replicas.a, published("elec-fra", 0.035))
    assert await resolved_version(replicas.b, replicas.engine) == 1

    revised = f.FactorRevised(factor_id="elec-fra", version=2, values=values(0.05), reason="x")
    await replicas.apply(replicas.a, revised)

    assert await resolved_version(replicas.b, replicas.engine) == 2
