"""E1-5 energy from the ledger's quantities: classification, conversions, mixes."""

from __future__ import annotations

from decimal import Decimal

import pytest

from contracts.reporting import Mix
from kernel.errors import RequestRefused
from services.reporting.energy import Consumption, consumption, energy, notes

D = Decimal


def test_carriers_are_summed_in_kwh_net_calorific_value() -> None:
    found = consumption(
        {
            ("natural_gas_gross_cv", "kWh"): D(1000),
            ("natural_gas_net_cv", "kWh"): D(100),
            ("heating_oil", "liter"): D(10),
            ("heating_oil_net_cv", "kWh"): D(50),
            ("diesel_fuel", "liter"): D(100),
            ("petrol_fuel", "liter"): D(100),
            ("electricity", "kWh"): D(1500),
            ("electricity_grid_average", "kWh"): D(500),
            ("district_heating_paris_cpcu", "kWh"): D(300),
            ("homeworking_hour", "hour"): D(8),
        }
    )
    assert found.natural_gas == D(1000) * D("0.9") + D(100)
    assert found.oil == D("100.3") + D(50) + D(1003) + D(917)
    assert (found.electricity, found.heat) == (D(2000), D(300))
    assert found.left_out == ("homeworking_hour (hour)",)
    assert "homeworking_hour (hour)" in notes(found)[-1]


def test_a_kind_in_an_unexpected_unit_is_left_out_not_guessed() -> None:
    assert consumption({("diesel_fuel", "kWh"): D(5)}).left_out == ("diesel_fuel (kWh)",)


def test_purchased_energy_is_split_by_its_mix() -> None:
    found = Consumption(natural_gas=D(100), oil=D(50), electricity=D(1000), heat=D(200))
    figures = energy(
        found,
        Mix(fossil=0.1, nuclear=0.7, renewable=0.2),
        Mix(fossil=0.5, nuclear=0, renewable=0.5),
    )
    assert figures.total == D(1350)
    assert (figures.fossil, figures.nuclear, figures.renewable) == (D(350), D(700), D(300))
    assert figures.fossil_detail is not None and figures.renewable_detail is not None
    assert figures.fossil_detail.purchased_fossil == D(200)
    assert (figures.fossil_detail.natural_gas, figures.fossil_detail.crude_oil) == (D(100), D(50))
    assert figures.renewable_detail.purchased == D(300)


def test_no_purchased_energy_needs_no_mix() -> None:
    figures = energy(Consumption(natural_gas=D(10)), None, None)
    assert (figures.total, figures.fossil) == (D(10), D(10))


@pytest.mark.parametrize(
    ("found", "electricity", "heat", "code", "field"),
    [
        (Consumption(electricity=D(1)), None, None, "missing_energy_mix", "electricity_mix"),
        (Consumption(heat=D(1)), None, None, "missing_energy_mix", "heat_mix"),
        (
            Consumption(electricity=D(1)),
            Mix(fossil=0.5, nuclear=0.5, renewable=0.5),
            None,
            "invalid_mix",
            "electricity_mix",
        ),
    ],
)
def test_a_missing_or_wrong_mix_is_refused_naming_the_field(
    found: Consumption, electricity: Mix | None, heat: Mix | None, code: str, field: str
) -> None:
    with pytest.raises(RequestRefused) as refused:
        energy(found, electricity, heat)
    assert (refused.value.code, refused.value.field) == (code, field)
