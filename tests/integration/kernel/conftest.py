from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import nats
import pytest
from nats.aio.client import Client as NatsClient
from sqlalchemy.ext.asyncio import AsyncEngine

from kernel.db import create_engine
from kernel.migrations import upgrade
from kernel.store import EventStore
from kernel.upcasting import Upcasters


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=12)
    yield engine
    await engine.dispose()


@pytest.fixture
async def log_schema(engine: AsyncEngine) -> str:
    """A fresh service schema with the kernel's event log, built by the real migrations."""
    schema = f"k_{uuid.uuid4().hex[:10]}"
    await upgrade(engine, schema)
    return schema


@pytest.fixture
def upcasters() -> Upcasters:
    return Upcasters()


@pytest.fixture
async def store(engine: AsyncEngine, log_schema: str, upcasters: Upcasters) -> EventStore:
    return EventStore(engine, log_schema, upcasters)


@pytest.fixture
async def nats_client(nats_url: str) -> AsyncIterator[NatsClient]:
    client = await nats.connect(nats_url, max_reconnect_attempts=-1, reconnect_time_wait=0.2)
    yield client
    await client.drain()


@pytest.fixture
def service_name() -> str:
    """A service name unique to the test, so streams and durables never collide."""
    return f"svc{uuid.uuid4().hex[:6]}"


@pytest.fixture
async def stop() -> AsyncIterator[asyncio.Event]:
    event = asyncio.Event()
    yield event
    event.set()
