"""The event envelope every service log stores, and the canonical form its hash is taken over."""

from __future__ import annotations

import hashlib
import json
from _json import make_encoder
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from uuid import UUID

from uuid_utils.compat import uuid7

GENESIS_HASH = bytes(32)
JsonObject = dict[str, Any]


def new_event_id() -> UUID:
    """A UUIDv7: time-ordered, so ids sort by creation within a process."""
    # uuid-utils keeps the clock's milliseconds and counts the ids within one (RFC 9562,
    # section 6.2). uuid6's uuid7 moved its clock a millisecond ahead for each extra id asked
    # within one: under load, ids ran seconds ahead of time, and a restart went back, so ids
    # no longer sorted across restarts. It also cost three times as much (a syscall per id).
    return uuid7()


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event about to be appended: everything but what the store assigns."""

    stream_id: str
    type: str
    payload: JsonObject
    tenant_id: str
    schema_version: int = 1
    occurred_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    actor: str = "system"
    causation_id: UUID | None = None
    correlation_id: UUID | None = None
    event_id: UUID = field(default_factory=new_event_id)


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """An event as the log holds it: valid time, transaction time, position and hash."""

    event_id: UUID
    stream_id: str
    stream_version: int
    type: str
    schema_version: int
    tenant_id: str
    occurred_at: datetime
    recorded_at: datetime
    global_position: int
    causation_id: UUID | None
    correlation_id: UUID | None
    actor: str
    payload: JsonObject
    prev_hash: bytes
    hash: bytes

    def to_json(self) -> JsonObject:
        """The envelope as JSON-ready data (hashes in hex), as published on NATS."""
        body = canonical_fields(self)
        body["prev_hash"] = self.prev_hash.hex()
        body["hash"] = self.hash.hex()
        return body

    @classmethod
    def from_json(cls, data: JsonObject) -> RecordedEvent:
        """Inverse of `to_json`."""
        return cls(
            event_id=UUID(data["event_id"]),
            stream_id=data["stream_id"],
            stream_version=int(data["stream_version"]),
            type=data["type"],
            schema_version=int(data["schema_version"]),
            tenant_id=data["tenant_id"],
            occurred_at=datetime.fromisoformat(data["occurred_at"]),
            recorded_at=datetime.fromisoformat(data["recorded_at"]),
            global_position=int(data["global_position"]),
            causation_id=_uuid_or_none(data.get("causation_id")),
            correlation_id=_uuid_or_none(data.get("correlation_id")),
            actor=data["actor"],
            payload=data["payload"],
            prev_hash=bytes.fromhex(data["prev_hash"]),
            hash=bytes.fromhex(data["hash"]),
        )


def _uuid_or_none(value: str | None) -> UUID | None:
    return UUID(value) if value else None


def _timestamp(value: datetime) -> str:
    # Fixed precision and UTC, so the text is the same whichever way the value travelled.
    if value.tzinfo is UTC and value.microsecond:  # the usual case, a third faster
        return value.isoformat()  # the same text: microseconds shown when not zero
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def canonical_fields(event: RecordedEvent) -> JsonObject:
    """The whole envelope as JSON-ready values (hashes excluded)."""
    return {
        **_content_header(event),
        "stream_version": event.stream_version,
        "recorded_at": _timestamp(event.recorded_at),
        "global_position": event.global_position,
        "payload": event.payload,
    }


def _content_header(event: NewEvent | RecordedEvent) -> JsonObject:
    return {
        "event_id": str(event.event_id),
        "stream_id": event.stream_id,
        "type": event.type,
        "schema_version": event.schema_version,
        "tenant_id": event.tenant_id,
        "occurred_at": _timestamp(event.occurred_at),
        "causation_id": str(event.causation_id) if event.causation_id else None,
        "correlation_id": str(event.correlation_id) if event.correlation_id else None,
        "actor": event.actor,
    }


_string = json.encoder.encode_basestring  # the C escaper of json.dumps(ensure_ascii=False)
# json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
# builds this C encoder anew on every call, a quarter of the time for an event's payload.
# Built once, it cannot keep the memo of the circular-reference check between calls: data
# that contains itself ends in RecursionError instead (the store refuses it all the same).
_refuse = json.JSONEncoder().default  # raises TypeError: not JSON
_canonical_chunks = make_encoder(None, _refuse, _string, None, ":", ",", True, False, False)


def canonical_json(data: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8, no NaN: the same bytes for the same data, always."""
    return "".join(_canonical_chunks(data, 0)).encode()


def content_hash(event: NewEvent | RecordedEvent, payload_json: bytes) -> bytes:
    """SHA-256 of what the writer decides: canonical header fields, newline, canonical payload."""
    return hashlib.sha256(_canonical_header(event) + b"\n" + payload_json).digest()


def _canonical_header(event: NewEvent | RecordedEvent) -> bytes:
    # canonical_json(_content_header(event)), written out by hand: it runs for every event
    # appended and verified, and this is four times faster (a unit test holds them equal).
    before, after = _header_frame(
        event.actor,
        event.causation_id,
        event.correlation_id,
        event.schema_version,
        event.stream_id,
        event.tenant_id,
        event.type,
    )
    occurred_at = _timestamp(event.occurred_at)
    return f'{before}{event.event_id}","occurred_at":"{occurred_at}{after}'.encode()


@lru_cache(maxsize=1024)
def _header_frame(
    actor: str,
    causation_id: UUID | None,
    correlation_id: UUID | None,
    schema_version: int,
    stream_id: str,
    tenant_id: str,
    type_: str,
) -> tuple[str, str]:
    """The header around its event id and time: most often the same for a whole batch."""
    # Keys in sorted order.
    before = (
        f'{{"actor":{_string(actor)},'
        f'"causation_id":{_optional_id(causation_id)},'
        f'"correlation_id":{_optional_id(correlation_id)},'
        f'"event_id":"'
    )
    after = (
        f'","schema_version":{int(schema_version)},'
        f'"stream_id":{_string(stream_id)},'
        f'"tenant_id":{_string(tenant_id)},'
        f'"type":{_string(type_)}}}'
    )
    return before, after


def _optional_id(value: UUID | None) -> str:
    return f'"{value}"' if value else "null"


def chain_hash(
    prev_hash: bytes, content: bytes, position: int, version: int, recorded_at: datetime
) -> bytes:
    """hash = SHA-256(prev_hash ‖ content hash ‖ position ‖ stream version ‖ recorded_at).

    The envelope's canonical form is its content hash followed by what the store assigns
    (position, version, transaction time in microseconds since the epoch), as big-endian
    integers: PostgreSQL computes the same bytes inside the append, so an append is one
    statement (see `kernel/ddl.py`), and `verify_chain` recomputes them from the row.
    """
    micros = _epoch_micros(recorded_at)
    tail = position.to_bytes(8, "big", signed=True) + version.to_bytes(4, "big", signed=True)
    return hashlib.sha256(
        prev_hash + content + tail + micros.to_bytes(8, "big", signed=True)
    ).digest()


def _epoch_micros(value: datetime) -> int:
    delta = value.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
