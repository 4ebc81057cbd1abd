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

SERVICE = "reporting"
Dimension = Literal[
    "scope",
    "scope2_basis",
    "category",
    "post",
    "country",
    "site",
    "month",
    "activity_kind",
    "component",
    "source_kind",
]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Filters(_Model):
    """Which emissions count: a period (activities starting in it) and optional equalities."""

    period_start: date
    period_end: date = Field(description="first day after the period")
    scope: int | None = None
    post: str | None = None
    country: str | None = None
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
