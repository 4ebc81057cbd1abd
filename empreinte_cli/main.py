"""The `empreinte` command line."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer

from empreinte_cli.boavizta_commands import boavizta_app
from empreinte_cli.cloud_commands import cloud_app
from empreinte_cli.factors_commands import factors_app
from empreinte_cli.inventory_commands import inventory_app
from empreinte_cli.keys_commands import app as keys_app
from empreinte_cli.report_commands import report_app
from empreinte_cli.reporting_commands import reporting_app
from empreinte_cli.requests_commands import app as requests_app
from kernel.settings import Settings

app = typer.Typer(no_args_is_help=True, help="Empreinte: carbon accounting backend.")
service_app = typer.Typer(no_args_is_help=True, help="Run one service process.")
gateway_app = typer.Typer(no_args_is_help=True, help="Run the GraphQL gateway.")
app.add_typer(service_app, name="service")
app.add_typer(gateway_app, name="gateway")
app.add_typer(keys_app, name="keys")
app.add_typer(requests_app, name="requests")
factors_app.add_typer(boavizta_app)  # adds `empreinte factors import-boavizta`
app.add_typer(factors_app, name="factors")
app.add_typer(inventory_app)
app.add_typer(cloud_app, name="cloud")
app.add_typer(reporting_app, name="reporting")
app.add_typer(report_app, name="report")


@app.command()
def version() -> None:
    """Print the installed version."""
    from importlib.metadata import version as v

    typer.echo(v("empreinte"))


@app.command()
def dev(port: Annotated[int, typer.Option(help="Gateway port")] = 8000) -> None:
    """Run the whole backend locally (embedded PostgreSQL and NATS when none is configured)."""
    from empreinte_cli.stack import dev as run_dev

    run_dev(Settings().model_copy(update={"gateway_port": port}))


@app.command()
def demo(
    url: Annotated[str, typer.Option(help="Gateway URL")] = "http://127.0.0.1:8000",
    key: Annotated[
        str | None, typer.Option(help="API key (default: .empreinte/dev-api-key)")
    ] = None,
    rows_per_month: Annotated[int, typer.Option(help="Request-log rows a month")] = 200_000,
    out: Annotated[Path, typer.Option(help="Where the CSRD export goes")] = Path("out/demo"),
) -> None:
    """Load a realistic SaaS company through the API of a running backend, show its footprint."""
    from empreinte_cli.demo import run

    secret = key or (Settings().data_dir / "dev-api-key").read_text().strip()
    gateway = run.Gateway(url, secret)
    run.load(gateway, rows_per_month)
    run.settle(gateway)
    run.show(gateway)
    run.export(gateway, out)


@app.command()
def migrate() -> None:
    """Apply every service's database migrations (DATABASE_URL must be set)."""
    from empreinte_cli.stack import migrate_all

    asyncio.run(migrate_all(_configured()))


@service_app.command("run")
def service_run(
    name: Annotated[str, typer.Argument(help="factors, inventory, compute or reporting")],
) -> None:
    """Run one service until SIGTERM (DATABASE_URL and NATS_URL must be set)."""
    from empreinte_cli.registry import definition
    from kernel.process import run

    run(definition(name), _configured())


@gateway_app.command("run")
def gateway_run(
    host: Annotated[str | None, typer.Option(help="Address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on")] = None,
) -> None:
    """Run the GraphQL gateway (NATS_URL must be set)."""
    import uvicorn

    from gateway.app import create_app
    from kernel.logs import configure_logging
    from kernel.process import tune_garbage_collector

    settings = _configured()
    configure_logging("gateway", settings.log_level)
    app = create_app(settings)
    tune_garbage_collector()
    # uvicorn's loggers (its access log too) go through the JSON lines of every process and
    # follow EMPREINTE_LOG_LEVEL: at WARNING, no line per request.
    uvicorn.run(
        app,
        host=host or settings.gateway_host,
        port=port or settings.gateway_port,
        log_config=None,
        log_level=settings.log_level.lower(),
    )


@gateway_app.command("export-schema")
def gateway_export_schema() -> None:
    """Write the running schema to gateway/schema.graphql (a test fails while they differ)."""
    from gateway.schema.root import SCHEMA_FILE, schema

    SCHEMA_FILE.write_text(str(schema) + "\n")
    typer.echo(f"written: {SCHEMA_FILE}")


@app.command()
def health(
    service: Annotated[str, typer.Argument(help="Service to ask")],
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the answer")] = 3.0,
) -> None:
    """Ask a running service for its health; exit 1 unless it answers ok (container probe)."""
    from empreinte_cli.probe import ask_health

    report = asyncio.run(ask_health(_configured(), service, timeout))
    typer.echo(json.dumps(report))
    raise typer.Exit(0 if report.get("status") == "ok" else 1)


def _configured() -> Settings:
    settings = Settings()
    missing = [
        n
        for n, v in (("DATABASE_URL", settings.database_url), ("NATS_URL", settings.nats_url))
        if not v
    ]
    if missing:
        raise typer.BadParameter(f"{' and '.join(missing)} must be set (or use `empreinte dev`)")
    return settings
