"""The unit registry every service uses: pint's, plus the units carbon accounting counts in."""

from __future__ import annotations

from functools import lru_cache

import pint


@lru_cache(maxsize=1)
def units() -> pint.UnitRegistry[float]:
    """One shared registry (pint quantities of different registries do not mix)."""
    registry: pint.UnitRegistry[float] = pint.UnitRegistry()
    # Money and countable things have their own dimensions, so "12 EUR" is never "12 km".
    registry.define("EUR = [currency] = eur = euro")
    registry.define("item = [item] = items = unit_item")
    registry.define("night = [night] = nights = hotel_night")
    registry.define("meal = [meal] = meals")
    return registry


# Every activity of a batch asks again for the same few units; pint's parse is the slow
# part of checking one. Bounded: unit names come from integrators. (An unknown unit raises,
# which is not kept: it is parsed again each time.)
@lru_cache(maxsize=4096)
def dimension_of(unit: str) -> str:
    """The dimensionality of `unit` as text (`[length]`, `[mass] * [length] ** 2 / [time] ** 2`...).

    Raises ValueError naming the unit when pint does not know it.
    """
    try:
        return str(units().parse_units(unit).dimensionality)
    except (pint.UndefinedUnitError, pint.errors.DefinitionSyntaxError, AttributeError) as error:
        raise ValueError(f"unknown unit {unit!r}") from error


def convert(quantity: float, unit: str, to_unit: str) -> float:
    """`quantity` in `unit`, expressed in `to_unit`; DimensionalityError when they do not match."""
    return float(units().Quantity(quantity, unit).to(to_unit).magnitude)
