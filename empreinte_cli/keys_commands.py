"""`empreinte keys`: bootstrap and revoke API keys (the first admin key of an organisation)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer

from gateway.app import MIGRATIONS
from gateway.keys import SCHEMA, ApiKeys
from kernel.db import create_engine
from kernel.errors import RequestRefused
from kernel.migrations import upgrade
from kernel.settings import Settings

T = TypeVar("T")

app = typer.Typer(
    no_args_is_help=True, help="Create and revoke API keys (DATABASE_URL must be set)."
)


@app.command()
def create(
    tenant: Annotated[str, typer.Option(help="Organisation the key acts for")],
    role: Annotated[list[str], typer.Option(help="Role to grant (repeat for several)")],
    name: Annotated[str, typer.Option(help="What the key is for")] = "cli",
) -> None:
    """Create a key and print it (it is shown only this once)."""

    async def run(keys: ApiKeys) -> str:
        return (await keys.create(tenant, role, name, actor="cli")).secret

    try:
        typer.echo(asyncio.run(_with_keys(run)))
    except RequestRefused as refused:
        raise typer.BadParameter(refused.message, param_hint="--role") from refused


@app.command()
def revoke(
    tenant: Annotated[str, typer.Option(help="Organisation of the key")],
    key_id: Annotated[str, typer.Argument(help="The key id (the part after emp_)")],
) -> None:
    """Revoke a key; exit 1 when the organisation has no such live key."""

    async def run(keys: ApiKeys) -> bool:
        return await keys.revoke(tenant, key_id, actor="cli")

    if not asyncio.run(_with_keys(run)):
        typer.echo(f"no live key {key_id!r} in organisation {tenant!r}", err=True)
        raise typer.Exit(1)
    typer.echo("revoked")


async def _with_keys(action: Callable[[ApiKeys], Awaitable[T]]) -> T:
    settings = Settings()
    if not settings.database_url:
        raise typer.BadParameter("DATABASE_URL must be set")
    engine = create_engine(settings.database_url, pool_size=1)
    try:
        await upgrade(engine, SCHEMA, MIGRATIONS)
        return await action(ApiKeys(engine))
    finally:
        await engine.dispose()
