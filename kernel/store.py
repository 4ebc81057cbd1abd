"""The event store: an append-only, hash-chained log per service on PostgreSQL.

Sequence gaps: a reader that follows global positions must never see N+1 before N commits.
We serialise appends: every append transaction first locks the single `log_head` row
(SELECT ... FOR UPDATE), reads the last position and hash from it, writes its events at the
next positions and moves the head. The lock is transaction-scoped, so the next appender reads
the head only after the previous one committed: positions are handed out in commit order and a
reader can never see a gap that fills later. It is the choice the `eventsourcing` library makes
(a table lock there); the alternative, reading below the oldest open transaction id, does not
suit a hash chain, which needs the previous hash before it can write the next one anyway.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from kernel.envelope import JsonObject, NewEvent, RecordedEvent, canonical_json, chain_hash
from kernel.errors import ConcurrencyConflict, IdempotencyKeyReused, InvalidEvent
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
        self._insert_sql = _insert_statement(schema)

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
        if conn is not None:
            return await self._append_in(conn, events, expected_versions or {}, idempotency)
        async with self.engine.begin() as own:
            return await self._append_in(own, events, expected_versions or {}, idempotency)

    async def _append_in(
        self,
        conn: AsyncConnection,
        events: Sequence[NewEvent],
        expected: Mapping[str, int],
        idempotency: IdempotencyKey | None,
    ) -> list[RecordedEvent]:
        _check_batch(events, idempotency)
        last_position, last_hash = await self._lock_head(conn)
        if idempotency is not None:
            earlier = await self._earlier_result(conn, events[0].tenant_id, idempotency)
            if earlier is not None:
                return earlier
        versions = await self._stream_versions(conn, {e.stream_id for e in events})
        _check_expected(expected, versions)
        recorded = _sequence(events, versions, last_position, last_hash)
        await self._write(conn, recorded, idempotency)
        return recorded

    async def _lock_head(self, conn: AsyncConnection) -> tuple[int, bytes]:
        head = self.tables.head
        row = (
            await conn.execute(
                sa.select(head.c.position, head.c.hash).where(head.c.id == 1).with_for_update()
            )
        ).one()
        return int(row.position), bytes(row.hash)

    async def _earlier_result(
        self, conn: AsyncConnection, tenant_id: str, idempotency: IdempotencyKey
    ) -> list[RecordedEvent] | None:
        t = self.tables.idempotency
        row = (
            await conn.execute(
                sa.select(t.c.request_hash, t.c.positions).where(
                    t.c.tenant_id == tenant_id, t.c.key == idempotency.key
                )
            )
        ).one_or_none()
        if row is None:
            return None
        if idempotency.fingerprint and bytes(row.request_hash) != idempotency.fingerprint:
            raise IdempotencyKeyReused(idempotency.key)
        result = await conn.execute(
            self._select().where(self.tables.events.c.global_position.in_(row.positions))
        )
        return [self._to_event(r) for r in result]

    async def _stream_versions(self, conn: AsyncConnection, streams: set[str]) -> dict[str, int]:
        ev = self.tables.events
        query = (
            sa.select(ev.c.stream_id, sa.func.max(ev.c.stream_version))
            .where(ev.c.stream_id.in_(streams))
            .group_by(ev.c.stream_id)
        )
        found = {row[0]: int(row[1]) for row in await conn.execute(query)}
        return {stream: found.get(stream, 0) for stream in streams}

    async def _write(
        self,
        conn: AsyncConnection,
        recorded: list[RecordedEvent],
        idempotency: IdempotencyKey | None,
    ) -> None:
        # One statement, one round trip: the events go in as column arrays and the head moves.
        last = recorded[-1]
        columns = {name: [getattr(e, name) for e in recorded] for name in _INSERTED}
        columns["payload"] = [canonical_json(e.payload).decode() for e in recorded]
        await conn.execute(
            self._insert_sql, {**columns, "last": last.global_position, "last_hash": last.hash}
        )
        if idempotency is not None:
            await conn.execute(
                self.tables.idempotency.insert().values(
                    tenant_id=last.tenant_id,
                    key=idempotency.key,
                    request_hash=idempotency.fingerprint,
                    positions=[e.global_position for e in recorded],
                    recorded_at=last.recorded_at,
                )
            )

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
    "event_id", "stream_id", "stream_version", "type", "tenant_id", "occurred_at",
    "recorded_at", "global_position", "causation_id", "correlation_id", "actor",
)  # fmt: skip


_INSERTED = {
    "global_position": "bigint", "event_id": "uuid", "stream_id": "text",
    "stream_version": "integer", "type": "text", "schema_version": "integer",
    "tenant_id": "text", "occurred_at": "timestamptz", "recorded_at": "timestamptz",
    "causation_id": "uuid", "correlation_id": "uuid", "actor": "text", "payload": "text",
    "prev_hash": "bytea", "hash": "bytea",
}  # fmt: skip


def _insert_statement(schema: str) -> sa.TextClause:
    names = ", ".join(_INSERTED)
    arrays = ", ".join(f"CAST(:{n} AS {t}[])" for n, t in _INSERTED.items())
    selected = names.replace("payload", "payload::jsonb")
    return sa.text(
        f'WITH appended AS (INSERT INTO "{schema}".events ({names}) '
        f"SELECT {selected} FROM unnest({arrays}) AS t({names})) "
        f'UPDATE "{schema}".log_head SET position = :last, hash = :last_hash WHERE id = 1'
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


def _check_expected(expected: Mapping[str, int], actual: Mapping[str, int]) -> None:
    for stream_id, version in expected.items():
        current = actual.get(stream_id, 0)
        if current != version:
            raise ConcurrencyConflict(stream_id, version, current)


def _sequence(
    events: Sequence[NewEvent], versions: dict[str, int], position: int, prev_hash: bytes
) -> list[RecordedEvent]:
    recorded_at = datetime.now(UTC)
    out: list[RecordedEvent] = []
    for event in events:
        position += 1
        versions[event.stream_id] += 1
        draft = _draft(event, versions[event.stream_id], position, recorded_at, prev_hash)
        prev_hash = chain_hash(prev_hash, draft)
        out.append(_with_hash(draft, prev_hash))
    return out


def _draft(
    event: NewEvent, version: int, position: int, recorded_at: datetime, prev_hash: bytes
) -> RecordedEvent:
    return RecordedEvent(
        event_id=event.event_id,
        stream_id=event.stream_id,
        stream_version=version,
        type=event.type,
        schema_version=event.schema_version,
        tenant_id=event.tenant_id,
        occurred_at=event.occurred_at,
        recorded_at=recorded_at,
        global_position=position,
        causation_id=event.causation_id,
        correlation_id=event.correlation_id,
        actor=event.actor,
        payload=_stable_payload(event.payload),
        prev_hash=prev_hash,
        hash=b"",
    )


def _with_hash(draft: RecordedEvent, digest: bytes) -> RecordedEvent:
    fields = {name: getattr(draft, name) for name in RecordedEvent.__slots__}
    fields["hash"] = digest
    return RecordedEvent(**fields)


def _stable_payload(payload: JsonObject) -> JsonObject:
    return {str(k): _json_stable(v) for k, v in payload.items()}


def _json_stable(value: object) -> object:
    """The payload as it will read back from JSONB (which has no -0.0 and no NaN)."""
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise InvalidEvent("event payloads cannot hold NaN or infinite numbers")
        return 0.0 if value == 0 else value
    if isinstance(value, dict):
        return {str(k): _json_stable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_stable(v) for v in value]
    return value


def _row(event: RecordedEvent) -> dict[str, object]:
    return {name: getattr(event, name) for name in RecordedEvent.__slots__}


def _link_problem(event: RecordedEvent, prev_hash: bytes, position: int) -> str | None:
    if event.global_position != position:
        return f"position {position} is missing (next found: {event.global_position})"
    if event.prev_hash != prev_hash:
        return "prev_hash does not match the hash of the previous event"
    if chain_hash(prev_hash, event) != event.hash:
        return "hash does not match the event's content"
    return None
