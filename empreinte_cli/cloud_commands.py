"""`empreinte cloud estimate`: one cloud instance's footprint by the Boavizta method, offline."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated

import typer

from services.compute.methods.cloud import CloudError, CloudUsage, cloud_footprint
from services.factors.defaults import cloud_release

cloud_app = typer.Typer(no_args_is_help=True, help="Cloud instances: the Boavizta method.")


@cloud_app.command()
def estimate(
    provider: Annotated[str, typer.Option(help="aws, gcp, azure, ovhcloud or scaleway")],
    instance_type: Annotated[str, typer.Option(help="e.g. m5.xlarge")],
    load: Annotated[float, typer.Option(help="average CPU load, % (0-100)")],
    hours: Annotated[float, typer.Option(help="instance-hours")] = 1.0,
    country: Annotated[str | None, typer.Option(help="ISO alpha-3 (default: Boavizta's)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
) -> None:
    """Embedded and use-phase kgCO2e (value, min, max) and the power at that load."""
    usage = CloudUsage(
        provider=provider,
        instance_type=instance_type,
        hours=hours,
        load_percent=load,
        country=country.upper() if country else None,
    )
    try:
        footprint = cloud_footprint(usage, cloud_release())
    except CloudError as error:
        raise typer.BadParameter(str(error)) from error
    answer = {
        "embedded_kg": asdict(footprint.embedded_kg),
        "use_kg": asdict(footprint.use_kg),
        "power_w": asdict(footprint.power_w),
        "constants": footprint.constants,
    }
    if as_json:
        typer.echo(json.dumps(answer, default=str))
        return
    for name in ("power_w", "use_kg", "embedded_kg"):
        b = answer[name]
        typer.echo(f"{name:12} {b['value']:.6g}  (min {b['min']:.6g}, max {b['max']:.6g})")
