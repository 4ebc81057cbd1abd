"""An emission's parts by device and country: they add up, and follow METHODS §1's countries.

The request logs are real: compute's own pure core and product mapping turn a small log into
the emission (with its breakdown) that EmissionCalculated carries.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date

import pytest

from contracts.compute import Emission, EmissionLine, Kg, Method, Source
from services.compute.core import compute_emissions
from services.compute.grid import EMBER_CO2JS_0_19
from services.compute.methods import Method as LogMethod
from services.compute.product import log_emission
from services.reporting.parts import (
    COUNTRY,
    DEVICE,
    UNSPECIFIED,
    Part,
    PartFigures,
    default_member,
    figures_of,
    parts_of,
    segment_of,
    stored,
)

LOG = {
    "bytes": [1e6, 2.5e5, 7e7, 3e3],
    "client_country": ["FRA", "USA", "IND", "FRA"],
    "server_country": ["DEU", "USA", "USA", "CHN"],
    "device": ["laptop", "smartphone", "desktop", "laptop"],
    "exec_ms": [100.0, 2000.0, 50.0, 10.0],
}
BOUNDS = ("value", "min", "max")


def request_log(model: str = "measured-device") -> Emission:
    result = compute_emissions(LOG, LogMethod(model), EMBER_CO2JS_0_19)  # type: ignore[arg-type]
    return log_emission(
        result, log_id=uuid.uuid4(), event_id=uuid.uuid4(), stream_version=1, sha256="ab",
        site="www", period=(date(2024, 1, 1), date(2024, 2, 1)),
    )  # fmt: skip


def totals(parts: list[Part], dimension: str) -> dict[str, tuple[float, float, float]]:
    summed: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for part in parts:
        if part.dimension == dimension:
            for i, bound in enumerate(BOUNDS):
                summed[part.member][i] += getattr(part.kg, bound)
    return {member: (v[0], v[1], v[2]) for member, v in summed.items()}


@pytest.mark.parametrize("model", ["swd-v4", "measured-device", "onebyte", "swd-v3"])
def test_device_parts_give_computes_figures_by_device(model: str) -> None:
    emission = request_log(model)
    by_device = {
        d: tuple(g[b] / 1000 for b in BOUNDS) for d, g in emission.breakdown["by_device"].items()
    }
    assert set(by_device) == {"laptop", "smartphone", "desktop"}
    assert totals(parts_of(emission), DEVICE) == {
        d: pytest.approx(kg, rel=1e-12) for d, kg in by_device.items()
    }


@pytest.mark.parametrize("dimension", [DEVICE, COUNTRY])
def test_each_lines_parts_add_up_to_the_line(dimension: str) -> None:
    emission = request_log()
    assert emission.total.min < emission.total.max  # the ranges are really exercised
    parts = [p for p in parts_of(emission) if p.dimension == dimension]
    for index, line in enumerate(emission.lines):
        mine = [p.kg for p in parts if p.line == index]
        for bound in BOUNDS:
            summed = sum(getattr(kg, bound) for kg in mine)
            assert summed == pytest.approx(getattr(line.kg, bound), rel=1e-12)


def test_data_centre_goes_to_server_countries_the_rest_to_client_countries() -> None:
    emission = request_log("swd-v4")
    parts = [p for p in parts_of(emission) if p.dimension == COUNTRY]
    for index, line in enumerate(emission.lines):
        members = {p.member for p in parts if p.line == index}
        if segment_of(line) == "data_centre":
            assert members == {"DEU", "USA", "CHN"}, line.component
        else:
            assert members == {"FRA", "USA", "IND"}, line.component
    whole = totals(parts, COUNTRY)
    assert sum(v[0] for v in whole.values()) == pytest.approx(emission.total.value, rel=1e-12)


def activity(lines: list[EmissionLine], breakdown: dict[str, object] | None = None) -> Emission:
    source = Source(kind="activity", id=uuid.uuid4(), event_id=uuid.uuid4(), stream_version=1)
    total = Kg(
        value=sum(x.kg.value for x in lines),
        min=sum(x.kg.min for x in lines),
        max=sum(x.kg.max for x in lines),
    )
    return Emission(
        source=source, activity_kind="electricity", post="offices", site="hq", country="BEL",
        period_start=date(2024, 1, 1), period_end=date(2024, 2, 1), lines=lines, total=total,
        method=Method(name="activity-factor", version="1"), breakdown=breakdown or {},
    )  # fmt: skip


def line(kg: float, scope: int = 2) -> EmissionLine:
    return EmissionLine(
        component="generation", scope=scope, kg=Kg(value=kg, min=kg / 2, max=kg * 2),
        quantity=1.0, unit="kWh",
    )  # fmt: skip


def test_an_activity_is_one_part_per_line_unspecified_device_and_its_own_country() -> None:
    lines = [line(3.0), line(4.0, scope=3)]
    assert parts_of(activity(lines)) == [
        Part(DEVICE, 0, UNSPECIFIED, lines[0].kg),
        Part(COUNTRY, 0, "BEL", lines[0].kg),
        Part(DEVICE, 1, UNSPECIFIED, lines[1].kg),
        Part(COUNTRY, 1, "BEL", lines[1].kg),
    ]


def test_a_breakdown_with_nothing_to_divide_by_leaves_the_lines_whole() -> None:
    zero = {"value": 0.0, "min": 0.0, "max": 0.0}
    parts = parts_of(activity([line(5.0)], {"by_device": {"laptop": zero}, "by_country": {}}))
    assert {(p.dimension, p.member) for p in parts} == {(DEVICE, UNSPECIFIED), (COUNTRY, "BEL")}


def test_an_exact_zero_range_falls_back_on_the_value_proportions() -> None:
    exact: dict[str, object] = {
        "by_device": {
            "laptop": {"value": 1.0, "min": 0.0, "max": 0.0},
            "desktop": {"value": 3.0, "min": 0.0, "max": 0.0},
        }
    }
    parts = parts_of(activity([line(8.0)], exact))
    assert totals(parts, DEVICE) == {"laptop": (2.0, 1.0, 4.0), "desktop": (6.0, 3.0, 12.0)}


def _row_by_row(model: str) -> dict[tuple[str, str, str], tuple[float, float, float]]:
    """Each row computed as a log of its own: kg per (line, dimension, member), the oracle."""
    expected: dict[tuple[str, str, str], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for row in range(len(LOG["bytes"])):
        one = {column: values[row : row + 1] for column, values in LOG.items()}
        result = compute_emissions(one, LogMethod(model), EMBER_CO2JS_0_19)  # type: ignore[arg-type]
        for segment, emitted in result.segments.items():
            country = one["server_country" if segment == "data_centre" else "client_country"][0]
            for phase in ("operational", "embodied"):
                grams = getattr(emitted, phase)
                for dimension, member in ((COUNTRY, country), (DEVICE, one["device"][0])):
                    summed = expected[f"{segment}_{phase}", dimension, str(member)]
                    for i, bound in enumerate(BOUNDS):
                        summed[i] += getattr(grams, bound) / 1000
    return {key: (v[0], v[1], v[2]) for key, v in expected.items()}


@pytest.mark.parametrize("model", ["swd-v4", "measured-device", "swd-v3"])
def test_a_lines_parts_are_exactly_its_rows_figures_by_country_and_by_device(model: str) -> None:
    emission = request_log(model)
    found = {
        (str(emission.lines[p.line].component), p.dimension, p.member): (
            p.kg.value,
            p.kg.min,
            p.kg.max,
        )
        for p in parts_of(emission)
        if p.kg.max > 0
    }
    expected = {key: kg for key, kg in _row_by_row(model).items() if kg[2] > 0}

    assert set(found) == set(expected)
    for key, kg in expected.items():
        assert found[key] == pytest.approx(kg, rel=1e-9, abs=1e-15), key


def _stored(emission: Emission) -> list[PartFigures]:
    return stored([figures_of(x) for x in emission.lines], emission.country, emission.breakdown)


def _as_figures(parts: list[Part]) -> list[PartFigures]:
    return [(p.dimension, p.line, p.member, p.kg.value, p.kg.min, p.kg.max) for p in parts]


def test_whole_lines_are_implied_not_stored() -> None:
    assert _stored(activity([line(3.0), line(4.0, scope=3)])) == []
    one_device = {"by_device": {"laptop": {"value": 1.0, "min": 1.0, "max": 1.0}}}
    # a lone member that is not the default is a real part: stored
    assert _stored(activity([line(5.0)], one_device)) == [(DEVICE, 0, "laptop", 5.0, 2.5, 10.0)]


@pytest.mark.parametrize("model", ["swd-v4", "measured-device"])
def test_stored_parts_are_every_part_but_the_implied_ones(model: str) -> None:
    emission = request_log(model)
    everything, kept = _as_figures(parts_of(emission)), _stored(emission)
    assert kept and set(kept) <= set(everything)
    for dimension, index, member, *kg in set(everything) - set(kept):
        line = emission.lines[index]
        assert member == default_member(dimension, emission.country)
        assert kg == [line.kg.value, line.kg.min, line.kg.max]
        assert [p for p in everything if p[:2] == (dimension, index)] == [
            (dimension, index, member, *kg)
        ]
