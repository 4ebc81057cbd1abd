"""The reporting service's contract: footprint queries, lineage, restatement diffs, reports.

Every figure comes with its range (min, max) and the position in compute's log it was read
at, so it can be reproduced and traced.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from contracts.compute import EmissionLine, Kg
from kernel.endpoints import EndpointSpec
from kernel.events import DomainEvent, EventCatalogue

SERVICE = "reporting"
Dimension = Literal[
    "scope",
    "scope2_basis",
    "category",
    "post",
    "country",
    "device",
    "site",
    "month",
    "activity_kind",
    "component",
    "source_kind",
]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Filters(_Model):
    """Which emissions count: a period (activities starting in it) and optional equalities.

    Country and device apply to each emission's parts: a request log's data-centre segment
    belongs to the server's country, its network and user-device segments to the client's
    country (METHODS §1); an activity is whole in its own country and in device
    "unspecified". Device and country cannot be combined (grouped or filtered) in one query.
    """

    period_start: date
    period_end: date = Field(description="first day after the period")
    scope: int | None = None
    post: str | None = None
    country: str | None = None
    device: str | None = Field(default=None, description='"unspecified" for activities')
    site: str | None = None
    activity_kind: str | None = None


class AsOf(_Model):
    """The ledger as known at a past instant or position; both None means now."""

    instant: datetime | None = None
    position: int | None = Field(default=None, ge=0, description="compute's global position")


class Footprint(_Model):
    filters: Filters
    group_by: list[Dimension] = Field(default_factory=list, max_length=4)
    as_of: AsOf = AsOf()


class FootprintGroup(_Model):
    key: dict[str, str | int | None]
    kg: Kg
    share: float = Field(description="of the total value, 0..1")
    emissions: int


class FootprintAnswer(_Model):
    total: Kg
    groups: list[FootprintGroup]
    unresolved: int = Field(description="sources in the filters without a figure yet")
    position: int = Field(description="compute's log position the answer was read at")


class Lineage(_Model):
    filters: Filters
    as_of: AsOf = AsOf()
    limit: int = Field(default=100, ge=1, le=1000)


class LineageItem(_Model):
    source_id: UUID
    source_kind: str
    activity_kind: str
    status: str
    total: Kg | None
    inside: Kg | None = Field(
        default=None, description="the part of the total in the filter's device or country"
    )
    lines: list[EmissionLine]
    compute_event_id: UUID
    compute_position: int
    source_event_id: UUID | None
    sha256: str | None


class LineageAnswer(_Model):
    items: list[LineageItem]
    position: int


class Diff(_Model):
    filters: Filters
    before: AsOf
    after: AsOf = AsOf()


class DiffItem(_Model):
    source_id: UUID
    activity_kind: str
    before: Kg | None
    after: Kg | None
    cause: str | None = Field(description="what changed it, from compute's last event")
    compute_event_id: UUID | None


class DiffAnswer(_Model):
    items: list[DiffItem]
    total_before: Kg
    total_after: Kg


AUDIT = frozenset({"auditor", "compliance", "admin", "service"})
FOOTPRINT = EndpointSpec(SERVICE, "footprint", Footprint, FootprintAnswer)
LINEAGE = EndpointSpec(SERVICE, "lineage", Lineage, LineageAnswer, AUDIT)
DIFF = EndpointSpec(SERVICE, "diff", Diff, DiffAnswer, AUDIT)


def changes_subject(namespace: str, tenant_id: str) -> str:
    """Core NATS subject a small change notice goes to after each projection update."""
    return f"{namespace}.reporting.changes.{tenant_id}"


class FootprintChanged(_Model):
    """The notice on `changes_subject`: which source moved, at which compute position."""

    tenant_id: str
    source_id: UUID
    status: str
    compute_position: int


# ---- CSRD reports ------------------------------------------------------------------------

GENERATE_ROLES = frozenset({"compliance", "admin"})
LEI_SCHEME = "http://standards.iso.org/iso/17442"


class Organisation(_Model):
    name: str = Field(min_length=1, max_length=300)
    identifier: str = Field(min_length=1, max_length=100, description="an LEI by default")
    scheme: str = Field(default=LEI_SCHEME, description="the identifier scheme URI")


class Mix(_Model):
    """Shares (fractions adding up to 1) of a purchased energy's sources: grid or supplier mix."""

    fossil: float = Field(ge=0, le=1)
    nuclear: float = Field(ge=0, le=1)
    renewable: float = Field(ge=0, le=1)


class GenerateReport(_Model):
    """A CSRD E1 report from the ledger as known at `as_of` (default: now, pinned to a position).

    Energy (E1-5) is derived from the ledger's energy activities; the purchased electricity
    and heat are split by the mixes given here (required when the ledger holds any). With an
    idempotency key, a retry answers the first report instead of generating another."""

    idempotency_key: str | None = Field(default=None, min_length=1, max_length=200)
    organisation: Organisation
    period_start: date
    period_end: date = Field(description="first day after the period")
    base_year: int | None = Field(default=None, ge=1990, le=2100)
    net_revenue_eur: float = Field(gt=0, allow_inf_nan=False)
    significant_scope3: list[int] = Field(default_factory=list, max_length=15)
    as_of: AsOf = AsOf()
    electricity_mix: Mix | None = None
    heat_mix: Mix | None = None


class ReportFile(_Model):
    name: str
    sha256: str
    size: int
    object_name: str = Field(description="in the `<namespace>_reports` object store bucket")


class ReportFacts(_Model):
    """What a report was built from (log positions, input hash) and the files written."""

    report_id: UUID
    organisation: Organisation
    period_start: date
    period_end: date = Field(description="first day after the period")
    base_year: int | None
    as_of: datetime = Field(description="the instant the figures are as of")
    positions: dict[str, int] = Field(description="per service log read: the last position")
    content_hash: str
    files: list[ReportFile]
    notes: list[str] = Field(description="how figures were derived where a choice was made")
    releases: list[str] = Field(default_factory=list, description="factor releases used")
    methods: list[str] = Field(default_factory=list, description="methods used, with versions")


class ReportGenerated(DomainEvent, ReportFacts):
    event_type = "ReportGenerated"


class ReportView(ReportFacts):
    generated_at: datetime
    actor: str


class GetReport(_Model):
    report_id: UUID


class ListReports(_Model):
    limit: int = Field(default=50, ge=1, le=500)
    after: str | None = Field(default=None, description="opaque cursor from the last page")


class ReportPage(_Model):
    items: list[ReportView]
    next: str | None


# ---- time series, comparison, unresolved -------------------------------------------------


class Timeseries(_Model):
    filters: Filters
    as_of: AsOf = AsOf()


class MonthTotal(_Model):
    month: str = Field(description="YYYY-MM")
    kg: Kg


class TimeseriesAnswer(_Model):
    months: list[MonthTotal] = Field(description="every month of the period, zeros included")
    position: int


class Compare(_Model):
    """This period (`filters`) against a base period, with the same other filters."""

    filters: Filters
    base_start: date
    base_end: date = Field(description="first day after the base period")
    group_by: list[Dimension] = Field(default_factory=list, max_length=4)
    as_of: AsOf = AsOf()


class ComparedGroup(_Model):
    key: dict[str, str | int | None]
    current: Kg
    base: Kg
    change_pct: float | None = Field(description="(current - base) / base x 100; None if base 0")


class CompareAnswer(_Model):
    groups: list[ComparedGroup]
    position: int


class ListUnresolved(_Model):
    limit: int = Field(default=100, ge=1, le=1000)
    after: str | None = Field(default=None, description="opaque cursor from the last page")


class UnresolvedItem(_Model):
    source_id: UUID
    activity_kind: str
    site: str
    country: str
    period_start: date
    period_end: date
    reason: str
    compute_position: int


class UnresolvedPage(_Model):
    items: list[UnresolvedItem]
    next: str | None
    total: int


GENERATE_REPORT = EndpointSpec(
    SERVICE, "generate_report", GenerateReport, ReportView, GENERATE_ROLES
)
GET_REPORT = EndpointSpec(SERVICE, "get_report", GetReport, ReportView, AUDIT)
LIST_REPORTS = EndpointSpec(SERVICE, "list_reports", ListReports, ReportPage, AUDIT)
TIMESERIES = EndpointSpec(SERVICE, "timeseries", Timeseries, TimeseriesAnswer)
COMPARE = EndpointSpec(SERVICE, "compare", Compare, CompareAnswer)
UNRESOLVED = EndpointSpec(SERVICE, "unresolved", ListUnresolved, UnresolvedPage)
EVENTS = EventCatalogue(ReportGenerated)


def reports_bucket(namespace: str) -> str:
    """The JetStream object store bucket holding generated reports' files."""
    return f"{namespace}_reports"
