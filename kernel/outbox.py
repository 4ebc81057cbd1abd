"""What the relay publishes, read from the log: each event as the JSON document consumers
receive (`RecordedEvent.to_json`, its payload as stored), written by PostgreSQL.

Reading rows (SQLAlchemy's per-row mapping), making a RecordedEvent of each and encoding it
again was over half of the relay's CPU per event. PostgreSQL writes the same document in the
query instead: the same keys in the same order, timestamps in UTC with microseconds as
`envelope._timestamp` writes them, ids and hashes as Python prints them. The spacing
differs, not the values; tests/integration/kernel/test_outbox.py holds the two equal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Outgoing:
    """An event as the relay sends it: what its checkpoint, header and subject need, and
    its body."""

    position: int
    event_id: str
    type: str
    body: bytes


def _timestamp(column: str) -> str:
    # asyncpg stores Python's datetime.min and max as -infinity and infinity, and reads them
    # back as such; to_char knows no text for them.
    return f"""coalesce(
        to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'),
        CASE WHEN {column} < 'epoch' THEN '{_MIN}' ELSE '{_MAX}' END)"""


_MIN, _MAX = "0001-01-01T00:00:00.000000+00:00", "9999-12-31T23:59:59.999999+00:00"


def outgoing_statement(schema: str) -> str:
    """Events after $1, at most $2, in position order, as (position, id, type, body)."""
    document = f"""json_build_object(
        'event_id', event_id, 'stream_id', stream_id, 'type', type,
        'schema_version', schema_version, 'tenant_id', tenant_id,
        'occurred_at', {_timestamp("occurred_at")}, 'causation_id', causation_id,
        'correlation_id', correlation_id, 'actor', actor, 'stream_version', stream_version,
        'recorded_at', {_timestamp("recorded_at")}, 'global_position', global_position,
        'payload', payload, 'prev_hash', encode(prev_hash, 'hex'), 'hash', encode(hash, 'hex'))"""
    return f"""SELECT global_position, event_id::text, type, {document}::text
        FROM "{schema}".events WHERE global_position > $1 ORDER BY global_position LIMIT $2"""


async def read_outgoing(driver: Any, statement: str, *, after: int, limit: int) -> list[Outgoing]:
    """Up to `limit` events after position `after`, read by `statement` (outgoing_statement)
    on `driver`, an asyncpg connection (db.driver_connection)."""
    rows = await driver.fetch(statement, after, limit)
    return [Outgoing(row[0], row[1], row[2], row[3].encode()) for row in rows]
