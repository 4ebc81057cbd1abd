"""An append as PostgreSQL's `append_events` takes it (kernel/ddl.py, ddl_batch.py): the
statement, the parameters built from the events, the errors it raises translated, and the
recorded events made from its answer. The event store (store.py) puts these together.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import asyncpg
import sqlalchemy as sa

from kernel.envelope import NewEvent, RecordedEvent, canonical_json, content_hash
from kernel.errors import ConcurrencyConflict, IdempotencyKeyReused, InvalidEvent


@dataclass(frozen=True, slots=True)
class IdempotencyKey:
    """A caller's key for one request; `fingerprint` (a hash of the request) catches key reuse."""

    key: str
    fingerprint: bytes = b""


APPEND_ARGS = (
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


def append_statement(schema: str) -> sa.TextClause:
    args = ", ".join(f":{name}" for name in APPEND_ARGS)
    return sa.text(f'SELECT * FROM "{schema}".append_events({args})')


def append_statement_positional(schema: str) -> str:
    args = ", ".join(f"${i}" for i in range(1, len(APPEND_ARGS) + 1))
    return f'SELECT * FROM "{schema}".append_events({args})'


_Value = TypeVar("_Value")

# out_positions, out_versions, out_recorded_at, out_first_prev_hash, out_hashes, out_replayed
Appended = tuple[Any, ...]


def append_params(
    events: Sequence[NewEvent],
    expected: Mapping[str, int],
    idempotency: IdempotencyKey | None,
) -> dict[str, object]:
    texts = [payload_json(e) for e in events]
    return {
        "event_ids": [e.event_id for e in events],
        "stream_ids": batch_column([e.stream_id for e in events]),
        "types": batch_column([e.type for e in events]),
        "schema_versions": batch_column([e.schema_version for e in events]),
        "tenant_ids": batch_column([e.tenant_id for e in events]),
        "occurred_at": batch_column([e.occurred_at for e in events]),
        "causation_ids": batch_column([e.causation_id for e in events]),
        "correlation_ids": batch_column([e.correlation_id for e in events]),
        "actors": batch_column([e.actor for e in events]),
        "payloads": (b"[" + b",".join(texts) + b"]").decode(),
        "contents": b"".join([content_hash(e, t) for e, t in zip(events, texts, strict=True)]),
        "expected_streams": list(expected),
        "expected_versions": list(expected.values()),
        "idem_key": idempotency.key if idempotency else None,
        "idem_fingerprint": idempotency.fingerprint if idempotency else None,
        "versions": stated_versions(events, expected),
    }


def batch_column(values: list[_Value]) -> list[_Value]:
    """The column as the append function takes it: one element when all events share it.

    The driver checks and encodes each array element on its own (nearly a third of a
    100-event append's client time, before); a stream, type, tenant or actor is most often
    the same for the whole batch.
    """
    return values[:1] if values.count(values[0]) == len(values) else values


def stated_versions(events: Sequence[NewEvent], expected: Mapping[str, int]) -> list[int] | None:
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


def translated(cause: object, error: Exception) -> Exception:
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


def payload_json(event: NewEvent) -> bytes:
    try:
        return canonical_json(event.payload)
    except (ValueError, TypeError, RecursionError) as error:  # NaN, not JSON, or circular
        raise InvalidEvent(
            f"event {event.type} on stream {event.stream_id!r}: payload is not canonical JSON "
            f"(no NaN or infinite numbers, string keys only): {error}"
        ) from error


def recorded_event(
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


def check_batch(events: Sequence[NewEvent], idempotency: IdempotencyKey | None) -> None:
    if not events:
        raise InvalidEvent("an append needs at least one event")
    if idempotency is not None and len({e.tenant_id for e in events}) > 1:
        raise InvalidEvent("an idempotent append must hold events of one tenant only")
    for event in events:
        if not event.tenant_id:
            raise InvalidEvent(f"event {event.type} on stream {event.stream_id!r} has no tenant_id")
