"""Running a service's alembic migrations inside its own PostgreSQL schema."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command, context
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncEngine

_MIGRATION_LOCK = 0x656D70726D6967  # any fixed number: one migrator at a time per database


_KERNEL_ALEMBIC = Path(__file__).parent / "alembic"


async def upgrade(engine: AsyncEngine, schema: str, versions: Path | None = None) -> None:
    """Bring `schema` to its newest revision: the kernel's event log, then `versions`' own.

    A service's revisions chain onto the kernel's first one (`down_revision = "0001"`).
    """
    async with engine.connect() as conn:
        await conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": _MIGRATION_LOCK})
        try:
            await conn.run_sync(_upgrade_sync, schema, versions)
            await conn.commit()
        finally:
            await conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": _MIGRATION_LOCK})
            await conn.commit()


def _upgrade_sync(connection: sa.Connection, schema: str, versions: Path | None) -> None:
    command.upgrade(alembic_config(connection, schema, versions), "heads")


def alembic_config(connection: sa.Connection, schema: str, versions: Path | None) -> Config:
    """Alembic on the kernel's revisions and `versions`' own, in `schema`, over `connection`
    (what `upgrade` runs; tests going down and back up a revision use it too)."""
    config = Config()
    config.set_main_option("script_location", str(_KERNEL_ALEMBIC))
    locations = [str(_KERNEL_ALEMBIC / "versions")] + ([str(versions)] if versions else [])
    config.set_main_option("version_locations", " ".join(locations))
    config.set_main_option("path_separator", "space")
    config.attributes["connection"] = connection
    config.attributes["schema"] = schema
    return config


def run_env() -> None:
    """The body of every service's alembic `env.py`: online mode on the given connection."""
    connection: sa.Connection = context.config.attributes["connection"]
    schema: str = context.config.attributes["schema"]
    connection.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    context.configure(
        connection=connection,
        version_table_schema=schema,
        include_schemas=True,
    )
    with context.begin_transaction():
        context.run_migrations()
