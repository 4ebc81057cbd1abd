from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import nats
import pytest
from nats.aio.client import Client as NatsClient
from sqlalchemy.ext.asyncio import AsyncEngine

from kernel.client import ServiceClient
from kernel.db import create_engine
from kernel.endpoints import CallContext
from kernel.migrations import upgrade
from kernel.process import Wiring
from kernel.runtime import MicroService
from kernel.settings import Settings
from kernel.store import EventStore
from services.inventory.handlers import Inventory
from services.inventory.main import definition

INTEGRATOR = CallContext(tenant_id="acme", role="integrator", actor="loader")
OTHER_TENANT = CallContext(tenant_id="globex", role="admin")
VIEWER = CallContext(tenant_id="acme", role="viewer")
ADMIN = CallContext(tenant_id="acme", role="admin", actor="alice")

GOOD = {
    "kind": "electricity",
    "quantity": 1200.0,
    "unit": "kWh",
    "period_start": "2025-01-01",
    "period_end": "2025-02-01",
    "site": "paris-hq",
    "region": "FRA",
}


@dataclass(frozen=True)
class Running:
    """The inventory service answering on NATS, and what a test needs to look behind it."""

    client: ServiceClient
    store: EventStore
    nc: NatsClient
    namespace: str


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=8)
    yield engine
    await engine.dispose()


@pytest.fixture
async def nc(nats_url: str) -> AsyncIterator[NatsClient]:
    client = await nats.connect(nats_url)
    yield client
    await client.drain()


@pytest.fixture
def answer_limit() -> int | None:
    """The largest answer the service may send; None: the NATS server's max_payload."""
    return None


@pytest.fixture
async def inv(
    engine: AsyncEngine, nc: NatsClient, namespace: str, nats_url: str, answer_limit: int | None
) -> AsyncIterator[Running]:
    """A fresh schema (real migrations) and namespace, with the service's routes on them."""
    suffix = uuid.uuid4().hex[:8]
    schema, ns = f"inv_{suffix}", f"{namespace}_{suffix}"
    await upgrade(engine, schema, definition.migrations)
    store = EventStore(engine, schema, definition.upcasters)
    settings = Settings(NATS_URL=nats_url, EMPREINTE_NAMESPACE=ns)
    service = MicroService(
        nc,
        namespace=ns,
        name="inventory",
        version="0.1.0",
        routes=definition.routes(Wiring(settings, engine, nc, store))
        if answer_limit is None
        else Inventory(store, nc.jetstream(), ns, answer_limit).routes(),
        health=_healthy,
    )
    await service.start()
    yield Running(ServiceClient(nc, ns, timeout=60), store, nc, ns)
    await service.stop()


async def _healthy() -> dict[str, object]:
    return {"status": "ok"}
