"""`empreinte factors ...`: the emission-factor catalogue from the command line."""

from __future__ import annotations

import asyncio

import typer

from kernel.settings import Settings

factors_app = typer.Typer(no_args_is_help=True, help="The emission-factor catalogue.")


@factors_app.callback()
def factors() -> None:
    """The emission-factor catalogue."""


@factors_app.command("load-defaults")
def load_defaults_command() -> None:
    """Publish the default factor releases (idempotent: a second run changes nothing)."""
    settings = Settings()
    if not settings.database_url:
        raise typer.BadParameter("DATABASE_URL must be set (or use `empreinte dev`)")
    counts = asyncio.run(load_into(settings.database_url))
    for release, members in counts.items():
        typer.echo(f"{release}: {members} factors")


async def load_into(database_url: str) -> dict[str, int]:
    """Migrate the factors schema, then load the default releases into it."""
    from kernel.db import create_engine
    from kernel.migrations import upgrade
    from kernel.store import EventStore
    from services.factors.defaults import load_cloud_release, load_defaults
    from services.factors.handlers import FactorHandlers
    from services.factors.main import definition

    engine = create_engine(database_url, pool_size=2)
    try:
        await upgrade(engine, definition.name, definition.migrations)
        handlers = FactorHandlers(EventStore(engine, definition.name, definition.upcasters))
        counts = await load_defaults(handlers)
        cloud = await load_cloud_release(handlers)
        return {**counts, cloud: 1}
    finally:
        await engine.dispose()
