"""A CSRD E1 report from the ledger: its input read at one position, its files in the store.

The input is a function of (tenant, request, compute position) only, and the exporter writes
no clock time (its "as of" is the position's instant), so generating again at the same
position gives byte-identical files.

The files are stored before ReportGenerated is appended: should the append fail, the objects
under that report id are orphans no event names, never listed, and harmless.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, fields, is_dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

from nats.js.client import JetStreamContext
from nats.js.errors import BucketNotFoundError
from nats.js.object_store import ObjectStore
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts import reporting as r
from kernel.errors import RequestRefused
from services.reporting import energy, ledger
from services.reporting.csrd import BaseYear, CsrdInput, Lineage, Organisation, write_report

MARKET_NOTE = (
    "No market-based Scope 2 data (contractual instruments) is recorded in the ledger yet: "
    "market-based Scope 2 is reported equal to location-based."
)


@dataclass(frozen=True)
class Built:
    source: CsrdInput
    pinned: ledger.Pinned
    notes: list[str]
    releases: list[str]
    methods: list[str]


async def build_input(
    conn: AsyncConnection, schema: str, tenant_id: str, request: r.GenerateReport
) -> Built:
    """The exporter's input from the ledger as known at the request's as-of."""
    pinned = await ledger.pin(conn, schema, request.as_of)
    period = ledger.Period(request.period_start, request.period_end)
    posts = await ledger.by_post(conn, schema, tenant_id, pinned, period)
    if not posts:  # an empty report would look valid: say there is nothing instead
        raise RequestRefused(
            "no_data",
            f"no emission is recorded from {period.start} to {period.end} (as of position "
            f"{pinned.position}): there is nothing to report",
            "period_start",
        )
    figures = await ledger.ghg(conn, schema, tenant_id, pinned, period)
    _check_significant(figures.ghg.scope3, request.significant_scope3)
    quantities = await ledger.energy_quantities(conn, schema, tenant_id, pinned, period)
    found = energy.consumption(quantities)
    notes = [*([MARKET_NOTE] if figures.scope2_market_is_location else []), *energy.notes(found)]
    draft = CsrdInput(
        organisation=_organisation(request.organisation),
        period_start=request.period_start,
        period_end=request.period_end - timedelta(days=1),
        ghg=figures.ghg,
        significant_scope3=frozenset(request.significant_scope3),
        net_revenue=Decimal(str(request.net_revenue_eur)),
        energy=energy.energy(found, request.electricity_mix, request.heat_mix),
        lineage=Lineage(pinned.instant, {"compute": pinned.position}, "", tuple(notes)),
        base_year=await _base_year(conn, schema, tenant_id, pinned, request.base_year),
        by_post=posts,
    )
    lineage = replace(draft.lineage, content_hash=content_hash(draft))
    releases, methods = await ledger.provenance(conn, schema, tenant_id, pinned, period)
    return Built(replace(draft, lineage=lineage), pinned, notes, releases, methods)


def generated(
    report_id: UUID, request: r.GenerateReport, built: Built, files: list[r.ReportFile]
) -> r.ReportGenerated:
    """The event that records a report: what it was built from and what was written."""
    return r.ReportGenerated(
        report_id=report_id,
        organisation=request.organisation,
        period_start=request.period_start,
        period_end=request.period_end,
        base_year=request.base_year,
        as_of=built.pinned.instant,
        positions=dict(built.source.lineage.positions),
        content_hash=built.source.lineage.content_hash,
        files=files,
        notes=built.notes,
        releases=built.releases,
        methods=built.methods,
    )


def _check_significant(scope3: Mapping[int, Any], significant: list[int]) -> None:
    unknown = sorted(set(significant) - set(range(1, 16)))
    if unknown:
        raise RequestRefused(
            "invalid_category", f"Scope 3 categories are 1-15, not {unknown}", "significant_scope3"
        )
    missing = sorted(set(significant) - set(scope3))
    if missing:
        raise RequestRefused(
            "no_figure",
            f"the ledger has no emission in significant Scope 3 categories {missing} "
            "for the period",
            "significant_scope3",
        )


def _organisation(given: r.Organisation) -> Organisation:
    try:
        return Organisation(given.name, given.identifier, given.scheme)
    except ValueError as error:
        raise RequestRefused("invalid_identifier", str(error), "organisation.identifier") from None


async def _base_year(
    conn: AsyncConnection, schema: str, tenant_id: str, pinned: ledger.Pinned, year: int | None
) -> BaseYear | None:
    if year is None:
        return None
    period = ledger.Period(date(year, 1, 1), date(year + 1, 1, 1))
    figures = await ledger.ghg(conn, schema, tenant_id, pinned, period, "base_year")
    return BaseYear(year, figures.ghg)


def content_hash(source: CsrdInput) -> str:
    """sha256 of the input's canonical JSON, its lineage left out (it holds the hash)."""
    plain = {f.name: _plain(getattr(source, f.name)) for f in fields(source) if f.name != "lineage"}
    text = json.dumps(plain, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, frozenset | set):
        return sorted(_plain(v) for v in value)
    if isinstance(value, Decimal | date):
        return str(value)
    return value


async def store_files(
    js: JetStreamContext, namespace: str, tenant_id: str, report_id: UUID, source: CsrdInput
) -> list[r.ReportFile]:
    """Write the four files and put each under `<tenant>/<report id>/<name>` in the bucket."""
    bucket = await _bucket(js, namespace)
    stored = []
    with tempfile.TemporaryDirectory(prefix="empreinte-report-") as directory:
        written = write_report(source, Path(directory))
        for kind, path in written.paths.items():
            name = f"{tenant_id}/{report_id}/{path.name}"
            data = path.read_bytes()
            await bucket.put(name, data)
            stored.append(r.ReportFile(name=path.name, sha256=written.sha256[kind],
                                       size=len(data), object_name=name))  # fmt: skip
    return stored


async def remove_files(js: JetStreamContext, namespace: str, files: list[r.ReportFile]) -> None:
    """Delete files `store_files` put, when their report was not recorded after all."""
    bucket = await _bucket(js, namespace)
    for file in files:
        await bucket.delete(file.object_name)


async def _bucket(js: JetStreamContext, namespace: str) -> ObjectStore:
    try:
        return await js.object_store(r.reports_bucket(namespace))
    except BucketNotFoundError:
        return await js.create_object_store(r.reports_bucket(namespace))
