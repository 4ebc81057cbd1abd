"""Rounding at the edge that keeps every published sum exact.

Values are quantised to `10**-decimals`. A total and its parts are rounded together by the
largest-remainder method: each part becomes the floor or the ceiling of its exact value, and
the parts add up exactly to the given rounded total. Ranges are rounded outwards (min down,
max up), so the published range always contains the exact one and the published value.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal

KG_PER_TONNE = Decimal(1000)
KWH_PER_MWH = Decimal(1000)


def quantum(decimals: int) -> Decimal:
    return Decimal(1).scaleb(-decimals)


def round_half_even(value: Decimal, decimals: int) -> Decimal:
    return value.quantize(quantum(decimals), rounding=ROUND_HALF_EVEN)


def round_down(value: Decimal, decimals: int) -> Decimal:
    return value.quantize(quantum(decimals), rounding=ROUND_FLOOR)


def round_up(value: Decimal, decimals: int) -> Decimal:
    return value.quantize(quantum(decimals), rounding=ROUND_CEILING)


def apportion(total: Decimal, parts: Sequence[Decimal], decimals: int) -> list[Decimal]:
    """Round `parts` so that they add up to `total` (already rounded to `decimals`).

    `total` must lie between the floor and the ceiling of the exact sum of `parts`; then each
    rounded part is the floor or the ceiling of its exact value. Ties go to the earlier part.
    """
    step = quantum(decimals)
    floors = [round_down(part, decimals) for part in parts]
    extra = int((total - sum(floors, Decimal(0))) / step)
    if not 0 <= extra <= len(parts):
        raise ValueError(f"{total} cannot be apportioned over {list(parts)}")
    by_remainder = sorted(range(len(parts)), key=lambda i: (floors[i] - parts[i], i))
    for index in by_remainder[:extra]:
        floors[index] += step
    return [value.quantize(step) for value in floors]


def round_total_and_parts(parts: Sequence[Decimal], decimals: int) -> tuple[Decimal, list[Decimal]]:
    """The rounded sum of `parts` and the parts apportioned to add up to it exactly."""
    total = round_half_even(sum(parts, Decimal(0)), decimals)
    return total, apportion(total, parts, decimals)


def significant_decimals(value: Decimal, digits: int) -> int:
    """The `decimals` that keep `digits` significant digits of `value` (value > 0)."""
    return digits - 1 - value.adjusted()
