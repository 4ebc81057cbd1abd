import pytest
from pint import DimensionalityError

from contracts.activity_kinds import ACTIVITY_KINDS, activity_kind
from contracts.units import convert, dimension_of


def test_energy_units_convert_and_share_a_dimension() -> None:
    assert convert(1.5, "MWh", "kWh") == pytest.approx(1500)
    assert dimension_of("GJ") == dimension_of("kWh")


def test_money_and_counted_things_are_their_own_dimensions() -> None:
    assert dimension_of("EUR") == "[currency]"
    assert dimension_of("nights") == dimension_of("night") != dimension_of("meal")
    with pytest.raises(DimensionalityError):
        convert(12, "km", "kWh")


def test_an_unknown_unit_is_named() -> None:
    with pytest.raises(ValueError, match="'furlongz'"):
        dimension_of("furlongz")


def test_every_kind_has_a_unit_pint_understands_and_a_known_post() -> None:
    assert len(ACTIVITY_KINDS) > 50
    for kind in ACTIVITY_KINDS.values():
        assert kind.dimension
    assert activity_kind("electricity").post == "offices"
    with pytest.raises(KeyError, match="'teleportation'"):
        activity_kind("teleportation")
