"""Rows inserted as one array per column give the rows executemany would have inserted."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncEngine

from kernel import unnest


def _table(schema: str) -> sa.Table:
    return sa.Table(
        "things",
        sa.MetaData(schema=schema),
        sa.Column("position", sa.BigInteger, primary_key=True),
        sa.Column("id", UUID(as_uuid=True), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("day", sa.Date),
        sa.Column("value", sa.Float),
        sa.Column("note", sa.Text),
        sa.Column("doc", JSONB),
    )


ROWS: list[dict[str, Any]] = [
    {"position": 1, "id": uuid.uuid4(), "at": datetime(2024, 5, 1, tzinfo=UTC),
     "day": date(2024, 5, 1), "value": 1.5, "note": "é", "doc": [{"kg": 7.0, "n": None}]},
    # a row without some columns: they are NULL, as an executemany of this shape leaves them
    {"position": 2, "id": str(uuid.uuid4()), "at": datetime(2024, 5, 2, tzinfo=UTC)},
]  # fmt: skip


async def test_rows_go_in_as_given_and_conflicts_are_skipped(engine: AsyncEngine) -> None:
    schema = f"u_{uuid.uuid4().hex[:10]}"
    table, columns = _table(schema), [c.name for c in _table(schema).columns]
    async with engine.begin() as conn:
        await conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        await conn.run_sync(table.metadata.create_all)
        statement = unnest.insert_statement(
            table, columns, skip_conflicts=True, returning="position"
        )
        first = await conn.execute(statement, unnest.arrays_of(table, ROWS, columns))
        again = [{**ROWS[1], "note": "changed"}, {**ROWS[0], "position": 3}]
        second = await conn.execute(statement, unnest.arrays_of(table, again, columns))
        stored = [dict(row._mapping) for row in await conn.execute(table.select())]
        await conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))

    assert sorted(first.scalars()) == [1, 2]
    assert list(second.scalars()) == [3]  # position 2 was there: skipped, not changed
    by_position = {row["position"]: row for row in stored}
    assert by_position[1] == {**ROWS[0]}
    assert by_position[2] == {
        **ROWS[1], "id": uuid.UUID(ROWS[1]["id"]), "day": None, "value": None, "note": None,
        "doc": None,
    }  # fmt: skip
    assert by_position[3]["doc"] == ROWS[0]["doc"]


async def test_rows_in_conflict_update_every_other_column(engine: AsyncEngine) -> None:
    schema = f"u_{uuid.uuid4().hex[:10]}"
    table, columns = _table(schema), ["position", "id", "at", "note", "doc"]
    first = {**ROWS[0], "note": "first"}  # value 1.5, a column the upsert leaves alone
    later = [{**first, "note": "later", "doc": {"n": 2}}, {**ROWS[1], "note": "new"}]
    async with engine.begin() as conn:
        await conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        await conn.run_sync(table.metadata.create_all)
        everything = [c.name for c in table.columns]
        insert = unnest.insert_statement(table, everything)
        await conn.execute(insert, unnest.arrays_of(table, [first], everything))
        upsert = unnest.insert_statement(table, columns, update_on="position")
        await conn.execute(upsert, unnest.arrays_of(table, later, columns))
        stored = {row.position: row for row in await conn.execute(table.select())}
        await conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))

    assert (stored[1].note, stored[1].doc, stored[1].value) == ("later", {"n": 2}, 1.5)
    assert stored[2].note == "new"
