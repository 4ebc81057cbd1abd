"""CSRD reports: generate one (compliance), read them back with what they were built from."""

from __future__ import annotations

from datetime import date, datetime

import strawberry
from strawberry.scalars import JSON

from contracts import reporting as r
from gateway.schema.common import AUDITORS, CAMPAIGNERS, PAGE_ARGUMENTS, GqlInfo, build, call, given
from gateway.schema.footprint import AsOfInput, when


@strawberry.type
class ReportOrganisation:
    name: str
    identifier: str
    scheme: str


@strawberry.type(description="One file of a report, in the reports object store bucket.")
class ReportFile:
    name: str
    sha256: str
    size: int
    object_name: str


@strawberry.type(description="A generated report: its files and what it was built from.")
class Report:
    id: strawberry.ID
    organisation: ReportOrganisation
    period_start: date
    period_end: date
    base_year: int | None
    as_of: datetime
    positions: JSON = strawberry.field(description="per service log read: the last position")
    content_hash: str
    files: list[ReportFile]
    notes: list[str]
    releases: list[str] = strawberry.field(description="factor releases behind the figures")
    methods: list[str] = strawberry.field(description="methods behind the figures, versioned")
    generated_at: datetime
    actor: str

    @staticmethod
    def of(v: r.ReportView) -> Report:
        return Report(
            id=strawberry.ID(str(v.report_id)),
            organisation=ReportOrganisation(**v.organisation.model_dump()),
            period_start=v.period_start,
            period_end=v.period_end,
            base_year=v.base_year,
            as_of=v.as_of,
            positions=JSON(dict(v.positions)),
            content_hash=v.content_hash,
            files=[ReportFile(**f.model_dump()) for f in v.files],
            notes=list(v.notes),
            releases=list(v.releases),
            methods=list(v.methods),
            generated_at=v.generated_at,
            actor=v.actor,
        )


@strawberry.type
class ReportPage:
    items: list[Report]
    next_cursor: str | None


@strawberry.input
class OrganisationInput:
    name: str
    identifier: str = strawberry.field(description="an LEI by default")
    scheme: str | None = None


@strawberry.input(description="Shares (adding up to 1) of a purchased energy's sources.")
class MixInput:
    fossil: float
    nuclear: float
    renewable: float


@strawberry.input(description="A CSRD E1 report to generate from the ledger.")
class GenerateReportInput:
    organisation: OrganisationInput
    period_start: date
    period_end: date = strawberry.field(description="first day after the period")
    net_revenue_eur: float
    base_year: int | None = None
    significant_scope3: list[int] | None = None
    as_of: AsOfInput | None = None
    electricity_mix: MixInput | None = None
    heat_mix: MixInput | None = None
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="a retry with the same key and input answers the first report",
    )


async def generate_report(info: GqlInfo, input: GenerateReportInput) -> Report:
    """Generate a CSRD E1 report (compliance, admin): iXBRL and tabular files, hashed."""
    data = given(**vars(input))
    data["organisation"] = given(**vars(input.organisation))
    data["as_of"] = when(input.as_of)
    for mix in ("electricity_mix", "heat_mix"):
        if mix in data:
            data[mix] = vars(data[mix])
    request = build(r.GenerateReport, **data)
    return Report.of(await call(info, r.GENERATE_REPORT, request, *CAMPAIGNERS))


async def report(info: GqlInfo, id: strawberry.ID) -> Report:
    """One generated report of the organisation (auditor, compliance, admin)."""
    request = build(r.GetReport, report_id=id)
    return Report.of(await call(info, r.GET_REPORT, request, *AUDITORS))


async def reports(info: GqlInfo, first: int = 50, after: str | None = None) -> ReportPage:
    """The organisation's generated reports (auditor, compliance, admin)."""
    request = build(r.ListReports, named=PAGE_ARGUMENTS, limit=first, after=after)
    page = await call(info, r.LIST_REPORTS, request, *AUDITORS)
    return ReportPage(items=[Report.of(v) for v in page.items], next_cursor=page.next)
