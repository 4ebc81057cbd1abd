"""The current-emissions table: compute's own events projected, one row per source.

Every projection goes through `project`: a batch of events is one statement, each column one
array parameter unnested by PostgreSQL (kernel/unnest.py; not executemany: the driver ran
the upsert once per row, and SQLAlchemy processed every row's parameters), a source's last
event winning.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts import compute as c
from kernel import unnest, wire
from kernel.envelope import RecordedEvent
from kernel.events import DomainEvent

COLUMNS = ("source_id", "tenant_id", "activity_kind", "status", "emission", "reason",
           "country", "version")  # fmt: skip


async def project(
    conn: AsyncConnection, table: sa.Table, recorded: Iterable[tuple[DomainEvent, RecordedEvent]]
) -> None:
    """Each event onto its source's row, in one upsert: a source's last event wins.

    Each event comes with the payload it was made from: no decoding back what was just built.
    """
    rows: dict[object, dict[str, object]] = {}
    for payload, event in recorded:
        row = emission_row(payload, event)
        rows[row["source_id"]] = row | {"tenant_id": event.tenant_id,
                                        "version": event.stream_version}  # fmt: skip
    if rows:
        statement = unnest.insert_statement(table, COLUMNS, update_on="source_id")
        await conn.execute(statement, unnest.arrays_of(table, list(rows.values()), COLUMNS,
                                                       encode=_jsonb_text))  # fmt: skip


def _jsonb_text(emission: object) -> str:
    # orjson rather than the engine's json.dumps text (a tenth of a batch's client time):
    # jsonb keeps the value, not the text, so both store the same document. Its one
    # difference, NaN written as null, cannot arise: the append, earlier in the same
    # transaction, refused any payload holding NaN.
    return wire.encode(emission).decode()


def emission_row(payload: object, event: RecordedEvent) -> dict[str, object]:
    """The current-emissions row of `event`, decoded as `payload`."""
    if isinstance(payload, c.EmissionCalculated | c.EmissionRestated):
        em = payload.emission
        return {
            "source_id": em.source.id,
            "activity_kind": em.activity_kind,
            "status": "calculated",
            "emission": event.payload["emission"],  # as dumped into the event: not again
            "reason": None,
            "country": em.country,
        }
    if isinstance(payload, c.EmissionUnresolved):
        return {
            "source_id": payload.source.id,
            "activity_kind": payload.activity_kind,
            "status": "unresolved",
            "emission": None,
            "reason": payload.reason,
            "country": payload.country,
        }
    assert isinstance(payload, c.EmissionWithdrawn)
    return {
        "source_id": payload.source.id,
        "status": "withdrawn",
        "emission": None,
        "reason": None,
        "activity_kind": "",
        "country": "",
    }
