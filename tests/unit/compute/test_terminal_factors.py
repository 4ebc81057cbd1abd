"""Compute's generic path applied to Boavizta's terminal factors (release boavizta-2.5.0).

An activity of kind `device_embedded_<archetype>` (items) or `..._per_hour` (hours) is
computed like any other activity from the factor the catalogue resolves. These kinds are
region-independent (a device's manufacturing footprint does not depend on where it is
used), so their WORLD factors apply at any site with region fallback off, as compute runs,
and that is not reported as a fallback.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import cache
from uuid import uuid4

import pytest

from contracts.factors import FactorValues, FactorView
from services.compute.domain import ActivityState, calculate, resolve_preferring
from services.factors.terminals import terminal_drafts, terminals_release

RELEASE = "boavizta-2.5.0"


@cache
def catalogue() -> list[FactorView]:
    """The shipped terminal factors as the catalogue would show them."""
    views = []
    for index, (_, draft) in enumerate(terminal_drafts(terminals_release())):
        values = FactorValues.model_validate(
            draft.model_dump(exclude={"activity_kind", "component"})
        )
        views.append(
            FactorView(
                factor_id=f"factor-{index}",
                version=1,
                latest_version=1,
                tenant_id="global",
                activity_kind=draft.activity_kind,
                component=draft.component,
                values=values,
                recorded_at=datetime.now(UTC),
                releases=[RELEASE],
            )
        )
    return views


def activity(kind: str, quantity: float, unit: str) -> ActivityState:
    year = catalogue()[0].values.year
    return ActivityState(
        activity_id=uuid4(), tenant_id="acme", kind=kind, quantity=quantity, unit=unit,
        period_start=date(year, 1, 1), period_end=date(year + 1, 1, 1), site="paris",
        region="FRA", event_id=uuid4(), stream_version=1,
    )  # fmt: skip


def test_three_laptops_bought_weigh_three_times_boaviztas_embedded_impact() -> None:
    bought = activity("device_embedded_laptop_pro", 3, "item")
    found = resolve_preferring(catalogue(), bought, [RELEASE], allow_fallback=False)
    emission = calculate(bought, found)
    assert not isinstance(emission, str), emission
    [line] = emission.lines
    assert (line.scope, line.category, line.kg.value) == (3, 2, pytest.approx(3 * 181.0))
    assert line.factor is not None and line.factor.releases == [RELEASE]
    assert (line.factor.source, line.factor.region_used, line.factor.fallback) == (
        "Boavizta API 2.5.0", "WORLD", False,
    )  # fmt: skip
    assert emission.post == "purchases"


def test_a_year_of_a_smartphone_weighs_its_share_of_its_lifetime() -> None:
    used = activity("device_embedded_smartphone_default_per_hour", 8760, "hour")
    found = resolve_preferring(catalogue(), used, [RELEASE], allow_fallback=False)
    emission = calculate(used, found)
    assert not isinstance(emission, str), emission
    assert emission.total.value == pytest.approx(84.0 * 8760 / 21900)
    assert (emission.lines[0].category, emission.post) == (1, "product")


def test_only_region_independent_kinds_reach_worldwide_factors_without_fallback() -> None:
    bought = activity("device_embedded_laptop_pro", 1, "item")
    elsewhere = [f.model_copy(update={"activity_kind": "electricity"}) for f in catalogue()]
    electricity = ActivityState(**{**bought.__dict__, "kind": "electricity", "unit": "kWh"})
    found = resolve_preferring(elsewhere, electricity, [RELEASE], allow_fallback=False)
    assert "in FRA" in str(calculate(electricity, found))  # electricity depends on the grid
