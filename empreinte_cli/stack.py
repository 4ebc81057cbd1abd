"""`empreinte dev`: the whole backend in one process, on embedded servers when none is set."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import uvicorn
from rich.console import Console

from empreinte_cli.devkey import ensure_dev_key
from empreinte_cli.registry import all_definitions
from gateway.app import MIGRATIONS as GATEWAY_MIGRATIONS
from gateway.app import create_app
from gateway.keys import SCHEMA as GATEWAY_SCHEMA
from infra.embedded import local_endpoints
from kernel.db import create_engine
from kernel.logs import configure_logging
from kernel.migrations import upgrade
from kernel.process import run_service, stop_on_signals, tune_garbage_collector
from kernel.settings import Settings

console = Console(stderr=True)


async def migrate_all(settings: Settings) -> None:
    """Bring every service schema to its newest revision."""
    assert settings.database_url
    engine = create_engine(settings.database_url, pool_size=2)
    try:
        for definition in all_definitions():
            await upgrade(engine, definition.name, definition.migrations)
        await upgrade(engine, GATEWAY_SCHEMA, GATEWAY_MIGRATIONS)
    finally:
        await engine.dispose()


async def run_stack(settings: Settings) -> None:
    """Every service and the gateway, as tasks of one event loop, until Ctrl-C or SIGTERM."""
    stop = stop_on_signals()
    await migrate_all(settings)
    key, created = await ensure_dev_key(settings)
    services = [asyncio.create_task(run_service(d, settings, stop)) for d in all_definitions()]
    config = uvicorn.Config(
        create_app(settings),
        host=settings.gateway_host,
        port=settings.gateway_port,
        log_level="warning",
    )
    server = _Gateway(config)
    tune_garbage_collector()
    gateway = asyncio.create_task(server.serve())
    url = f"http://{settings.gateway_host}:{settings.gateway_port}/graphql"
    console.print(f"[bold green]Empreinte is up.[/] GraphiQL: [link={url}]{url}[/link]")
    where = settings.data_dir / "dev-api-key"
    console.print(f"Admin API key of organisation 'dev' ({'new, ' if created else ''}in {where}):")
    console.print(f"  X-API-Key: {key}", soft_wrap=True)
    await stop.wait()
    server.should_exit = True
    await asyncio.gather(gateway, *services, return_exceptions=True)


class _Gateway(uvicorn.Server):
    """uvicorn without its own signal handling: the stack's stop event drives its shutdown."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def dev(settings: Settings) -> None:
    """Start embedded PostgreSQL/NATS where unset, then the whole stack."""
    configure_logging("dev", settings.log_level)
    with local_endpoints(settings) as (database_url, nats_url):
        console.print(f"PostgreSQL: {database_url}\nNATS: {nats_url}")
        live = settings.model_copy(update={"database_url": database_url, "nats_url": nats_url})
        asyncio.run(run_stack(live))
