"""The current-emissions table: compute's own events projected, one row per source.

Every projection goes through `project`: a batch of events is one statement, each column one
array parameter unnested by PostgreSQL (not executemany: the driver ran the upsert once per
row, and SQLAlchemy processed every row's parameters), a source's last event winning.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts import compute as c
from kernel import wire
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
        arrays = {name: [row[name] for row in rows.values()] for name in COLUMNS}
        arrays["emission"] = [_jsonb_text(e) for e in arrays["emission"]]
        await conn.execute(upsert_statement(table), arrays)


def _jsonb_text(emission: object) -> str | None:
    # orjson rather than the engine's json.dumps text (a tenth of a batch's client time):
    # jsonb keeps the value, not the text, so both store the same document. Its one
    # difference, NaN written as null, cannot arise: the append, earlier in the same
    # transaction, refused any payload holding NaN.
    return None if emission is None else wire.encode(emission).decode()


@lru_cache(maxsize=16)
def upsert_statement(table: sa.Table) -> sa.Insert:
    """INSERT ... SELECT FROM unnest(one array per column) ON CONFLICT: built once per table."""
    # typed arrays: the driver casts each parameter ($1::UUID[]), as unnest needs
    arrays = [sa.bindparam(name, type_=ARRAY(_element(table, name))) for name in COLUMNS]
    rows = sa.func.unnest(*arrays).table_valued(*COLUMNS).render_derived()
    values = [sa.cast(rows.c.emission, JSONB) if name == "emission" else rows.c[name]
              for name in COLUMNS]  # fmt: skip
    stmt = insert(table).from_select(list(COLUMNS), sa.select(*values))
    set_ = {name: stmt.excluded[name] for name in COLUMNS if name != "source_id"}
    return stmt.on_conflict_do_update(index_elements=[table.c.source_id], set_=set_)


def _element(table: sa.Table, name: str) -> sa.types.TypeEngine[Any]:
    # the emission travels as text (see _jsonb_text) and becomes jsonb in the statement
    return sa.Text() if name == "emission" else table.c[name].type


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
