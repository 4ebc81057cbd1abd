"""Many rows inserted by one statement: each column sent as one array, unnested in SQL.

asyncpg's executemany (what SQLAlchemy uses for a list of parameter sets) binds and runs
the statement once per row: a round of protocol messages and an executor start in
PostgreSQL per row, and socket writes in the client that were about a third of reporting's
consumer CPU. Here a batch is one Bind and one Execute, whatever its size.

A JSONB column travels as text and is cast in SQL, so the values are the JSON texts.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import JSONB

from kernel import wire

_DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]


def insert_statement(
    table: sa.Table,
    columns: Sequence[str],
    *,
    skip_conflicts: bool = False,
    update_on: str = "",
    returning: str = "",
) -> sa.TextClause:
    """INSERT of `columns` from one array per column, bound as `:<column>`; conflicting rows
    skipped (ON CONFLICT DO NOTHING) if asked, or, with `update_on` (a unique column), taken
    as updates of every other column; `returning` a column of the inserted rows."""
    return _insert_statement(table, tuple(columns), skip_conflicts, update_on, returning)


@functools.lru_cache(maxsize=256)
def _insert_statement(
    table: sa.Table, columns: tuple[str, ...], skip_conflicts: bool, update_on: str, returning: str
) -> sa.TextClause:
    sql = insert_sql(table, columns)
    if skip_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    if update_on:
        updated = ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in columns if c != update_on)
        sql += f' ON CONFLICT ("{update_on}") DO UPDATE SET {updated}'
    if returning:
        sql += f' RETURNING "{returning}"'
    return sa.text(sql)


def insert_sql(table: sa.Table, columns: Sequence[str], prefix: str = "", where: str = "") -> str:
    """The INSERT's SQL alone, its arrays bound as `:<prefix><column>` (two tables written
    by one statement need different prefixes), its rows filtered by `where` if given (the
    unnested row is `u`)."""
    names = ", ".join(f'"{name}"' for name in columns)
    arrays = ", ".join(f"CAST(:{prefix}{name} AS {_array_type(table.c[name])})" for name in columns)
    values = ", ".join(_value(table.c[name]) for name in columns)
    return (
        f'INSERT INTO "{table.schema}"."{table.name}" ({names}) SELECT {values} '
        f"FROM unnest({arrays}) AS u({names})" + (f" WHERE {where}" if where else "")
    )


def arrays_of(
    table: sa.Table,
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    prefix: str = "",
    encode: Callable[[Any], str] = wire.text,
) -> dict[str, list[Any]]:
    """The parameters of `insert_statement`: per column, its values in row order (None for
    a row without it; JSONB values as their JSON text, by default as the engine writes them,
    NaN refused)."""
    found = {name: [row.get(name) for row in rows] for name in columns}
    for name in columns:
        if isinstance(table.c[name].type, JSONB):
            found[name] = [None if v is None else encode(v) for v in found[name]]
    return {prefix + name: values for name, values in found.items()}


def arrays_of_records(
    records: Sequence[Sequence[Any]], columns: Sequence[str], prefix: str = ""
) -> dict[str, list[Any]]:
    """`arrays_of` for rows given as tuples in `columns`' order, their JSONB values already
    JSON text."""
    return {prefix + name: [record[i] for record in records] for i, name in enumerate(columns)}


def _array_type(column: sa.Column[Any]) -> str:
    if isinstance(column.type, JSONB):
        return "text[]"
    return f"{column.type.compile(dialect=_DIALECT)}[]"


def _value(column: sa.Column[Any]) -> str:
    name = f'u."{column.name}"'
    return f"CAST({name} AS jsonb)" if isinstance(column.type, JSONB) else name
