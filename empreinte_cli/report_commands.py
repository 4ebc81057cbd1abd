"""`empreinte report csrd`: generate an organisation's ESRS E1 report and write one file."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path
from typing import Annotated, Literal

import typer

from contracts import reporting as r
from kernel.client import ServiceClient
from kernel.endpoints import CallContext
from kernel.errors import RemoteError
from kernel.process import connect_nats
from kernel.settings import Settings

report_app = typer.Typer(no_args_is_help=True, help="Reports from the ledger.")
Format = Literal["ixbrl", "json", "csv", "xlsx"]
SUFFIX = {"ixbrl": ".xhtml", "json": ".json", "csv": ".csv", "xlsx": ".xlsx"}


def _mix(text: str | None) -> r.Mix | None:
    if text is None:
        return None
    try:
        fossil, nuclear, renewable = (float(x) for x in text.split(","))
    except ValueError:
        raise typer.BadParameter(
            "three shares: fossil,nuclear,renewable", param_hint="--electricity-mix"
        ) from None
    return r.Mix(fossil=fossil, nuclear=nuclear, renewable=renewable)


@report_app.command()
def csrd(
    org: Annotated[str, typer.Option(help="The organisation (tenant) to report on")],
    year: Annotated[int, typer.Option(help="Reporting year")],
    net_revenue: Annotated[float, typer.Option(help="Net revenue, EUR (for GHG intensity)")],
    out: Annotated[Path, typer.Option(help="File to write")],
    fmt: Annotated[Format, typer.Option("--format", help="ixbrl, json, csv or xlsx")] = "ixbrl",
    name: Annotated[str | None, typer.Option(help="Legal name (default: the organisation)")] = None,
    identifier: Annotated[str, typer.Option(help="LEI")] = "00000000000000000000",
    significant: Annotated[
        str, typer.Option(help="Significant Scope 3 categories, e.g. 1,6,7")
    ] = "",
    base_year: Annotated[int | None, typer.Option(help="Base year")] = None,
    electricity_mix: Annotated[
        str | None, typer.Option(help="fossil,nuclear,renewable shares")
    ] = None,
) -> None:
    """Generate the ESRS E1 report (recorded with its hashes) and write the chosen file."""
    request = r.GenerateReport(
        organisation=r.Organisation(name=name or org, identifier=identifier),
        period_start=date(year, 1, 1),
        period_end=date(year + 1, 1, 1),
        base_year=base_year,
        net_revenue_eur=net_revenue,
        electricity_mix=_mix(electricity_mix),
        significant_scope3=[int(c) for c in significant.split(",") if c.strip()],
    )
    try:
        data, view = asyncio.run(_generate(request, org, fmt))
    except RemoteError as error:
        raise typer.BadParameter(
            error.message, param_hint=error.field and f"--{error.field}"
        ) from error
    out.write_bytes(data)
    typer.echo(
        f"report {view.report_id}: {out} ({len(data)} bytes); files: "
        + ", ".join(f"{f.name} sha256 {f.sha256}" for f in view.files)
    )


async def _generate(request: r.GenerateReport, org: str, fmt: Format) -> tuple[bytes, r.ReportView]:
    settings = Settings()
    if not settings.nats_url:
        raise typer.BadParameter("NATS_URL must be set (the backend must be running)")
    nc = await connect_nats(settings.nats_url, "empreinte-report")
    try:
        ctx = CallContext(tenant_id=org, role="compliance", actor="cli")
        view = await ServiceClient(nc, settings.namespace, timeout=300).call(
            r.GENERATE_REPORT, request, ctx
        )
        [chosen] = [f for f in view.files if f.name.endswith(SUFFIX[fmt])]
        store = await nc.jetstream().object_store(r.reports_bucket(settings.namespace))
        return (await store.get(chosen.object_name)).data or b"", view
    finally:
        await nc.drain()
