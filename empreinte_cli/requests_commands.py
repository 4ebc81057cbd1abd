"""`empreinte requests estimate FILE`: a request log's footprint, offline, in bounded memory."""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console
from rich.table import Table

import services.factors
from services.compute.core import (
    EmissionAccumulator,
    Grams,
    GridIntensities,
    InputError,
    Method,
    SegmentGrid,
    ServerAllocation,
    result_as_json,
)
from services.compute.methods import MODEL_DEFAULT, SegmentIntensity
from services.compute.request_logs import batches, format_of

app = typer.Typer(no_args_is_help=True, help="Request logs: estimate their footprint offline.")
EMBER = Path(services.factors.__file__).parent / "data" / "ember-co2js-0.19.csv"
Model = Literal["swd-v4", "swd-v3", "onebyte", "measured-device"]
Basis = Literal["requests", "bytes"]
SERVER_HELP = "kgCO2e as VALUE or VALUE,MIN,MAX (e.g. the use_kg of `empreinte cloud estimate`)"
GRID_HELP = (
    "gCO2e/kWh, an ISO alpha-3 country code, WORLD, or 'default' for the model's global figure"
    " (unset: follow the request)"
)


def ember_intensities(path: Path = EMBER, *, allow_fallback: bool = True) -> GridIntensities:
    """The Ember grid intensities shipped with co2.js 0.19 (CC BY-SA 4.0)."""
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    table = {r["country"]: float(r["gco2e_per_kwh"]) for r in rows}
    return GridIntensities(table, source=rows[0]["source"], allow_fallback=allow_fallback)


def segment_intensity(value: str | None, option: str, known: GridIntensities) -> SegmentIntensity:
    """A --grid-* option: None, a number of gCO2e/kWh, a country or region code, or default."""
    if value is None:
        return None
    if value.lower() == MODEL_DEFAULT:
        return MODEL_DEFAULT
    if re.fullmatch(r"[A-Za-z]{2,5}", value):
        if value.upper() not in known.by_country:
            raise typer.BadParameter(
                f"no grid intensity for {value!r} in {known.source}", param_hint=option
            )
        return value.upper()
    try:
        return float(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r}: {GRID_HELP}", param_hint=option) from None


@app.command()
def estimate(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="CSV, Parquet or NDJSON")
    ],
    model: Annotated[Model, typer.Option(help="Emission model")] = "swd-v4",
    grid_device: Annotated[str | None, typer.Option(help=GRID_HELP)] = None,
    grid_network: Annotated[str | None, typer.Option(help=GRID_HELP)] = None,
    grid_datacenter: Annotated[str | None, typer.Option(help=GRID_HELP)] = None,
    green_hosting_factor: Annotated[float, typer.Option(min=0, max=1)] = 0.0,
    eco: Annotated[
        bool, typer.Option("--eco/--full", help="Distinct values only, or every row")
    ] = True,
    server_use_kg: Annotated[str | None, typer.Option(help=SERVER_HELP)] = None,
    server_embedded_kg: Annotated[str | None, typer.Option(help=SERVER_HELP)] = None,
    server_allocation: Annotated[
        Basis, typer.Option(help="Share the server footprint by requests or by bytes")
    ] = "requests",
    server_period_total: Annotated[
        float | None,
        typer.Option(help="Requests (or bytes) of the footprint's period; unset: this file's"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
) -> None:
    """Grams CO2e of a request log, by segment, country and device, with every constant used.

    With --server-use-kg (and --server-embedded-kg), a server footprint measured for the
    period (e.g. by `empreinte cloud estimate`) replaces the SWD data-centre segment, shared
    among the requests (swd-v4, measured-device).
    """
    intensities = ember_intensities()
    grid = SegmentGrid(
        user_device=segment_intensity(grid_device, "--grid-device", intensities),
        network=segment_intensity(grid_network, "--grid-network", intensities),
        data_centre=segment_intensity(grid_datacenter, "--grid-datacenter", intensities),
    )
    path: Literal["eco", "full"] = "eco" if eco else "full"
    method = Method(model=model, green_hosting_factor=green_hosting_factor, grid=grid)
    footprint = server_footprint(server_use_kg, server_embedded_kg)
    if footprint is not None:
        share = Share(footprint, server_allocation, server_period_total)
        method = _with_server(method, share, file, intensities)
    summary = _estimate(file, method, intensities, path)
    if as_json:
        typer.echo(json.dumps(summary))
    else:
        _show(summary)


@dataclass(frozen=True)
class Share:
    footprint: tuple[Grams, Grams]
    basis: Basis
    period_total: float | None


def _with_server(method: Method, share: Share, file: Path, grid: GridIntensities) -> Method:
    """The method with the server footprint shared among the period's requests."""
    try:
        # Refuse a method that cannot take it before counting the file.
        replace(method, server=ServerAllocation(*share.footprint, 1.0, share.basis))
        total = share.period_total
        if total is None:
            total = _file_total(file, method, grid, share.basis)
        allocation = ServerAllocation(*share.footprint, total, share.basis, "command line")
        return replace(method, server=allocation)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--server-*") from error


def server_footprint(use_kg: str | None, embedded_kg: str | None) -> tuple[Grams, Grams] | None:
    """--server-use-kg and --server-embedded-kg as grams, or None when neither is given."""
    if use_kg is None and embedded_kg is None:
        return None
    return (
        _kg_as_grams(use_kg or "0", "--server-use-kg"),
        _kg_as_grams(embedded_kg or "0", "--server-embedded-kg"),
    )


def _kg_as_grams(text: str, option: str) -> Grams:
    try:
        values = [float(part) * 1000.0 for part in text.split(",")]
    except ValueError:
        raise typer.BadParameter(f"{text!r}: {SERVER_HELP}", param_hint=option) from None
    if len(values) == 1:
        return Grams(values[0], values[0], values[0])
    if len(values) != 3:
        raise typer.BadParameter(f"{text!r}: {SERVER_HELP}", param_hint=option)
    return Grams(*values)


def _file_total(file: Path, method: Method, grid: GridIntensities, basis: Basis) -> float:
    """The file's requests or bytes, counted as the core counts them (a first pass)."""
    counted = _estimate(file, method, grid, "eco")
    total = counted["requests" if basis == "requests" else "bytes"]
    assert isinstance(total, float)
    return total


def _estimate(
    file: Path, method: Method, grid: GridIntensities, path: Literal["eco", "full"]
) -> dict[str, object]:
    accumulator = EmissionAccumulator(method, grid, path=path)
    try:
        for batch in batches(file, format_of(file)):
            accumulator.add(batch)
        return result_as_json(accumulator.result())
    except (InputError, ValueError) as error:
        raise typer.BadParameter(str(error), param_hint="FILE") from error


def _show(summary: dict[str, object]) -> None:
    total = summary["total_g"]
    assert isinstance(total, dict)
    console = Console()
    console.print(
        f"[bold]{summary['model']}[/]: {total['value']:,.3f} g CO2e "
        f"(range {total['min']:,.3f} to {total['max']:,.3f}) "
        f"for {summary['requests']:,.0f} requests"
    )
    table = Table("segment", "operational g", "embodied g")
    segments = summary["segments"]
    assert isinstance(segments, dict)
    for name, s in segments.items():
        table.add_row(name, f"{s['operational']['value']:,.3f}", f"{s['embodied']['value']:,.3f}")
    console.print(table)
