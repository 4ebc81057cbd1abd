"""The Factor aggregate: invariants of a factor version, and its versioning decisions.

Pure: no I/O. Every refusal is a `RequestRefused` naming the field at fault.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date

from contracts.activity_kinds import ACTIVITY_KINDS
from contracts.factors import (
    FactorDraft,
    FactorPublished,
    FactorRetired,
    FactorRevised,
    FactorValues,
    RetireFactor,
    ReviseFactor,
)
from contracts.units import dimension_of
from kernel.errors import RequestRefused

WIDE_REGIONS = ("EU", "WORLD", "INT")
_REGION = re.compile(r"^(?:[A-Z]{3}(?:-[A-Z0-9]{1,3})?|EU|WORLD|INT)$")
_GAS = re.compile(r"^[A-Za-z0-9_]{1,20}$")


def check_draft(draft: FactorDraft) -> FactorDraft:
    """The draft with min/max filled from its uncertainty; refused when it breaks a rule."""
    kind = ACTIVITY_KINDS.get(draft.activity_kind)
    if kind is None:
        raise RequestRefused(
            "unknown_activity_kind",
            f"{draft.activity_kind!r} is not an activity kind of contracts.activity_kinds",
            "factor.activity_kind",
        )
    values = check_values(draft, draft.activity_kind, "factor")
    return draft.model_copy(update=values.model_dump())


def check_values(values: FactorValues, activity_kind: str, at: str) -> FactorValues:
    """`values` with min/max filled from the uncertainty; `at` prefixes the fields named."""
    _check_unit(values.unit, activity_kind, f"{at}.unit")
    check_region(values.region, f"{at}.region")
    _check_validity(values, at)
    _check_scope(values, at)
    _check_gases(values, f"{at}.gases")
    filled = with_range(values)
    _check_range(filled, at)
    return filled


def _check_unit(unit: str, activity_kind: str, field: str) -> None:
    try:
        found = dimension_of(unit)
    except ValueError as error:
        raise RequestRefused("unknown_unit", str(error), field) from None
    expected = ACTIVITY_KINDS[activity_kind].dimension
    if found != expected:
        raise RequestRefused(
            "unit_mismatch",
            f"unit {unit!r} is {found}, but activity kind {activity_kind!r} is measured in "
            f"{expected} (e.g. {ACTIVITY_KINDS[activity_kind].default_unit})",
            field,
        )


def check_region(region: str, field: str) -> None:
    if not _REGION.match(region):
        raise RequestRefused(
            "invalid_region",
            f"region {region!r} must be an ISO 3166-1 alpha-3 code (FRA), a sub-national code "
            "(GBR-LND), EU, WORLD or INT",
            field,
        )


def _check_validity(values: FactorValues, at: str) -> None:
    if values.valid_until is not None and values.valid_until <= values.valid_from:
        raise RequestRefused(
            "invalid_validity",
            f"valid_until {values.valid_until} must come after valid_from {values.valid_from}",
            f"{at}.valid_until",
        )


def _check_scope(values: FactorValues, at: str) -> None:
    category = values.category
    if values.scope == 3 and (category is None or not 1 <= category <= 15):
        raise RequestRefused(
            "invalid_category",
            f"a scope 3 factor needs a GHG Protocol category from 1 to 15, got {category}",
            f"{at}.category",
        )
    if values.scope != 3 and category is not None:
        raise RequestRefused(
            "invalid_category",
            f"only scope 3 factors have a category; scope {values.scope} got {category}",
            f"{at}.category",
        )


def _check_gases(values: FactorValues, field: str) -> None:
    for gas, amount in values.gases.items():
        if not _GAS.match(gas):
            raise RequestRefused("invalid_gas", f"gas name {gas!r} is not a formula", field)
        if amount < 0:
            raise RequestRefused("invalid_gas", f"{gas} cannot be negative ({amount})", field)


def with_range(values: FactorValues) -> FactorValues:
    """`values` with min/max derived from the uncertainty % where the source gave none."""
    pct = values.uncertainty_pct
    if pct is None or values.min_kgco2e_per_unit is not None:
        return values
    if values.max_kgco2e_per_unit is not None:
        return values
    value = values.kgco2e_per_unit
    low, high = max(0.0, value * (1 - pct / 100)), value * (1 + pct / 100)
    return values.model_copy(update={"min_kgco2e_per_unit": low, "max_kgco2e_per_unit": high})


def _check_range(values: FactorValues, at: str) -> None:
    value, low, high = (
        values.kgco2e_per_unit,
        values.min_kgco2e_per_unit,
        values.max_kgco2e_per_unit,
    )
    if low is not None and low > value:
        raise RequestRefused(
            "invalid_range", f"min {low} is above the value {value}", f"{at}.min_kgco2e_per_unit"
        )
    if high is not None and high < value:
        raise RequestRefused(
            "invalid_range", f"max {high} is below the value {value}", f"{at}.max_kgco2e_per_unit"
        )


# ---- the aggregate -----------------------------------------------------------------------


@dataclass(frozen=True)
class Factor:
    """A factor's current state, as its stream tells it."""

    factor_id: str
    tenant_id: str
    activity_kind: str
    version: int
    values: FactorValues
    retired_from: date | None = None


def published(event: FactorPublished, tenant_id: str) -> Factor:
    """The state of a factor just published."""
    return Factor(event.factor_id, tenant_id, event.activity_kind, 1, event.values)


def evolve(factor: Factor, event: FactorRevised | FactorRetired) -> Factor:
    """`factor` after `event`."""
    if isinstance(event, FactorRevised):
        return replace(factor, version=event.version, values=event.values)
    return replace(factor, retired_from=event.retired_from)


def revise(factor: Factor, command: ReviseFactor, tenant_id: str) -> FactorRevised:
    """The revision `command` asks for: version n+1 with new figures."""
    _check_writable(factor, command.expected_version, tenant_id)
    values = check_values(command.values, factor.activity_kind, "values")
    return FactorRevised(
        factor_id=factor.factor_id,
        version=factor.version + 1,
        values=values,
        reason=command.reason,
    )


def retire(factor: Factor, command: RetireFactor, tenant_id: str) -> FactorRetired:
    """The retirement `command` asks for: the factor stops applying from `retired_from`."""
    _check_writable(factor, command.expected_version, tenant_id)
    if command.retired_from < factor.values.valid_from:
        raise RequestRefused(
            "invalid_retirement",
            f"retired_from {command.retired_from} is before the factor's validity starts "
            f"({factor.values.valid_from})",
            "retired_from",
        )
    return FactorRetired(
        factor_id=factor.factor_id,
        version=factor.version,
        retired_from=command.retired_from,
        reason=command.reason,
    )


def _check_writable(factor: Factor, expected_version: int, tenant_id: str) -> None:
    if factor.tenant_id != tenant_id:
        raise RequestRefused(
            "not_owner",
            f"factor {factor.factor_id} belongs to the {factor.tenant_id!r} catalogue",
            "factor_id",
        )
    if factor.retired_from is not None:
        raise RequestRefused(
            "factor_retired",
            f"factor {factor.factor_id} was retired from {factor.retired_from}",
            "factor_id",
        )
    if expected_version != factor.version:
        raise RequestRefused(
            "version_conflict",
            f"factor {factor.factor_id} is at version {factor.version}, "
            f"not {expected_version}: read it again before changing it",
            "expected_version",
        )
