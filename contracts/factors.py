"""The factors service's contract: its events, its endpoints and their models.

A factor is one emission factor of one activity kind and one component (combustion,
upstream, generation...), owned by a tenant ("global" for the shared catalogue). Each
revision is a new version; older versions stay readable. A release is a named, frozen set
of factor versions (e.g. `ademe-base-empreinte`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from kernel.endpoints import EndpointSpec
from kernel.events import DomainEvent, EventCatalogue

SERVICE = "factors"
GLOBAL_TENANT = "global"
ADMIN = frozenset({"admin"})

Component = Literal[
    "combustion", "upstream", "generation", "td_losses", "td_upstream", "direct", "total"
]
Scope = Literal[1, 2, 3]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FactorValues(_Model):
    """The figures and provenance of one factor version."""

    unit: str = Field(min_length=1, description="pint unit of the activity (the denominator)")
    kgco2e_per_unit: float = Field(ge=0)
    min_kgco2e_per_unit: float | None = Field(default=None, ge=0)
    max_kgco2e_per_unit: float | None = Field(default=None, ge=0)
    uncertainty_pct: float | None = Field(default=None, ge=0, le=1000)
    gases: dict[str, float] = Field(default_factory=dict, description="kg of each gas per unit")
    region: str = Field(min_length=2, max_length=12)
    valid_from: date
    valid_until: date | None = Field(default=None, description="first day no longer valid")
    scope: Scope
    category: int | None = Field(default=None, description="GHG Protocol scope 3 category")
    source: str = Field(min_length=1)
    source_detail: str = ""
    licence: str = Field(min_length=1)
    year: int = Field(ge=1900, le=2200)
    description: str = ""


class FactorDraft(FactorValues):
    """A factor to publish: what it is for, plus its first version's figures."""

    activity_kind: str
    component: Component


# ---- events ------------------------------------------------------------------------------


class FactorPublished(DomainEvent):
    event_type = "FactorPublished"
    factor_id: str
    activity_kind: str
    component: Component
    values: FactorValues


class FactorRevised(DomainEvent):
    event_type = "FactorRevised"
    factor_id: str
    version: int
    values: FactorValues
    reason: str


class FactorRetired(DomainEvent):
    event_type = "FactorRetired"
    factor_id: str
    version: int
    retired_from: date
    reason: str


class ReleaseMember(_Model):
    factor_id: str
    version: int = Field(ge=1)


class ReleasePublished(DomainEvent):
    event_type = "ReleasePublished"
    release_id: str
    name: str
    description: str
    members: list[ReleaseMember]


class CloudReleasePublished(DomainEvent):
    """A Boavizta cloud release (every instance's parameters and the grid factors it uses),
    carried whole so compute can compute cloud usage without calling anyone."""

    event_type = "CloudReleasePublished"
    name: str
    content_sha256: str
    release: dict[str, Any]


EVENTS = EventCatalogue(
    FactorPublished, FactorRevised, FactorRetired, ReleasePublished, CloudReleasePublished
)


# ---- views -------------------------------------------------------------------------------


class FactorView(_Model):
    """One factor version as the catalogue knows it."""

    factor_id: str
    version: int
    latest_version: int
    tenant_id: str
    activity_kind: str
    component: Component
    values: FactorValues
    retired_from: date | None = None
    recorded_at: datetime
    releases: list[str] = Field(default_factory=list)


class FacetCount(_Model):
    value: str
    count: int


class FactorPage(_Model):
    results: list[FactorView]
    total: int
    page: int
    page_size: int
    possible_filters: dict[str, list[FacetCount]]


class ResolvedComponent(_Model):
    component: Component
    factor: FactorView
    region_used: str
    fallback: bool
    out_of_validity: bool


class Resolution(_Model):
    activity_kind: str
    region: str
    on: date
    components: list[ResolvedComponent]
    unresolved: str | None = Field(default=None, description="why nothing resolved")


class ReleaseView(_Model):
    release_id: str
    name: str
    description: str
    tenant_id: str
    members: list[ReleaseMember]
    recorded_at: datetime


class ReleaseList(_Model):
    releases: list[ReleaseView]


class FactorAccepted(_Model):
    factor_id: str
    version: int


# ---- requests ----------------------------------------------------------------------------


class SearchFactors(_Model):
    text: str | None = None
    activity_kind: str | None = None
    component: Component | None = None
    region: str | None = None
    source: str | None = None
    scope: Scope | None = None
    release: str | None = None
    include_retired: bool = False
    page: int = Field(default=1, ge=1)
    page_size: int = Field(default=50, ge=1, le=500)


class GetFactor(_Model):
    factor_id: str
    version: int | None = Field(default=None, ge=1)
    as_of: datetime | None = Field(default=None, description="the catalogue as known then")


class ResolveFactors(_Model):
    activity_kind: str
    region: str
    on: date
    releases: list[str] | None = None
    allow_fallback: bool = False
    as_of: datetime | None = None


class PublishFactor(_Model):
    factor: FactorDraft
    idempotency_key: str | None = None


class ReviseFactor(_Model):
    factor_id: str
    expected_version: int = Field(ge=1)
    values: FactorValues
    reason: str = Field(min_length=1)


class RetireFactor(_Model):
    factor_id: str
    expected_version: int = Field(ge=1)
    retired_from: date
    reason: str = Field(min_length=1)


class PublishRelease(_Model):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{1,62}$")
    description: str = ""
    members: list[ReleaseMember] = Field(min_length=1)
    idempotency_key: str | None = None


class ListReleases(_Model):
    pass


SEARCH = EndpointSpec(SERVICE, "search", SearchFactors, FactorPage)
GET = EndpointSpec(SERVICE, "get", GetFactor, FactorView)
RESOLVE = EndpointSpec(SERVICE, "resolve", ResolveFactors, Resolution)
LIST_RELEASES = EndpointSpec(SERVICE, "list_releases", ListReleases, ReleaseList)
PUBLISH = EndpointSpec(SERVICE, "publish", PublishFactor, FactorAccepted, ADMIN)
REVISE = EndpointSpec(SERVICE, "revise", ReviseFactor, FactorAccepted, ADMIN)
RETIRE = EndpointSpec(SERVICE, "retire", RetireFactor, FactorAccepted, ADMIN)
PUBLISH_RELEASE = EndpointSpec(SERVICE, "publish_release", PublishRelease, ReleaseView, ADMIN)
