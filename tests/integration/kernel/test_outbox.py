from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from uuid import uuid4

from kernel import wire
from kernel.db import driver_connection
from kernel.envelope import NewEvent
from kernel.outbox import Outgoing, outgoing_statement, read_outgoing
from kernel.store import EventStore


async def _read(store: EventStore, statement: str, *, after: int, limit: int) -> list[Outgoing]:
    async with driver_connection(store.engine) as driver:
        return await read_outgoing(driver, statement, after=after, limit=limit)


def assorted() -> list[NewEvent]:
    """Envelopes whose fields PostgreSQL and Python could write differently."""
    plus_two = timezone(timedelta(hours=2))
    return [
        NewEvent("s-1", "Counted", {"i": 1}, tenant_id="acme"),
        NewEvent(
            'quote " back \\ line \n',
            "Odd",
            {"z": [1e-05, 1e16, 2**70], "é": None},
            tenant_id="tenant-é",
            actor="ünïcode \u2028 actor",
            causation_id=uuid4(),
            correlation_id=uuid4(),
            occurred_at=datetime(2024, 1, 1, 12, 0, tzinfo=plus_two),
        ),
        NewEvent(
            "s-3",
            "Counted",
            {},
            tenant_id="acme",
            schema_version=3,
            occurred_at=datetime.min.replace(tzinfo=UTC),
        ),
        NewEvent(
            "s-4",
            "Counted",
            {"i": 4},
            tenant_id="acme",
            occurred_at=datetime(2025, 6, 30, 23, 59, 59, 999999, tzinfo=UTC),
        ),
        NewEvent("s-5", "Counted", {}, "acme", occurred_at=datetime.max.replace(tzinfo=UTC)),
    ]


async def test_each_event_goes_out_as_the_document_its_recorded_event_writes(
    store: EventStore,
) -> None:
    recorded = await store.append(assorted())
    statement = outgoing_statement(store.schema)

    outgoing = await _read(store, statement, after=0, limit=10)

    assert [o.position for o in outgoing] == [e.global_position for e in recorded]
    for sent, event in zip(outgoing, recorded, strict=True):
        expected = event.to_json()
        document = wire.decode(sent.body)
        assert list(document) == list(expected)  # the same keys, in the same order
        assert document == expected
        assert (sent.event_id, sent.type) == (str(event.event_id), event.type)


async def test_reads_resume_after_a_position_and_stop_at_the_limit(store: EventStore) -> None:
    await store.append([NewEvent(f"s-{i}", "Counted", {"i": i}, "acme") for i in range(7)])
    statement = outgoing_statement(store.schema)

    page = await _read(store, statement, after=2, limit=3)

    assert [o.position for o in page] == [3, 4, 5]
    assert await _read(store, statement, after=7, limit=3) == []
