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
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from kernel.appending import (
    APPEND_ARGS,
    Appended,
    IdempotencyKey,
    append_params,
    append_statement,
    append_statement_positional,
    check_batch,
    recorded_event,
    translated,
)
from kernel.db import driver_connection
from kernel.envelope import (
    NewEvent,
    RecordedEvent,
    canonical_json,
    chain_hash,
    content_hash,
)
from kernel.errors import IdempotencyKeyReused
from kernel.metrics import APPENDED
from kernel.schema import LogTables, log_tables
from kernel.upcasting import Upcasters


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
        self._append_sql = append_statement(schema)
        self._append_sql_positional = append_statement_positional(schema)

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
        check_batch(events, idempotency)
        params = append_params(events, expected, idempotency)
        row = await (self._call_alone(params) if conn is None else self._call(conn, params))
        positions, versions, recorded_at, prev_hash, hashes, replayed = row
        if replayed:  # an idempotent retry, answered with the first append's events
            return await self._at_positions(list(positions), conn)
        APPENDED.labels(self.schema).inc(len(events))
        recorded = []
        for event, position, version, link in zip(events, positions, versions, hashes, strict=True):
            recorded.append(recorded_event(event, position, version, recorded_at, prev_hash, link))
            prev_hash = link
        return recorded

    async def replay_of(
        self, tenant_id: str, idempotency: IdempotencyKey
    ) -> list[RecordedEvent] | None:
        """The events an earlier append with this key recorded (what a retry of it would
        answer), or None if the key is new. A key recorded with another request raises
        IdempotencyKeyReused, as the append would. For a request that costs a lot before
        its append (a report's files): a retry is answered without doing that again."""
        keys = self.tables.idempotency
        query = sa.select(keys.c.request_hash, keys.c.positions).where(
            keys.c.tenant_id == tenant_id, keys.c.key == idempotency.key
        )
        async with self.engine.connect() as conn:
            earlier = (await conn.execute(query)).one_or_none()
            if earlier is None:
                return None
            if idempotency.fingerprint and earlier.request_hash != idempotency.fingerprint:
                raise IdempotencyKeyReused(idempotency.key)
            return await self._at_positions(list(earlier.positions), conn)

    async def _call(self, conn: AsyncConnection, params: dict[str, object]) -> Appended:
        try:
            return tuple((await conn.execute(self._append_sql, params)).one())
        except DBAPIError as error:
            raise translated(error.orig, error) from error

    async def _call_alone(self, params: dict[str, object]) -> Appended:
        # The append is one statement, atomic on its own: run it in autocommit (saving the
        # BEGIN and COMMIT round trips, a third of an append's latency at batch size 1),
        # straight on a pooled asyncpg connection (its statement cache). An AsyncConnection
        # around it, with its isolation-level switch and per-statement work, cost more client
        # time than the statement itself at batch size 1.
        args = [params[name] for name in APPEND_ARGS]
        async with driver_connection(self.engine) as driver:
            try:
                return tuple(await driver.fetchrow(self._append_sql_positional, *args))
            except asyncpg.PostgresError as error:
                raise translated(error, error) from error

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

    def _to_event(
        self, row: sa.Row[tuple[object, ...]], *, upcast: bool = True, payload: Any = None
    ) -> RecordedEvent:
        m = row._mapping
        version, payload = int(m["schema_version"]), m["payload"] if payload is None else payload
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


def request_fingerprint(*parts: object) -> bytes:
    """SHA-256 of the canonical JSON of `parts`: what an idempotency key is checked against."""
    return hashlib.sha256(canonical_json(list(parts))).digest()


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
