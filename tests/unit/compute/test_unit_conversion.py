"""Compute's cached unit conversion gives pint's answers exactly, bad pairs included."""

from __future__ import annotations

import random

import pytest
from pint import DimensionalityError

from contracts.units import convert
from services.compute.domain import convert_quantity

PAIRS = [("MWh", "kWh"), ("GWh", "kWh"), ("kWh", "MWh"), ("mile", "km"), ("t", "kg"),
         ("EUR", "EUR"), ("km", "m"), ("GB", "kB")]  # fmt: skip


@pytest.mark.parametrize(("unit", "to_unit"), PAIRS)
def test_scales_give_pints_result_bit_for_bit(unit: str, to_unit: str) -> None:
    draw = random.Random(7)
    for quantity in [0.0, 1.0, 3.0, 1e-9, 123456.789] + [draw.uniform(0, 1e6) for _ in range(200)]:
        assert convert_quantity(quantity, unit, to_unit) == convert(quantity, unit, to_unit)


def test_an_offset_scale_is_converted_by_pint() -> None:
    assert convert_quantity(20.0, "degC", "kelvin") == convert(20.0, "degC", "kelvin")
    assert convert_quantity(20.0, "degC", "kelvin") == pytest.approx(293.15)


def test_units_of_other_dimensions_still_refuse() -> None:
    with pytest.raises(DimensionalityError):
        convert_quantity(2.0, "MWh", "km")
