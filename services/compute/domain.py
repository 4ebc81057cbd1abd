"""Emissions of activities: which factors apply, how much, and which event to record.

Pure: activity state and factor versions in, events out. The factor rule is the factors
service's own (contracts.factor_resolution), applied to compute's read model of factors.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any
from uuid import UUID

from pint import DimensionalityError

from contracts.activity_kinds import ACTIVITY_KINDS
from contracts.compute import (
    Cause,
    Emission,
    EmissionCalculated,
    EmissionLine,
    EmissionRestated,
    EmissionUnresolved,
    EmissionWithdrawn,
    FactorRef,
    Kg,
    Method,
    Source,
)
from contracts.factor_resolution import resolve
from contracts.factors import FactorValues, FactorView, Resolution, ResolvedComponent
from contracts.units import convert
from kernel.events import DomainEvent

METHOD = Method(name="activity-factor", version="1")


@dataclass(frozen=True)
class ActivityState:
    """An activity as compute knows it from inventory's events."""

    activity_id: UUID
    tenant_id: str
    kind: str
    quantity: float
    unit: str
    period_start: date
    period_end: date
    site: str
    region: str
    event_id: UUID
    stream_version: int
    retracted: bool = False
    attributes: Mapping[str, Any] = field(default_factory=dict)

    @property
    def source(self) -> Source:
        return Source(
            kind="activity",
            id=self.activity_id,
            event_id=self.event_id,
            stream_version=self.stream_version,
        )


@dataclass(frozen=True)
class EmissionStatus:
    """What the emission stream of a source last said."""

    status: str  # calculated | unresolved | withdrawn
    emission: Emission | None
    reason: str | None
    version: int


Outcome = Emission | str  # an emission, or why none could be computed


def resolve_preferring(
    candidates: Sequence[FactorView], activity: ActivityState, releases: Sequence[str],
    *, allow_fallback: bool,
) -> Resolution:  # fmt: skip
    """The first of `releases` (in order of preference) that resolves, else the catalogue."""
    ask = {
        "activity_kind": activity.kind,
        "region": activity.region,
        "on": activity.period_start,
        "tenant_id": activity.tenant_id,
        "allow_fallback": allow_fallback,
    }
    for release in releases:
        found = resolve(candidates, releases=[release], **ask)  # type: ignore[arg-type]
        if found.unresolved is None:
            return found
    return resolve(candidates, releases=None, **ask)  # type: ignore[arg-type]


def calculate(activity: ActivityState, resolution: Resolution) -> Outcome:
    """The emission of `activity` with the resolved factors, or the reason there is none."""
    if resolution.unresolved is not None:
        return resolution.unresolved
    lines: list[EmissionLine] = []
    for component in resolution.components:
        line = _line(activity, component)
        if isinstance(line, str):
            return line
        lines.append(line)
    return _emission(activity, lines)


def _line(activity: ActivityState, rc: ResolvedComponent) -> EmissionLine | str:
    values = rc.factor.values
    try:
        quantity = convert_quantity(activity.quantity, activity.unit, values.unit)
    except DimensionalityError:
        return (
            f"factor {rc.factor.factor_id} v{rc.factor.version} is per {values.unit}; "
            f"the activity is in {activity.unit}"
        )
    low, mid, high = factor_bounds(values)
    return EmissionLine(
        component=rc.component,
        scope=values.scope,
        category=values.category,
        scope2_basis="location" if values.scope == 2 else None,
        kg=Kg(value=quantity * mid, min=quantity * low, max=quantity * high),
        factor=_ref(rc),
        quantity=quantity,
        unit=values.unit,
    )


def convert_quantity(quantity: float, unit: str, to_unit: str) -> float:
    """`contracts.units.convert`, with the same result, without parsing units every time."""
    per_unit = _per_unit(unit, to_unit)
    return convert(quantity, unit, to_unit) if per_unit is None else quantity * per_unit


@lru_cache(maxsize=1024)
def _per_unit(unit: str, to_unit: str) -> float | None:
    # Parsing unit strings cost ~0.6 ms a line. For a plain scale pint multiplies the
    # magnitude by this very factor, so quantity * factor is bit-for-bit its answer; an
    # offset scale (degC) maps 0 elsewhere and has no single factor.
    if convert(0.0, unit, to_unit) != 0.0:
        return None
    return convert(1.0, unit, to_unit)


def factor_bounds(values: FactorValues) -> tuple[float, float, float]:
    """(min, value, max) kgCO2e per unit: given bounds, else ± uncertainty %, else exact."""
    mid = values.kgco2e_per_unit
    if values.min_kgco2e_per_unit is not None and values.max_kgco2e_per_unit is not None:
        return values.min_kgco2e_per_unit, mid, values.max_kgco2e_per_unit
    spread = mid * (values.uncertainty_pct or 0.0) / 100
    return max(0.0, mid - spread), mid, mid + spread


# Each resolved component's FactorRef, by the component's identity: the factor cache hands
# out the same components for every activity resolved alike, and validating a new ref for
# each line was a tenth of an activity's emission. An entry holds its component, so no other
# object can take that id while the entry lives; refs are frozen, safe to share.
_REFS: dict[int, tuple[ResolvedComponent, FactorRef]] = {}
REFS_KEPT = 4096  # then start afresh: components of old cache entries are not asked again


def _ref(rc: ResolvedComponent) -> FactorRef:
    found = _REFS.get(id(rc))
    if found is not None and found[0] is rc:
        return found[1]
    if len(_REFS) >= REFS_KEPT:
        _REFS.clear()
    ref = _new_ref(rc)
    _REFS[id(rc)] = (rc, ref)
    return ref


def _new_ref(rc: ResolvedComponent) -> FactorRef:
    f = rc.factor
    return FactorRef(
        factor_id=f.factor_id,
        version=f.version,
        releases=list(f.releases),
        source=f.values.source,
        region_used=rc.region_used,
        fallback=rc.fallback,
        out_of_validity=rc.out_of_validity,
    )


def emission_of(
    activity: ActivityState, lines: list[EmissionLine], method: Method = METHOD
) -> Emission:
    """The emission of `activity` made of `lines` (their kg add up to its total)."""
    return _emission(activity, lines, method)


def _emission(
    activity: ActivityState, lines: list[EmissionLine], method: Method = METHOD
) -> Emission:
    total = Kg(
        value=sum(line.kg.value for line in lines),
        min=sum(line.kg.min for line in lines),
        max=sum(line.kg.max for line in lines),
    )
    kind = ACTIVITY_KINDS.get(activity.kind)
    return Emission(
        source=activity.source,
        activity_kind=activity.kind,
        post=kind.post if kind else "other",
        site=activity.site,
        country=activity.region.split("-", 1)[0],
        period_start=activity.period_start,
        period_end=activity.period_end,
        lines=lines,
        total=total,
        method=method,
    )


def decide(
    activity: ActivityState, outcome: Outcome, previous: EmissionStatus | None, cause: Cause
) -> DomainEvent | None:
    """The event that records `outcome`, or None when nothing changed."""
    if activity.retracted:
        if previous is None or previous.status == "withdrawn":
            return None
        before = previous.emission.total if previous.emission else None
        return EmissionWithdrawn(source=activity.source, previous_total=before, cause=cause)
    if isinstance(outcome, str):
        return _unresolved(activity, outcome, previous, cause)
    return decide_figures(outcome, previous, cause)


def decide_figures(
    emission: Emission, previous: EmissionStatus | None, cause: Cause
) -> DomainEvent | None:
    """Calculated the first time, restated when a figure or factor changed, else None."""
    if previous is None or previous.emission is None:
        return EmissionCalculated(emission=emission, cause=cause)
    if _same_figures(previous.emission, emission) and previous.status == "calculated":
        return None
    return EmissionRestated(emission=emission, previous_total=previous.emission.total, cause=cause)


def _unresolved(
    activity: ActivityState, reason: str, previous: EmissionStatus | None, cause: Cause
) -> DomainEvent | None:
    if previous is not None and previous.status == "unresolved" and previous.reason == reason:
        return None
    return EmissionUnresolved(
        source=activity.source,
        activity_kind=activity.kind,
        site=activity.site,
        country=activity.region.split("-", 1)[0],
        period_start=activity.period_start,
        period_end=activity.period_end,
        reason=reason,
        cause=cause,
    )


def _same_figures(before: Emission, after: Emission) -> bool:
    # Lineage aside (the source event moves on), did any figure or factor change?
    strip = {"source"}
    return before.model_dump(exclude=strip) == after.model_dump(exclude=strip)
