"""Each service's migrations build exactly the tables its code declares.

The code reads and writes through SQLAlchemy `Table`s (kernel/schema.py for the event log,
each service's tables or projections module for its own); the database is built by alembic
revisions. Several revisions build tables from today's declarations (`metadata.create_all`)
and later ones alter them, so a change to a tables module can silently make a fresh schema
differ from an upgraded one, or from the code. Here every service's revisions run on a fresh
schema, and what they built is compared with the declarations: tables, columns (types and
nullability), indexes, unique constraints, foreign keys (alembic's autogenerate comparison)
and primary keys (compared here: autogenerate does not). Server defaults and standalone
sequences are not compared. A table an old revision builds with `create_all` matches today's
code by construction on a fresh schema; there, what this catches is a later revision that
alters it away from the code (as reporting_0008 alters reporting_0006's table).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts.services import SERVICES
from empreinte_cli.registry import definition
from kernel.migrations import upgrade
from kernel.schema import log_tables
from services.compute.tables import compute_tables
from services.factors.projections import catalogue_tables
from services.inventory.projections import ledger_tables
from services.reporting.tables import reporting_tables

# What declares each service's own tables: a function of the schema returning a dataclass of
# tables (possibly nested, possibly holding MetaData). The kernel's event log is added to all.
DECLARED: dict[str, Callable[[str], object]] = {
    "factors": catalogue_tables,
    "inventory": ledger_tables,
    "compute": compute_tables,
    "reporting": reporting_tables,
}

# Tables the migrations make that no SQLAlchemy declaration describes, and why. Any other
# table in a migrated schema without a declaration is drift, and fails the test.
KNOWN_UNDECLARED: dict[str, str] = {
    "alembic_version": "alembic's own revision bookkeeping, not a table the code uses",
}

Diff = tuple[Any, ...] | list[Any]


def test_every_service_has_declared_tables() -> None:
    assert sorted(DECLARED) == sorted(SERVICES)


@dataclasses.dataclass(frozen=True)
class Migrated:
    service: str
    schema: str


@pytest.fixture(params=SERVICES)
async def migrated(request: pytest.FixtureRequest, engine: AsyncEngine) -> AsyncIterator[Migrated]:
    """A fresh schema brought to head by the service's revisions, dropped afterwards."""
    service: str = request.param
    schema = f"mt_{service[:3]}_{uuid.uuid4().hex[:8]}"
    try:
        await upgrade(engine, schema, definition(service).migrations)
        yield Migrated(service, schema)
    finally:
        async with engine.begin() as conn:
            await conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


async def test_migrations_build_the_declared_tables(
    migrated: Migrated, engine: AsyncEngine
) -> None:
    service, schema = migrated.service, migrated.schema
    declared = declared_metadata(service, schema)
    async with engine.connect() as conn:
        differences = await conn.run_sync(lambda sync: drift(sync, declared, schema))
    assert not differences, (
        f"{service}: the schema its migrations build differs from the tables its code "
        f"declares, {len(differences)} difference(s):\n" + "\n".join(differences)
    )


def declared_metadata(service: str, schema: str) -> sa.MetaData:
    """The kernel's log tables and the service's own, together in one MetaData."""
    combined = sa.MetaData()
    for table in tables_in(log_tables(schema)) + tables_in(DECLARED[service](schema)):
        if table.key not in combined.tables:
            table.to_metadata(combined)
    return combined


def tables_in(declarations: object) -> list[sa.Table]:
    """Every Table a declarations dataclass holds: as fields, in MetaData, in nested ones."""
    return list(_walk(declarations))


def _walk(value: object) -> Iterator[sa.Table]:
    if isinstance(value, sa.Table):
        yield value
    elif isinstance(value, sa.MetaData):
        yield from value.tables.values()
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            yield from _walk(getattr(value, field.name))


def drift(conn: sa.Connection, declared: sa.MetaData, schema: str) -> list[str]:
    """Every difference between `schema` as built and `declared`, one readable line each."""
    return [_describe(d) for d in autogenerate_diff(conn, declared, schema)] + key_diff(
        conn, declared, schema
    )


def autogenerate_diff(conn: sa.Connection, declared: sa.MetaData, schema: str) -> list[Diff]:
    def in_schema(name: str | None, type_: str, parent_names: dict[str, str | None]) -> bool:
        if type_ == "schema":
            return name == schema
        return not (type_ == "table" and name in KNOWN_UNDECLARED)

    context = MigrationContext.configure(
        conn,
        opts={
            "compare_type": True,
            "compare_server_default": False,
            "include_schemas": True,
            "include_name": in_schema,
            "version_table_schema": schema,
        },
    )
    return list(compare_metadata(context, declared))


def key_diff(conn: sa.Connection, declared: sa.MetaData, schema: str) -> list[str]:
    """Primary keys (columns, in order) of the tables both sides have, where they differ."""
    inspector = sa.inspect(conn)
    built = set(inspector.get_table_names(schema=schema))
    differences = []
    for table in declared.tables.values():
        if table.name not in built:
            continue  # reported as a missing table already
        in_db = inspector.get_pk_constraint(table.name, schema=schema)["constrained_columns"]
        in_code = [column.name for column in table.primary_key.columns]
        if in_db != in_code:
            differences.append(
                f"primary key of {schema}.{table.name}: database {in_db}, code {in_code}"
            )
    return differences


# What alembic's verbs say about the two sides (its "add" is what upgrading the database to
# the code would do: there, the code declares what the database lacks).
_SIDES = {
    "add": "declared in code, missing in database",
    "remove": "in database, not declared in code",
    "modify": "in both, different",
}


def _describe(diff: Diff) -> str:
    """One alembic diff entry, verbatim, after what it means; a list of them is a column's
    several modifications."""
    if isinstance(diff, list):
        return "; ".join(_describe(part) for part in diff)
    verb = str(diff[0]).split("_", 1)[0]
    return f"[{_SIDES.get(verb, verb)}{_subject(diff)}] {diff!r}"


def _subject(diff: tuple[Any, ...]) -> str:
    """The table and name of the index or constraint a diff is about (its repr has neither)."""
    target = diff[1] if len(diff) > 1 else None
    if isinstance(target, sa.Index | sa.Constraint) and target.table is not None:
        return f": {target.table.name}.{target.name or '(unnamed)'}"
    return ""
