"""Factor mutations (admin): publish a factor of the organisation's own, revise it, retire it."""

from __future__ import annotations

from datetime import date
from typing import Any

import strawberry
from strawberry.scalars import JSON

from contracts import factors as f
from gateway.schema.common import ADMIN, GqlInfo, build, call, given


@strawberry.input(description="The figures and provenance of a factor version.")
class FactorValuesInput:
    unit: str
    kgco2e_per_unit: float
    region: str
    valid_from: date
    scope: int
    source: str
    licence: str
    year: int
    min_kgco2e_per_unit: float | None = None
    max_kgco2e_per_unit: float | None = None
    uncertainty_pct: float | None = None
    gases: JSON | None = None
    valid_until: date | None = None
    category: int | None = None
    source_detail: str | None = None
    description: str | None = None


@strawberry.input(description="A factor to publish: what it is for and its first figures.")
class FactorDraftInput:
    activity_kind: str
    component: str
    values: FactorValuesInput


@strawberry.type(description="The factor version a publication, revision or retirement made.")
class FactorAccepted:
    factor_id: strawberry.ID
    version: int


def _values(values: FactorValuesInput) -> dict[str, Any]:
    return given(**vars(values))


def _accepted(a: f.FactorAccepted) -> FactorAccepted:
    return FactorAccepted(factor_id=strawberry.ID(a.factor_id), version=a.version)


async def publish_factor(
    info: GqlInfo, factor: FactorDraftInput, idempotency_key: str | None = None
) -> FactorAccepted:
    """Publish a factor owned by the caller's organisation (admin)."""
    draft = {
        "activity_kind": factor.activity_kind,
        "component": factor.component,
        **_values(factor.values),
    }
    request = build(f.PublishFactor, factor=draft, idempotency_key=idempotency_key)
    return _accepted(await call(info, f.PUBLISH, request, *ADMIN))


async def revise_factor(
    info: GqlInfo,
    factor_id: strawberry.ID,
    expected_version: int,
    values: FactorValuesInput,
    reason: str,
) -> FactorAccepted:
    """A new version of one of the organisation's factors (admin)."""
    request = build(
        f.ReviseFactor,
        factor_id=factor_id,
        expected_version=expected_version,
        values=_values(values),
        reason=reason,
    )
    return _accepted(await call(info, f.REVISE, request, *ADMIN))


async def retire_factor(
    info: GqlInfo,
    factor_id: strawberry.ID,
    expected_version: int,
    retired_from: date,
    reason: str,
) -> FactorAccepted:
    """Retire one of the organisation's factors from a day on (admin)."""
    request = build(
        f.RetireFactor,
        factor_id=factor_id,
        expected_version=expected_version,
        retired_from=retired_from,
        reason=reason,
    )
    return _accepted(await call(info, f.RETIRE, request, *ADMIN))
