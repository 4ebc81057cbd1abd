"""Rounding at the edge: every published sum holds exactly after rounding."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.reporting.csrd.compute import compute_energy, compute_ghg, intensity, to_tonnes
from services.reporting.csrd.model import Energy, Figure, FossilDetail, GhgFigures, RenewableDetail
from services.reporting.csrd.rounding import apportion, quantum, round_total_and_parts

D = Decimal
kg = st.decimals(min_value=0, max_value=10**9, places=3, allow_nan=False, allow_infinity=False)


@st.composite
def figures(draw: st.DrawFn) -> Figure:
    low, value, high = sorted([draw(kg), draw(kg), draw(kg)])
    return Figure(value, low, high)


@st.composite
def ghg_figures(draw: st.DrawFn) -> GhgFigures:
    categories = draw(st.lists(st.integers(1, 15), unique=True, max_size=15))
    scope3 = {cat: draw(figures()) for cat in categories}
    return GhgFigures(draw(figures()), draw(figures()), draw(figures()), scope3)


def test_apportion_keeps_the_total_and_favours_largest_remainders() -> None:
    assert apportion(D("1.0"), [D("0.33"), D("0.33"), D("0.34")], 1) == [
        D("0.3"),
        D("0.3"),
        D("0.4"),
    ]
    assert apportion(D("10"), [D("3.5"), D("3.5"), D("3")], 0) == [D("4"), D("3"), D("3")]


def test_apportion_refuses_an_unreachable_total() -> None:
    with pytest.raises(ValueError, match="apportioned"):
        apportion(D("2.0"), [D("0.5"), D("0.5")], 1)


@given(st.lists(kg, max_size=20), st.integers(0, 3))
def test_parts_add_up_to_the_rounded_total(parts: list[Decimal], decimals: int) -> None:
    total, rounded = round_total_and_parts(parts, decimals)
    assert sum(rounded, D(0)) == total
    assert abs(total - sum(parts, D(0))) <= quantum(decimals) / 2
    for exact, published in zip(parts, rounded, strict=True):
        assert abs(published - exact) < quantum(decimals)
        assert published == published.quantize(quantum(decimals))


@given(ghg_figures(), st.frozensets(st.integers(1, 15)))
def test_scope3_and_totals_add_up_exactly(ghg: GhgFigures, significant: frozenset[int]) -> None:
    result = compute_ghg(ghg, significant & set(ghg.scope3))
    assert sum((a.value for a in result.scope3.values()), D(0)) == result.scope3_total.value
    assert sum((a.min for a in result.scope3.values()), D(0)) == result.scope3_total.min
    location = result.total_location
    assert (
        location.value
        == result.scope1.value + result.scope2_location.value + result.scope3_total.value
    )
    market = result.total_market
    assert (
        market.value == result.scope1.value + result.scope2_market.value + result.scope3_total.value
    )
    for amount in [result.scope1, result.scope2_market, location, market, *result.scope3.values()]:
        assert amount.min <= amount.value <= amount.max
        assert amount.value == amount.value.quantize(D("0.1"))


@given(ghg_figures())
def test_ranges_are_rounded_outwards(ghg: GhgFigures) -> None:
    scope1 = compute_ghg(ghg, frozenset()).scope1
    assert scope1.min * 1000 <= ghg.scope1.min and scope1.max * 1000 >= ghg.scope1.max


def test_significant_zero_categories_are_reported_and_insignificant_zeros_are_not() -> None:
    zero = Figure.exact(D(0))
    ghg = GhgFigures(zero, zero, zero, {4: zero, 5: zero, 6: Figure.exact(D(100))})
    assert list(compute_ghg(ghg, frozenset({4})).scope3) == ["4", "6"]


def test_kilograms_become_tonnes_once_with_one_decimal() -> None:
    amount = to_tonnes(Figure(D("12345.678"), D("11000"), D("13900.2")))
    assert (amount.value, amount.min, amount.max) == (D("12.3"), D("11.0"), D("14.0"))
    assert to_tonnes(Figure.exact(D("50"))).value == D("0.0")  # half-even: 0.05 -> 0.0
    assert to_tonnes(Figure.exact(D("150"))).value == D("0.2")


def test_intensity_is_per_currency_unit_with_four_significant_digits() -> None:
    ratio = intensity(D("716.9"), D("18450000"))
    assert ratio.value == D("0.00003886") and ratio.decimals == 8
    assert intensity(D("0.0"), D("1000")).value == 0


kwh = st.decimals(min_value=0, max_value=10**8, places=2, allow_nan=False, allow_infinity=False)


@given(st.lists(kwh, min_size=9, max_size=9))
def test_energy_mix_adds_up_at_every_level(values: list[Decimal]) -> None:
    fossil = FossilDetail(*values[:5])
    renewable = RenewableDetail(*values[5:8])
    f, r = sum(fossil.parts(), D(0)), sum(renewable.parts(), D(0))
    energy = compute_energy(Energy(f + values[8] + r, f, values[8], r, fossil, renewable))
    assert energy.total == energy.fossil + energy.nuclear + energy.renewable
    assert energy.fossil_detail is not None and sum(energy.fossil_detail, D(0)) == energy.fossil
    assert energy.renewable_detail is not None
    assert sum(energy.renewable_detail, D(0)) == energy.renewable
    assert abs(energy.total - (f + values[8] + r) / 1000) <= D("0.05")
    if energy.shares is not None:
        assert sum(energy.shares, D(0)) == 1


def test_kilowatt_hours_become_megawatt_hours() -> None:
    energy = compute_energy(Energy(D("1234.5"), D("1000"), D(0), D("234.5")))
    assert (energy.total, energy.fossil, energy.renewable) == (D("1.2"), D("1.0"), D("0.2"))
    assert energy.shares == (D("0.833"), D("0"), D("0.167"))
