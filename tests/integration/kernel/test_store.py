from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from kernel.appending import IdempotencyKey
from kernel.envelope import NewEvent, RecordedEvent, canonical_json
from kernel.errors import ConcurrencyConflict, IdempotencyKeyReused, InvalidEvent
from kernel.store import EventStore, request_fingerprint
from kernel.upcasting import Upcasters


def event(
    stream: str, n: int = 0, *, tenant: str = "acme", type_: str = "ThingHappened"
) -> NewEvent:
    return NewEvent(stream_id=stream, type=type_, payload={"n": n, "x": 0.1}, tenant_id=tenant)


async def test_append_assigns_versions_positions_and_a_verifiable_chain(store: EventStore) -> None:
    first = await store.append([event("a", 1), event("a", 2)], expected_versions={"a": 0})
    second = await store.append([event("b", 3), event("a", 4)])

    assert [e.stream_version for e in first + second] == [1, 2, 1, 3]
    assert [e.global_position for e in first + second] == [1, 2, 3, 4]
    assert first[1].prev_hash == first[0].hash
    read = await store.read_stream("a")
    assert [e.payload["n"] for e in read] == [1, 2, 4]
    assert read[0] == first[0]
    assert await store.verify_chain() == (await store.verify_chain())
    assert (await store.verify_chain()).ok


async def test_two_appends_at_the_same_expected_version_one_wins(store: EventStore) -> None:
    await store.append([event("order-1")], expected_versions={"order-1": 0})

    results = await asyncio.gather(
        store.append([event("order-1", 1)], expected_versions={"order-1": 1}),
        store.append([event("order-1", 2)], expected_versions={"order-1": 1}),
        return_exceptions=True,
    )

    conflicts = [r for r in results if isinstance(r, ConcurrencyConflict)]
    assert len(conflicts) == 1
    assert conflicts[0].stream_id == "order-1"
    assert (conflicts[0].expected_version, conflicts[0].actual_version) == (1, 2)
    assert "order-1" in str(conflicts[0])
    assert len(await store.read_stream("order-1")) == 2


async def test_a_conflicting_batch_writes_nothing_of_any_stream(store: EventStore) -> None:
    await store.append([event("x")])
    with pytest.raises(ConcurrencyConflict):
        await store.append([event("y"), event("x")], expected_versions={"y": 0, "x": 0})
    assert await store.read_stream("y") == []
    assert await store.head_position() == 1


async def test_reused_idempotency_key_returns_the_first_result_and_stores_nothing(
    store: EventStore,
) -> None:
    key = IdempotencyKey("req-42", request_fingerprint("record", 7))
    first = await store.append([event("s", 7), event("t", 7)], idempotency=key)
    again = await store.append([event("s", 7), event("t", 7)], idempotency=key)

    assert again == first
    assert await store.head_position() == 2
    other_tenant = await store.append([event("s", 7, tenant="globex")], idempotency=key)
    assert other_tenant[0].tenant_id == "globex"


async def test_idempotency_key_with_a_different_request_is_refused(store: EventStore) -> None:
    await store.append([event("s")], idempotency=IdempotencyKey("k", request_fingerprint(1)))
    with pytest.raises(IdempotencyKeyReused, match="'k'"):
        await store.append([event("s")], idempotency=IdempotencyKey("k", request_fingerprint(2)))


async def test_a_keys_earlier_append_is_found_before_appending_again(store: EventStore) -> None:
    key = IdempotencyKey("report-1", request_fingerprint("report", 1))
    assert await store.replay_of("acme", key) is None
    first = await store.append([event("s"), event("t")], idempotency=key)

    assert await store.replay_of("acme", key) == first
    assert await store.replay_of("globex", key) is None  # keys are per tenant
    with pytest.raises(IdempotencyKeyReused, match="'report-1'"):
        await store.replay_of("acme", IdempotencyKey("report-1", request_fingerprint(2)))


async def test_concurrent_retries_with_one_key_store_once(store: EventStore) -> None:
    key = IdempotencyKey("same", request_fingerprint("same"))
    results = await asyncio.gather(*(store.append([event("r")], idempotency=key) for _ in range(6)))
    assert all(r == results[0] for r in results)
    assert await store.head_position() == 1


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE {s}.events SET actor = 'mallory'",
        "DELETE FROM {s}.events",
        "TRUNCATE {s}.events",
    ],
)
async def test_the_database_refuses_to_rewrite_the_log(store: EventStore, statement: str) -> None:
    await store.append([event("a")])
    with pytest.raises(DBAPIError, match="append-only"):
        async with store.engine.begin() as conn:
            await conn.execute(sa.text(statement.format(s=store.schema)))
    assert len(await store.read_stream("a")) == 1


async def test_verify_chain_names_the_first_altered_position(store: EventStore) -> None:
    for n in range(5):
        await store.append([event("a", n)])
    async with store.engine.begin() as conn:  # a superuser working behind the guard's back
        await conn.execute(sa.text(f"ALTER TABLE {store.schema}.events DISABLE TRIGGER USER"))
        await conn.execute(
            sa.text(
                f'UPDATE {store.schema}.events SET payload = \'{{"n": 99, "x": 0.1}}\' '
                "WHERE global_position = 3"
            )
        )
        await conn.execute(sa.text(f"ALTER TABLE {store.schema}.events ENABLE TRIGGER USER"))

    result = await store.verify_chain()

    assert not result.ok
    assert result.first_broken_position == 3
    assert result.checked == 2


async def test_reads_by_position_type_and_tenant(store: EventStore) -> None:
    await store.append([event("a", 1), event("b", 2, tenant="globex", type_="Other")])
    await store.append([event("c", 3)])

    assert [e.global_position for e in await store.read_all(after=1, limit=1)] == [2]
    assert [e.stream_id for e in await store.read_all(types=["Other"])] == ["b"]
    assert [e.stream_id for e in await store.read_all(tenant_id="acme")] == ["a", "c"]
    assert await store.read_stream("b", tenant_id="acme") == []
    assert [e.payload["n"] for e in await store.read_stream("a", from_version=2)] == []


async def test_each_event_keeps_its_own_fields_in_a_batch_shared_or_not(
    store: EventStore,
) -> None:
    # The append sends a column the whole batch shares as one value: both cases must store
    # every event's own fields, whichever way the append runs.
    cause, correlation = uuid.uuid4(), uuid.uuid4()
    january, february = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)
    varied = [
        NewEvent("a", "T1", {"n": 1}, "acme", 1, january, "ann"),
        NewEvent("b", "T2", {"n": 2}, "globex", 2, february, "bob", cause, correlation),
        NewEvent("a", "T1", {"n": 3}, "acme", 1, january, "ann", correlation_id=correlation),
    ]
    shared = [NewEvent("c", "T3", {"n": n}, "acme", 3, january, "cy", cause) for n in range(3)]

    recorded = await store.append(varied, expected_versions={"a": 0, "b": 0})
    async with store.engine.begin() as conn:
        recorded += await store.append(shared, expected_versions={"c": 0}, conn=conn)

    read = await store.read_all()
    assert read == recorded
    assert [_own_fields(e) for e in read] == [_own_fields(e) for e in varied + shared]
    assert [e.stream_version for e in read] == [1, 1, 2, 1, 2, 3]
    assert (await store.verify_chain()).ok


def _own_fields(event: NewEvent | RecordedEvent) -> tuple[object, ...]:
    return (
        *(event.event_id, event.stream_id, event.type, event.payload, event.tenant_id),
        *(event.schema_version, event.occurred_at, event.actor),
        *(event.causation_id, event.correlation_id),
    )


async def test_upcasters_apply_on_read_but_not_to_the_hash(
    store: EventStore, upcasters: Upcasters
) -> None:
    await store.append([event("a", 5)])

    @upcasters.register("ThingHappened", 1)
    def v1_to_v2(payload: dict[str, object]) -> dict[str, object]:
        return {**payload, "unit": "kWh"}

    [read] = await store.read_stream("a")
    assert (read.schema_version, read.payload["unit"]) == (2, "kWh")
    assert (await store.verify_chain()).ok


async def test_bad_events_are_refused_with_a_reason(store: EventStore) -> None:
    with pytest.raises(InvalidEvent, match="NaN"):
        await store.append([NewEvent("a", "T", {"v": float("nan")}, tenant_id="acme")])
    with pytest.raises(InvalidEvent, match="tenant_id"):
        await store.append([NewEvent("a", "T", {}, tenant_id="")])
    circular: dict[str, object] = {}
    circular["self"] = circular
    with pytest.raises(InvalidEvent, match="not canonical JSON"):
        await store.append([NewEvent("a", "T", circular, tenant_id="acme")])
    assert await store.head_position() == 0


async def test_interleaved_streams_with_stated_versions_are_numbered_per_stream(
    store: EventStore,
) -> None:
    await store.append([event("a", 1)])
    batch = [event("a", 2), event("b", 3), event("a", 4), event("b", 5)]

    recorded = await store.append(batch, expected_versions={"a": 1, "b": 0})

    assert [(e.stream_id, e.stream_version) for e in recorded] == [
        ("a", 2),
        ("b", 1),
        ("a", 3),
        ("b", 2),
    ]
    assert [e.stream_version for e in await store.read_stream("a")] == [1, 2, 3]
    assert (await store.verify_chain()).ok


async def test_the_log_keeps_the_exact_canonical_bytes_its_hash_covers(store: EventStore) -> None:
    payload = {"z": -0.0, "a": "Zürich", "m": [1e-7, 12345678901234567890, None]}
    await store.append([NewEvent("a", "T", payload, tenant_id="acme")])

    async with store.engine.connect() as conn:
        stored = await conn.scalar(
            sa.text(f'SELECT payload::text FROM "{store.schema}".events WHERE global_position = 1')
        )

    assert stored.encode() == canonical_json(payload)
    [read] = await store.read_all()
    assert read.payload == payload
    assert (await store.verify_chain()).ok
