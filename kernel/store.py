"""The event store: an append-only, hash-chained log per service on PostgreSQL.

Sequence gaps: a reader that follows global positions must never see N+1 before N commits.
We serialise appends: an append first locks the single `log_head` row (SELECT ... FOR
UPDATE), reads the last position and hash from it, writes its events at the next positions
and moves the head. The lock is transaction-scoped, so the next appender reads the head only
after the previous one committed: positions are handed out in commit order and a reader can
never see a gap that fills later. (The `eventsourcing` library locks the table for the same
reason; reading below the oldest open transaction id instead does not suit a hash chain,
which needs the previous hash before it can write the next one anyway.)

The whole append runs inside PostgreSQL as one call of `append_events` (kernel/ddl.py): the
caller sends each event with its content hash, the function takes the lock, checks expected
versions and idempotency, chains the hashes and inserts. One statement means one round trip
and a lock held for microseconds, not for the latency of several round trips.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import asyncpg
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from kernel.envelope import (
    NewEvent,
    RecordedEvent,
    canonical_json,
    chain_hash,
    content_hash,
)
from kernel.errors import ConcurrencyConflict, IdempotencyKeyReused, InvalidEvent
from kernel.metrics import APPENDED
from kernel.schema import LogTables, log_tables
from kernel.upcasting import Upcasters


@dataclass(frozen=True, slots=True)
class IdempotencyKey:
    """A caller's key for one request; `fingerprint` (a hash of the request) catches key reuse."""

    key: str
    fingerprint: bytes = b""


@dataclass(frozen=True, slots=True)
class ChainVerification:
    """Outcome of `verify_chain`: ok, or the first position whose link is broken."""

    ok: bool
    checked: int
    first_broken_position: int | None = None
    reason: str | None = None


class EventStore:
    """One service's event log. Share one instance per process."""

    def __init__(
        self, engine: AsyncEngine, schema: str, upcasters: Upcasters | None = None
    ) -> None:
        self.engine = engine
        self.schema = schema
        self.tables: LogTables = log_tables(schema)
        self.upcasters = upcasters or Upcasters()
        self._append_sql = _append_statement(schema)
        self._append_sql_positional = _append_statement_positional(schema)

    async def append(
        self,
        events: Sequence[NewEvent],
        *,
        expected_versions: Mapping[str, int] | None = None,
        idempotency: IdempotencyKey | None = None,
        conn: AsyncConnection | None = None,
    ) -> list[RecordedEvent]:
        """Append events of one or many streams atomically.

        `expected_versions[stream]` is the version the caller last saw (0: new stream); a
        stream another writer moved on raises ConcurrencyConflict. With `idempotency`, a
        retry returns the first append's events and writes nothing. Pass `conn` to append
        inside the caller's transaction (projection writes and events commit together).
        """
        expected = expected_versions or {}
        _check_batch(events, idempotency)
        params = _append_params(events, expected, idempotency)
        row = await (self._call_alone(params) if conn is None else self._call(conn, params))
        positions, versions, recorded_at, prev_hash, hashes, replayed = row
        if replayed:  # an idempotent retry, answered with the first append's events
            return await self._at_positions(list(positions), conn)
        APPENDED.labels(self.schema).inc(len(events))
        recorded = []
        for event, position, version, link in zip(events, positions, versions, hashes, strict=True):
            recorded.append(_recorded(event, position, version, recorded_at, prev_hash, link))
            prev_hash = link
        return recorded

    async def _call(self, conn: AsyncConnection, params: dict[str, object]) -> _Appended:
        try:
            return tuple((await conn.execute(self._append_sql, params)).one())
        except DBAPIError as error:
            raise _translated(error.orig, error) from error

    async def _call_alone(self, params: dict[str, object]) -> _Appended:
        # The append is one statement, atomic on its own: run it in autocommit (saving the
        # BEGIN and COMMIT round trips, a third of an append's latency at batch size 1),
        # straight on a pooled asyncpg connection (its statement cache). An AsyncConnection
        # around it, with its isolation-level switch and per-statement work, cost more client
        # time than the statement itself at batch size 1.
        pooled = await self.engine.raw_connection()
        driver: Any = pooled.driver_connection
        args = [params[name] for name in _APPEND_ARGS]
        try:
            return tuple(await driver.fetchrow(self._append_sql_positional, *args))
        except (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, OSError):
            pooled.invalidate()  # a broken connection never goes back to the pool
            raise
        except asyncpg.PostgresError as error:
            raise _translated(error, error) from error
        finally:
            pooled.close()

    async def _at_positions(
        self, positions: list[int], conn: AsyncConnection | None
    ) -> list[RecordedEvent]:
        ev = self.tables.events
        query = self._select().where(ev.c.global_position.in_(positions))
        query = query.order_by(ev.c.global_position)
        if conn is None:
            return await self._fetch(query)
        return [self._to_event(r) for r in await conn.execute(query)]

    # ---- reads -------------------------------------------------------------------------

    async def read_stream(
        self, stream_id: str, *, from_version: int = 1, tenant_id: str | None = None
    ) -> list[RecordedEvent]:
        """Events of one stream from `from_version` on, in version order."""
        ev = self.tables.events
        query = self._select().where(
            ev.c.stream_id == stream_id, ev.c.stream_version >= from_version
        )
        if tenant_id is not None:
            query = query.where(ev.c.tenant_id == tenant_id)
        return await self._fetch(query.order_by(ev.c.stream_version))

    async def read_all(
        self,
        *,
        after: int = 0,
        limit: int = 1000,
        types: Iterable[str] | None = None,
        tenant_id: str | None = None,
        upcast: bool = True,
    ) -> list[RecordedEvent]:
        """Up to `limit` events with a global position above `after`, in position order."""
        ev = self.tables.events
        query = self._select().where(ev.c.global_position > after)
        if types is not None:
            query = query.where(ev.c.type.in_(list(types)))
        if tenant_id is not None:
            query = query.where(ev.c.tenant_id == tenant_id)
        return await self._fetch(query.order_by(ev.c.global_position).limit(limit), upcast=upcast)

    async def iterate(
        self, *, after: int = 0, batch: int = 1000, upcast: bool = True
    ) -> AsyncIterator[RecordedEvent]:
        """Every event above `after`, in position order, fetched `batch` at a time."""
        while True:
            query = self._select().where(self.tables.events.c.global_position > after)
            query = query.order_by(self.tables.events.c.global_position).limit(batch)
            page = await self._fetch(query, upcast=upcast)
            for event in page:
                yield event
            if len(page) < batch:
                return
            after = page[-1].global_position

    async def head_position(self) -> int:
        """The position of the last committed event (0 for an empty log)."""
        async with self.engine.connect() as conn:
            head = self.tables.head
            return int((await conn.execute(sa.select(head.c.position))).scalar_one())

    async def verify_chain(self, *, batch: int = 5000) -> ChainVerification:
        """Recompute the hash chain end to end; report the first link that does not hold."""
        prev_hash, expected_position, checked = bytes(32), 1, 0
        async for event in self.iterate(batch=batch, upcast=False):
            problem = _link_problem(event, prev_hash, expected_position)
            if problem is not None:
                return ChainVerification(False, checked, event.global_position, problem)
            prev_hash, expected_position, checked = event.hash, expected_position + 1, checked + 1
        return ChainVerification(True, checked)

    def _select(self) -> sa.Select[tuple[object, ...]]:
        return sa.select(*self.tables.events.c)

    async def _fetch(
        self, query: sa.Select[tuple[object, ...]], *, upcast: bool = True
    ) -> list[RecordedEvent]:
        async with self.engine.connect() as conn:
            return [self._to_event(row, upcast=upcast) for row in await conn.execute(query)]

    def _to_event(self, row: sa.Row[tuple[object, ...]], *, upcast: bool = True) -> RecordedEvent:
        m = row._mapping
        version, payload = int(m["schema_version"]), m["payload"]
        if upcast:
            version, payload = self.upcasters.upcast(str(m["type"]), version, payload)
        fields = {c: m[c] for c in _COLUMNS}
        return RecordedEvent(
            **fields,
            schema_version=version,
            payload=payload,
            prev_hash=bytes(m["prev_hash"]),
            hash=bytes(m["hash"]),
        )


_COLUMNS = (
    "event_id",
    "stream_id",
    "stream_version",
    "type",
    "tenant_id",
    "occurred_at",
    "recorded_at",
    "global_position",
    "causation_id",
    "correlation_id",
    "actor",
)


_APPEND_ARGS = (
    "event_ids",
    "stream_ids",
    "types",
    "schema_versions",
    "tenant_ids",
    "occurred_at",
    "causation_ids",
    "correlation_ids",
    "actors",
    "payloads",
    "contents",
    "expected_streams",
    "expected_versions",
    "idem_key",
    "idem_fingerprint",
    "versions",
)


def _append_statement(schema: str) -> sa.TextClause:
    args = ", ".join(f":{name}" for name in _APPEND_ARGS)
    return sa.text(f'SELECT * FROM "{schema}".append_events({args})')


def _append_statement_positional(schema: str) -> str:
    args = ", ".join(f"${i}" for i in range(1, len(_APPEND_ARGS) + 1))
    return f'SELECT * FROM "{schema}".append_events({args})'


_Value = TypeVar("_Value")

# out_positions, out_versions, out_recorded_at, out_first_prev_hash, out_hashes, out_replayed
_Appended = tuple[Any, ...]


def _append_params(
    events: Sequence[NewEvent],
    expected: Mapping[str, int],
    idempotency: IdempotencyKey | None,
) -> dict[str, object]:
    texts = [_payload_json(e) for e in events]
    return {
        "event_ids": [e.event_id for e in events],
        "stream_ids": _batch_column([e.stream_id for e in events]),
        "types": _batch_column([e.type for e in events]),
        "schema_versions": _batch_column([e.schema_version for e in events]),
        "tenant_ids": _batch_column([e.tenant_id for e in events]),
        "occurred_at": _batch_column([e.occurred_at for e in events]),
        "causation_ids": _batch_column([e.causation_id for e in events]),
        "correlation_ids": _batch_column([e.correlation_id for e in events]),
        "actors": _batch_column([e.actor for e in events]),
        "payloads": (b"[" + b",".join(texts) + b"]").decode(),
        "contents": b"".join([content_hash(e, t) for e, t in zip(events, texts, strict=True)]),
        "expected_streams": list(expected),
        "expected_versions": list(expected.values()),
        "idem_key": idempotency.key if idempotency else None,
        "idem_fingerprint": idempotency.fingerprint if idempotency else None,
        "versions": _stated_versions(events, expected),
    }


def _batch_column(values: list[_Value]) -> list[_Value]:
    """The column as the append function takes it: one element when all events share it.

    The driver checks and encodes each array element on its own (nearly a third of a
    100-event append's client time, before); a stream, type, tenant or actor is most often
    the same for the whole batch.
    """
    return values[:1] if values.count(values[0]) == len(values) else values


def _stated_versions(events: Sequence[NewEvent], expected: Mapping[str, int]) -> list[int] | None:
    """Each event's stream version, when the caller stated every stream's current version.

    The append function checks the stated versions before it uses these; None lets it look
    the versions up itself.
    """
    last = dict(expected)
    versions = []
    for event in events:
        version = last.get(event.stream_id)
        if version is None:
            return None
        last[event.stream_id] = version + 1
        versions.append(version + 1)
    return versions


def _translated(cause: object, error: Exception) -> Exception:
    """The kernel's error for the append function's own SQLSTATEs; `error` otherwise."""
    state = getattr(cause, "sqlstate", None)
    message = str(getattr(cause, "__cause__", None) or cause)
    if isinstance(cause, asyncpg.PostgresError):
        message = cause.args[0] if cause.args else message
    if state == "EMCON":
        stream_id, expected, actual = json.loads(message)
        return ConcurrencyConflict(stream_id, expected, actual)
    if state == "EMIDK":
        return IdempotencyKeyReused(message)
    return error


def _payload_json(event: NewEvent) -> bytes:
    try:
        return canonical_json(event.payload)
    except (ValueError, TypeError, RecursionError) as error:  # NaN, not JSON, or circular
        raise InvalidEvent(
            f"event {event.type} on stream {event.stream_id!r}: payload is not canonical JSON "
            f"(no NaN or infinite numbers, string keys only): {error}"
        ) from error


def _recorded(
    event: NewEvent,
    position: int,
    version: int,
    recorded_at: datetime,
    prev_hash: bytes,
    link: bytes,
) -> RecordedEvent:
    # Positional, in the order of RecordedEvent's fields: keywords cost a third more, for
    # every event of every append.
    return RecordedEvent(
        event.event_id,
        event.stream_id,
        version,
        event.type,
        event.schema_version,
        event.tenant_id,
        event.occurred_at,
        recorded_at,
        position,
        event.causation_id,
        event.correlation_id,
        event.actor,
        event.payload,
        prev_hash,
        link,
    )


def request_fingerprint(*parts: object) -> bytes:
    """SHA-256 of the canonical JSON of `parts`: what an idempotency key is checked against."""
    return hashlib.sha256(canonical_json(list(parts))).digest()


def _check_batch(events: Sequence[NewEvent], idempotency: IdempotencyKey | None) -> None:
    if not events:
        raise InvalidEvent("an append needs at least one event")
    if idempotency is not None and len({e.tenant_id for e in events}) > 1:
        raise InvalidEvent("an idempotent append must hold events of one tenant only")
    for event in events:
        if not event.tenant_id:
            raise InvalidEvent(f"event {event.type} on stream {event.stream_id!r} has no tenant_id")


def _link_problem(event: RecordedEvent, prev_hash: bytes, position: int) -> str | None:
    if event.global_position != position:
        return f"position {position} is missing (next found: {event.global_position})"
    if event.prev_hash != prev_hash:
        return "prev_hash does not match the hash of the previous event"
    payload_json = canonical_json(event.payload)
    link = chain_hash(
        prev_hash,
        content_hash(event, payload_json),
        event.global_position,
        event.stream_version,
        event.recorded_at,
    )
    if link != event.hash:
        return "hash does not match the event's content"
    return None
