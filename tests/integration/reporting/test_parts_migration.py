"""Migration reporting_0005 on a schema that already holds versions: each of their lines gets
one whole part per dimension (device "unspecified", the version's country) until a rebuild."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncEngine

from kernel import migrations
from services.reporting.tables import reporting_tables
from tests.integration.reporting.test_footprint import MIGRATIONS
from tests.unit.reporting.test_parts import request_log


def alembic_config(connection: sa.Connection, schema: str) -> Config:
    """Alembic on reporting's revisions in `schema`, over `connection`."""
    return migrations.alembic_config(connection, schema, MIGRATIONS)


def _upgrade_to(connection: sa.Connection, schema: str, revision: str) -> None:
    command.upgrade(alembic_config(connection, schema), revision)


def _version(position: int, lines: list[dict[str, object]], country: str) -> dict[str, object]:
    return {
        "compute_position": position, "compute_event_id": uuid.uuid4(),
        "event_type": "EmissionCalculated", "recorded_at": datetime.now(UTC),
        "tenant_id": "acme", "source_id": uuid.uuid4(), "source_kind": "request_log",
        "status": "calculated", "activity_kind": "data_transfer", "post": "product",
        "site": "www", "country": country, "period_start": datetime(2024, 1, 1).date(),
        "period_end": datetime(2024, 2, 1).date(), "lines": lines, "cause": "request_log_received",
    }  # fmt: skip


async def test_existing_versions_get_whole_parts(engine: AsyncEngine) -> None:
    schema = f"rep_{uuid.uuid4().hex[:8]}"
    async with engine.connect() as conn:
        await conn.run_sync(_upgrade_to, schema, "reporting_0004")
        await conn.commit()
    log = request_log()
    lines = [x.model_dump(mode="json") for x in log.lines]
    tables = reporting_tables(schema)
    async with engine.begin() as conn:
        await conn.execute(sa.insert(tables.versions).values(**_version(1, lines, "multiple")))

    async with engine.connect() as conn:  # reporting_0007 then implies them (its own test)
        await conn.run_sync(_upgrade_to, schema, "reporting_0005")
        await conn.commit()

    async with engine.connect() as conn:
        parts = list(await conn.execute(sa.select(tables.parts).order_by("dimension", "line")))
    assert [(p.dimension, p.line, p.member) for p in parts] == [
        ("country", i, "multiple") for i in range(len(lines))
    ] + [("device", i, "unspecified") for i in range(len(lines))]
    for part in parts:
        kg = log.lines[part.line].kg
        assert (part.value, part.min, part.max) == (kg.value, kg.min, kg.max)
