from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import uuid4

import pytest

from contracts.compute import (
    Cause,
    Emission,
    EmissionCalculated,
    EmissionRestated,
    EmissionUnresolved,
    EmissionWithdrawn,
    FactorRef,
)
from contracts.factors import FactorValues, FactorView, Resolution
from services.compute.domain import (
    ActivityState,
    EmissionStatus,
    calculate,
    decide,
    factor_bounds,
    resolve_preferring,
)


def factor(component: str, kg: float, *, region: str = "FRA", scope: int = 2, unit: str = "kWh",
           releases: tuple[str, ...] = ("ademe",), version: int = 1, pct: float | None = 10,
           category: int | None = None, factor_id: str | None = None) -> FactorView:  # fmt: skip
    values = FactorValues(
        unit=unit,
        kgco2e_per_unit=kg,
        uncertainty_pct=pct,
        region=region,
        valid_from=date(2020, 1, 1),
        scope=scope,
        category=category,  # type: ignore[arg-type]
        source="test",
        licence="test",
        year=2024,
    )
    return FactorView(
        factor_id=factor_id or f"electricity-{component}-{region}",
        version=version,
        latest_version=version,
        tenant_id="global",
        activity_kind="electricity",
        component=component,
        values=values,
        recorded_at=datetime.now(UTC),  # type: ignore[arg-type]
        releases=list(releases),
    )


def activity(quantity: float = 2.0, unit: str = "MWh", region: str = "FRA") -> ActivityState:
    return ActivityState(
        activity_id=uuid4(),
        tenant_id="acme",
        kind="electricity",
        quantity=quantity,
        unit=unit,
        period_start=date(2024, 1, 1),
        period_end=date(2024, 2, 1),
        site="paris",
        region=region,
        event_id=uuid4(),
        stream_version=1,
    )


CAUSE = Cause(kind="activity_recorded", event_id=uuid4())
CATALOGUE = [factor("generation", 0.035), factor("upstream", 0.01, scope=3, category=3)]


def test_each_component_is_converted_to_the_factor_unit_and_summed_with_ranges() -> None:
    a = activity()
    emission = calculate(a, resolve_preferring(CATALOGUE, a, ["ademe"], allow_fallback=False))
    assert not isinstance(emission, str)
    generation, upstream = sorted(emission.lines, key=lambda line: line.scope)
    assert generation.quantity == pytest.approx(2000)  # 2 MWh in kWh
    assert generation.kg.value == pytest.approx(70)
    assert (generation.kg.min, generation.kg.max) == pytest.approx((63, 77))  # ±10 %
    assert (generation.scope, generation.scope2_basis) == (2, "location")
    assert (upstream.scope, upstream.category) == (3, 3)
    assert emission.total.value == pytest.approx(90)
    assert emission.post == "offices" and emission.country == "FRA"
    assert (
        generation.factor is not None
        and generation.factor.factor_id == "electricity-generation-FRA"
    )


def test_releases_are_tried_in_order_of_preference() -> None:
    ember = factor("generation", 0.044, releases=("ember",), factor_id="ember-fra")
    a = activity()
    first_ember = resolve_preferring(
        [*CATALOGUE, ember], a, ["ember", "ademe"], allow_fallback=False
    )
    assert [c.factor.factor_id for c in first_ember.components] == ["ember-fra"]
    first_ademe = resolve_preferring(
        [*CATALOGUE, ember], a, ["ademe", "ember"], allow_fallback=False
    )
    assert len(first_ademe.components) == 2


def test_no_factor_or_a_unit_mismatch_is_a_reason_never_zero() -> None:
    a = activity(region="BRA")
    assert "BRA" in str(calculate(a, resolve_preferring(CATALOGUE, a, [], allow_fallback=False)))
    wrong_unit = [factor("generation", 1.0, unit="liter")]
    b = activity()
    reason = calculate(b, resolve_preferring(wrong_unit, b, [], allow_fallback=False))
    assert isinstance(reason, str) and "per liter" in reason


def test_bounds_prefer_given_min_max_then_uncertainty() -> None:
    base = factor("generation", 1.0).values
    assert factor_bounds(
        base.model_copy(update={"min_kgco2e_per_unit": 0.5, "max_kgco2e_per_unit": 2.0})
    ) == (0.5, 1.0, 2.0)
    assert factor_bounds(base.model_copy(update={"uncertainty_pct": None})) == (1.0, 1.0, 1.0)
    assert factor_bounds(base.model_copy(update={"uncertainty_pct": 150})) == (0.0, 1.0, 2.5)


def test_decide_records_what_changed_and_only_that() -> None:
    a = activity()
    emission = calculate(a, resolve_preferring(CATALOGUE, a, [], allow_fallback=False))
    assert not isinstance(emission, str)
    first = decide(a, emission, None, CAUSE)
    assert isinstance(first, EmissionCalculated)
    known = EmissionStatus("calculated", emission, None, 1)
    assert decide(a, emission, known, CAUSE) is None
    bigger = calculate(
        activity(quantity=3), resolve_preferring(CATALOGUE, a, [], allow_fallback=False)
    )
    assert not isinstance(bigger, str)
    restated = decide(a, bigger, known, CAUSE)
    assert isinstance(restated, EmissionRestated)
    assert restated.previous_total == emission.total
    gone = decide(ActivityState(**{**a.__dict__, "retracted": True}), emission, known, CAUSE)
    assert isinstance(gone, EmissionWithdrawn) and gone.previous_total == emission.total
    waiting = decide(a, "no factor", None, CAUSE)
    assert isinstance(waiting, EmissionUnresolved)
    still = EmissionStatus("unresolved", None, "no factor", 1)
    assert decide(a, "no factor", still, CAUSE) is None
    assert isinstance(decide(a, emission, still, CAUSE), EmissionCalculated)


def _first_ref(emission: object) -> FactorRef:
    assert isinstance(emission, Emission) and emission.lines[0].factor is not None
    return emission.lines[0].factor


def test_each_resolved_component_keeps_its_own_factor_ref() -> None:
    # Refs are remembered by component: activities resolved alike share one, and a component
    # made anew (another resolution, here of another version) gets its own.
    def resolved(version: int) -> Resolution:
        catalogue = [factor("generation", 0.05, version=version)]
        return resolve_preferring(catalogue, activity(), ["ademe"], allow_fallback=False)

    first = resolved(1)
    ref = _first_ref(calculate(activity(), first))
    assert _first_ref(calculate(activity(2.0), first)) is ref
    for version in range(2, 6):
        assert _first_ref(calculate(activity(), resolved(version))).version == version
    assert _first_ref(calculate(activity(), first)) is ref and ref.version == 1
