"""The event log's indexes: only those a read or a guarantee needs, each read served by one."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from kernel.ddl import index_events_by_type
from kernel.envelope import NewEvent
from kernel.store import EventStore

# The reads the store makes (kernel/store.py), as PostgreSQL receives them.
_READS = {
    "history of a tenant": "tenant_id = :tenant AND global_position > 0 ORDER BY global_position",
    "by type": "type = ANY(:types) AND global_position > 0 ORDER BY global_position",
    "one stream": "stream_id = :stream AND stream_version >= 1 ORDER BY stream_version",
}


async def _indexes(engine: AsyncEngine, schema: str) -> set[str]:
    query = "SELECT indexname FROM pg_indexes WHERE schemaname = :s AND tablename = 'events'"
    async with engine.connect() as conn:
        return set((await conn.execute(sa.text(query), {"s": schema})).scalars())


async def _fill(store: EventStore) -> None:
    for n in range(40):
        stream, tenant = f"s-{n}", "rare" if n == 7 else "acme"
        drafts = [NewEvent(stream, f"T{i % 4}", {"i": i}, tenant) for i in range(50)]
        events = drafts[:1] if tenant == "rare" else drafts
        await store.append(events, expected_versions={stream: 0})


async def _plan(engine: AsyncEngine, schema: str, where: str) -> str:
    query = f'EXPLAIN SELECT * FROM "{schema}".events WHERE {where} LIMIT 100'
    params = {"tenant": "rare", "types": ["T1"], "stream": "s-3"}
    async with engine.connect() as conn:
        await conn.execute(sa.text(f'ANALYZE "{schema}".events'))
        rows = await conn.execute(sa.text(query), {k: v for k, v in params.items() if k in where})
        return "\n".join(row[0] for row in rows)


async def test_the_log_keeps_the_indexes_reads_and_guarantees_need(
    engine: AsyncEngine, log_schema: str
) -> None:
    assert await _indexes(engine, log_schema) == {
        "events_pkey",  # positions
        "events_event_id_key",  # relay and consumers deduplicate by event id
        "events_stream_version_key",  # optimistic concurrency
        "events_tenant_idx",  # the audit history of a tenant
    }


async def test_every_read_of_the_log_goes_through_an_index(
    engine: AsyncEngine, store: EventStore, log_schema: str
) -> None:
    await _fill(store)

    plans = {read: await _plan(engine, log_schema, where) for read, where in _READS.items()}

    assert all("Seq Scan" not in plan and "Index" in plan for plan in plans.values()), plans
    assert "events_tenant_idx" in plans["history of a tenant"]
    assert "events_stream_version_key" in plans["one stream"]
    assert [e.stream_id for e in await store.read_all(tenant_id="rare")] == ["s-7"]
    assert len(await store.read_all(types=["T1"])) == 39 * 13  # i = 1, 5, ..., 49


async def test_the_type_index_comes_back_on_downgrade(engine: AsyncEngine, log_schema: str) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(index_events_by_type, log_schema, indexed=True)

    assert "events_type_idx" in await _indexes(engine, log_schema)
