"""The compute service's contract: emissions with their lineage, and its endpoints.

One emission stream per source (`emission-<activity id>` or `emission-log-<log id>`): the
first figure is EmissionCalculated (or EmissionUnresolved when no factor applies), every
later change is EmissionRestated with its cause, and EmissionWithdrawn ends it when the
source is retracted. Earlier events stay, so the figure as known at any instant remains
answerable.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from contracts.factors import Component
from contracts.server_footprint import ServerFootprint
from kernel.endpoints import EndpointSpec
from kernel.events import DomainEvent, EventCatalogue

SERVICE = "compute"
Scope2Basis = Literal["location", "market"]
CauseKind = Literal[
    "activity_recorded",
    "activity_corrected",
    "activity_retracted",
    "factor_published",
    "factor_revised",
    "factor_retired",
    "release_published",
    "request_log_received",
]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Kg(_Model):
    """kgCO2e with its range (METHODS §7)."""

    value: float
    min: float
    max: float


class FactorRef(_Model):
    """Which factor version a line used, and how it was found."""

    factor_id: str
    version: int
    releases: list[str]
    source: str
    region_used: str
    fallback: bool
    out_of_validity: bool


class EmissionLine(_Model):
    """One component of an emission: a factor applied to the activity's quantity."""

    component: Component | str
    scope: Literal[1, 2, 3]
    scope2_basis: Scope2Basis | None = None
    category: int | None = None
    kg: Kg
    factor: FactorRef | None = None
    quantity: float = Field(description="the activity's quantity in the factor's unit")
    unit: str


class Source(_Model):
    """What the emission is about, down to the event that carried its input."""

    kind: Literal["activity", "request_log"]
    id: UUID
    event_id: UUID
    stream_version: int
    sha256: str | None = Field(default=None, description="the request-log file's content hash")


class Method(_Model):
    name: str
    version: str
    constants: dict[str, Any] = Field(default_factory=dict)


class Cause(_Model):
    kind: CauseKind
    event_id: UUID


class Emission(_Model):
    """An emission as computed: where it belongs, how much, and everything it came from."""

    source: Source
    activity_kind: str
    post: str
    site: str
    country: str
    period_start: date
    period_end: date
    lines: list[EmissionLine]
    total: Kg
    method: Method
    breakdown: dict[str, Any] = Field(default_factory=dict, description="request logs only")


class EmissionCalculated(DomainEvent):
    event_type = "EmissionCalculated"
    emission: Emission
    cause: Cause


class EmissionRestated(DomainEvent):
    event_type = "EmissionRestated"
    emission: Emission
    previous_total: Kg | None
    cause: Cause


class EmissionWithdrawn(DomainEvent):
    event_type = "EmissionWithdrawn"
    source: Source
    previous_total: Kg | None
    cause: Cause


class EmissionUnresolved(DomainEvent):
    """No factor applies (yet): the source waits in the unresolved queue, never silently zero."""

    event_type = "EmissionUnresolved"
    source: Source
    activity_kind: str
    site: str
    country: str
    period_start: date
    period_end: date
    reason: str
    cause: Cause


EVENTS = EventCatalogue(EmissionCalculated, EmissionRestated, EmissionWithdrawn, EmissionUnresolved)


# ---- endpoints ---------------------------------------------------------------------------


class EstimateActivity(_Model):
    """A what-if: an activity that is not stored."""

    kind: str
    quantity: float = Field(allow_inf_nan=False)
    unit: str
    period_start: date
    period_end: date
    site: str = "what-if"
    region: str
    attributes: dict[str, Any] = Field(default_factory=dict, description="e.g. cloud instance")


MAX_ESTIMATE_ROWS = 10_000
RequestModel = Literal["swd-v4", "swd-v3", "onebyte", "measured-device"]


class RequestRows(_Model):
    """What-if request rows, column by column: a request log's columns (METHODS §1-§2).

    Give ``server_country`` or ``cloud_region``; ``device`` is needed by measured-device,
    ``exec_ms`` (null: not measured) by measured-device only; ``count`` defaults to 1.
    """

    bytes: list[float] = Field(min_length=1, max_length=MAX_ESTIMATE_ROWS)
    client_country: list[str] = Field(max_length=MAX_ESTIMATE_ROWS)
    server_country: list[str] | None = Field(default=None, max_length=MAX_ESTIMATE_ROWS)
    cloud_region: list[str] | None = Field(default=None, max_length=MAX_ESTIMATE_ROWS)
    device: list[str] | None = Field(default=None, max_length=MAX_ESTIMATE_ROWS)
    exec_ms: list[float | None] | None = Field(default=None, max_length=MAX_ESTIMATE_ROWS)
    count: list[float] | None = Field(default=None, max_length=MAX_ESTIMATE_ROWS)


class EstimateRequests(_Model):
    """Requests computed by the per-request core, as a request log would be, storing nothing.

    ``server``: the servers' measured footprint replaces SWD's data-centre segment, each
    request taking its share (swd-v4 and measured-device).
    """

    rows: RequestRows
    period_start: date
    period_end: date
    site: str = "what-if"
    model: RequestModel = "swd-v4"
    server: ServerFootprint | None = None


class Estimate(_Model):
    """Activities, or requests, or both: the answer's total adds them up."""

    activities: list[EstimateActivity] = Field(default_factory=list, max_length=10_000)
    requests: EstimateRequests | None = None
    allow_fallback: bool = False

    @model_validator(mode="after")
    def _something(self) -> Estimate:
        if not self.activities and self.requests is None:
            raise ValueError("give at least one activity or the requests to estimate")
        return self


class EstimateItem(_Model):
    index: int
    emission: Emission | None = None
    unresolved: str | None = None


class Estimated(_Model):
    items: list[EstimateItem]
    requests: Emission | None = Field(default=None, description="the requests' emission")
    total: Kg


class GetEmission(_Model):
    source_id: UUID


class EmissionView(_Model):
    status: Literal["calculated", "unresolved", "withdrawn"]
    emission: Emission | None = None
    reason: str | None = None
    stream_version: int


class ListUnresolved(_Model):
    limit: int = Field(default=100, ge=1, le=1000)
    after: str | None = Field(default=None, description="opaque cursor from the last page")


class UnresolvedItem(_Model):
    source_id: UUID
    activity_kind: str
    country: str
    reason: str


class UnresolvedPage(_Model):
    items: list[UnresolvedItem]
    next: str | None
    total: int


ESTIMATE = EndpointSpec(SERVICE, "estimate", Estimate, Estimated)
GET = EndpointSpec(SERVICE, "get", GetEmission, EmissionView)
LIST_UNRESOLVED = EndpointSpec(SERVICE, "list_unresolved", ListUnresolved, UnresolvedPage)
