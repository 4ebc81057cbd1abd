"""`empreinte reporting ...`: operations on the reporting service's read models."""

from __future__ import annotations

import asyncio
from typing import Annotated

import nats
import typer
from rich.console import Console
from rich.progress import MofNCompleteColumn, Progress

from kernel.db import create_engine
from kernel.settings import Settings

reporting_app = typer.Typer(no_args_is_help=True, help="Reporting: read models and reports.")


@reporting_app.command("rebuild")
def rebuild_command(
    schema: Annotated[str, typer.Option(help="Reporting's database schema")] = "reporting",
) -> None:
    """Drop reporting's projections and replay them: emission versions from compute's
    JetStream stream, reports from reporting's own event log."""
    settings = Settings()
    if not settings.database_url or not settings.nats_url:
        raise typer.BadParameter("DATABASE_URL and NATS_URL must be set")
    compute, reports = asyncio.run(
        _rebuild(settings.database_url, settings.nats_url, settings.namespace, schema)
    )
    typer.echo(f"emission_versions: {compute} compute events replayed")
    typer.echo(f"reports: {reports} reporting events replayed")


async def _rebuild(
    database_url: str, nats_url: str, namespace: str, schema: str
) -> tuple[int, int]:
    from services.reporting.rebuild import rebuild

    engine = create_engine(database_url)
    nc = await nats.connect(nats_url, name="empreinte-cli-reporting-rebuild")
    # on stderr: stdout keeps the summary, for scripts
    bar = Progress(*Progress.get_default_columns(), MofNCompleteColumn(),
                   console=Console(stderr=True), transient=True)  # fmt: skip
    task = bar.add_task("compute events replayed", total=None)

    def replayed(count: int, total: int) -> None:
        bar.update(task, completed=count, total=total)

    try:
        with bar:
            done = await rebuild(engine, nc, namespace, schema, progress=replayed)
    finally:
        await nc.drain()
        await engine.dispose()
    return done.compute_events, done.report_events
