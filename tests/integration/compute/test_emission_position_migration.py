"""Migration compute_0006 on a schema holding emissions of activities and request logs: down,
each calculated row holds its event's emission again; back up, each row points at the event
it held before, and every status reads the same."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from alembic import command
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts import compute as c
from kernel.events import DomainEvent
from kernel.migrations import alembic_config, upgrade
from kernel.store import EventStore
from services.compute.current_emissions import project, read_statuses
from services.compute.tables import compute_tables
from tests.integration.compute.test_current_emissions import (
    ACME,
    MIGRATIONS,
    _emission,
    _source,
)

CAUSE = c.Cause(kind="activity_recorded", event_id=uuid.uuid4())


def _history() -> list[tuple[str, DomainEvent]]:
    """Streams of both kinds of source; one restated, one withdrawn, one unresolved."""
    restated, withdrawn, log = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    first, later = _emission(restated, 2.0), _emission(restated, 3.5)
    return [
        (f"emission-{restated}", c.EmissionCalculated(emission=first, cause=CAUSE)),
        (f"emission-log-{log}", c.EmissionCalculated(emission=_emission(log, 7e-6), cause=CAUSE)),
        (f"emission-{withdrawn}",
         c.EmissionCalculated(emission=_emission(withdrawn, 1.0), cause=CAUSE)),
        (f"emission-{restated}",
         c.EmissionRestated(emission=later, previous_total=first.total, cause=CAUSE)),
        (f"emission-{withdrawn}",
         c.EmissionWithdrawn(source=_source(withdrawn), previous_total=None, cause=CAUSE)),
    ]  # fmt: skip


async def _recorded(engine: AsyncEngine, schema: str) -> list[Any]:
    await upgrade(engine, schema, MIGRATIONS)
    store, table = EventStore(engine, schema), compute_tables(schema).emissions
    history = _history()
    async with engine.begin() as conn:
        for stream, event in history:  # one append each, as the consumer's batches would
            recorded = await store.append([event.to_new_event(stream, ACME)], conn=conn)
            await project(conn, table, zip([event], recorded, strict=True))
    return [event for _, event in history]


async def _rows(engine: AsyncEngine, schema: str) -> dict[uuid.UUID, dict[str, Any]]:
    table = compute_tables(schema).emissions
    async with engine.connect() as conn:
        # whole rows as one jsonb: a SELECT * would be a prepared statement gone stale
        query = sa.text(f'SELECT to_jsonb(e) FROM "{schema}".emissions AS e')
        found = {uuid.UUID(row["source_id"]): row for row in await conn.scalars(query)}
        if "position" in next(iter(found.values())):
            for source, status in (await read_statuses(conn, table, list(found))).items():
                found[source]["read"] = status
        return found


def _alembic(connection: sa.Connection, schema: str, verb: str, revision: str) -> None:
    getattr(command, verb)(alembic_config(connection, schema, MIGRATIONS), revision)


async def _migrate(engine: AsyncEngine, schema: str, verb: str, revision: str) -> None:
    async with engine.connect() as conn:
        await conn.run_sync(_alembic, schema, verb, revision)
        await conn.commit()


async def test_down_to_stored_emissions_and_back_reads_the_same(engine: AsyncEngine) -> None:
    schema = f"com_{uuid.uuid4().hex[:8]}"
    history = await _recorded(engine, schema)
    pointed = await _rows(engine, schema)
    emissions = {e.emission.source.id: e.emission for e in history if hasattr(e, "emission")}
    for source, row in pointed.items():  # each source's last emission, from its event
        expected = emissions[source] if row["status"] == "calculated" else None
        assert row["read"].emission == expected

    await _migrate(engine, schema, "downgrade", "compute_0005")
    stored = await _rows(engine, schema)
    for source, row in stored.items():
        assert "position" not in row
        expected = emissions[source] if row["status"] == "calculated" else None
        assert row["emission"] == (expected and expected.model_dump(mode="json"))
    assert sum(row["emission"] is not None for row in stored.values()) == 2  # restated, log

    await _migrate(engine, schema, "upgrade", "compute_0006")
    assert await _rows(engine, schema) == pointed
