from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import nats
import pytest
from nats.aio.client import Client as NatsClient
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts.factors import FactorDraft
from kernel.client import ServiceClient
from kernel.db import create_engine
from kernel.endpoints import CallContext
from kernel.migrations import upgrade
from kernel.runtime import MicroService
from kernel.store import EventStore
from services.factors.handlers import FactorHandlers
from services.factors.main import definition

ADMIN = CallContext(tenant_id="global", role="admin")
VIEWER = CallContext(tenant_id="acme", role="viewer")
ACME_ADMIN = CallContext(tenant_id="acme", role="admin")


@pytest.fixture(scope="session")
async def factors_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=8)
    yield engine
    await engine.dispose()


@pytest.fixture
async def factors_store(factors_engine: AsyncEngine) -> EventStore:
    """A fresh factors schema, built by the kernel's and the service's real migrations."""
    schema = f"f_{uuid.uuid4().hex[:10]}"
    await upgrade(factors_engine, schema, definition.migrations)
    return EventStore(factors_engine, schema, definition.upcasters)


@pytest.fixture
async def handlers(factors_store: EventStore) -> FactorHandlers:
    return FactorHandlers(factors_store)


@pytest.fixture
async def factors(
    nats_url: str, namespace: str, handlers: FactorHandlers
) -> AsyncIterator[ServiceClient]:
    """A client of a factors service running on real NATS, alone in its namespace."""
    own_namespace = f"{namespace}f{uuid.uuid4().hex[:6]}"
    nc: NatsClient = await nats.connect(nats_url)
    service = MicroService(
        nc, namespace=own_namespace, name="factors", version="0.1.0",
        routes=handlers.routes(), health=_healthy,
    )  # fmt: skip
    await service.start()
    yield ServiceClient(nc, own_namespace, timeout=10)
    await service.stop()
    await nc.drain()


async def _healthy() -> dict[str, Any]:
    return {"status": "ok"}


def electricity(**changes: Any) -> FactorDraft:
    fields: dict[str, Any] = {
        "activity_kind": "electricity", "component": "generation", "unit": "kWh",
        "kgco2e_per_unit": 0.035, "uncertainty_pct": 10, "region": "FRA",
        "valid_from": date(2024, 1, 1), "scope": 2, "source": "ADEME Base Carbone v23.6",
        "source_detail": "Identifiant 15591", "licence": "Licence Ouverte / Etalab 2.0",
        "year": 2024, "description": "France grid, generation",
    }  # fmt: skip
    return FactorDraft(**(fields | changes))
