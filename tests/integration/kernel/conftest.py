from __future__ import annotations

import uuid

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from kernel.migrations import upgrade
from kernel.store import EventStore
from kernel.upcasting import Upcasters


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
