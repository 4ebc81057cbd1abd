"""The Boavizta cloud method against METHODS §3's calibration and the Boavizta API itself.

tests/fixtures/boavizta/cases.json holds Boavizta API 2.5.0's answers (recorded by
tools/boavizta/record_cases.py from the API run outside the repository); every case must
match its unrounded figures within 0.5 %.
"""

from __future__ import annotations

import json
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from services.compute.methods.cloud import (
    Bounds,
    CloudError,
    CloudFootprint,
    CloudUsage,
    cloud_footprint,
)

ROOT = Path(__file__).parents[2]
RELEASE = ROOT / "services" / "factors" / "data" / "boavizta-2.5.0-cloud.json"
FIXTURE = ROOT / "tests" / "fixtures" / "boavizta" / "cases.json"
REL = 0.005


@cache
def release() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(RELEASE.read_text())
    return data


@cache
def cases() -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(FIXTURE.read_text())["cases"]
    return data


def footprint(case: dict[str, Any]) -> CloudFootprint:
    usage = CloudUsage(
        case["provider"], case["instance"], case["hours"], case["load"], country=case["country"]
    )
    return cloud_footprint(usage, release())


def close(ours: Bounds, theirs: list[float], rel: float = REL) -> bool:
    return all(
        abs(o - t) <= rel * abs(t)
        for o, t in zip((ours.value, ours.min, ours.max), theirs, strict=True)
    )


def test_calibration_value_of_methods() -> None:
    usage = CloudUsage("aws", "m5.xlarge", hours=1.0, load_percent=50.0, country="FRA")
    result = cloud_footprint(usage, release())
    assert result.power_w.value == pytest.approx(22.592, rel=1e-4)
    assert result.use_kg.value == pytest.approx(0.0022140, rel=1e-4)
    assert result.embedded_kg.value == pytest.approx(9.134e-4, rel=1e-3)
    assert result.constants["grid_factor"]["kgco2e_per_kwh"] == [0.098, 0.098, 0.098]


def test_every_provider_is_in_the_fixture() -> None:
    assert {c["provider"] for c in cases()} == set(release()["instances"])


def test_release_covers_every_instance_of_the_fixture() -> None:
    instances = release()["instances"]
    missing = {(c["provider"], c["instance"]) for c in cases()} - {
        (p, n) for p, names in instances.items() for n in names
    }
    assert not missing


def test_release_hosts_exist() -> None:
    hosts = release()["hosts"]
    assert all(
        i["host"] in hosts for names in release()["instances"].values() for i in names.values()
    )


def test_every_case_matches_the_api_within_half_a_percent() -> None:
    failures = []
    for case in cases():
        ours = footprint(case)
        for name, key in (
            ("power_w", "power_w"),
            ("use_kg", "use_kg"),
            ("embedded_kg", "embedded_kg"),
        ):
            if not close(getattr(ours, name), case[key]):
                failures.append(
                    (
                        case["provider"],
                        case["instance"],
                        case["load"],
                        case["country"],
                        name,
                        getattr(ours, name),
                        case[key],
                    )
                )
    assert not failures, failures[:5]


def _bracket(rounded: float) -> tuple[float, float]:
    # Half a unit of the last significant digit (trailing zeros taken as not significant).
    half = 0.5 * 10.0 ** int(Decimal(repr(rounded)).normalize().as_tuple().exponent)
    return rounded - half, rounded + half


def test_every_case_falls_within_the_api_rounded_answer() -> None:
    # The API rounds impacts on a grid set by their range: ours must sit within the rounding
    # of its raw answer, give or take 0.5 %.
    for case in cases():
        ours = footprint(case)
        for name in ("use", "embedded"):
            low, high = _bracket(case["api"][name][0])
            value = getattr(ours, f"{name}_kg").value
            assert low * (1 - REL) <= value <= high * (1 + REL), (case, name, value)


def test_default_location_carries_the_wide_range() -> None:
    usage = CloudUsage("aws", "m5.xlarge", hours=1.0, load_percent=50.0)
    result = cloud_footprint(usage, release())
    assert result.use_kg.min < result.use_kg.value < result.use_kg.max
    assert result.constants["grid_factor"]["origin"].startswith("default location")


def test_a_given_grid_factor_wins() -> None:
    usage = CloudUsage("aws", "m5.xlarge", 2.0, 50.0, country="IND", grid_factor=0.098)
    result = cloud_footprint(usage, release())
    assert result.use_kg.value == pytest.approx(2 * 0.0022140, rel=1e-4)


@pytest.mark.parametrize(
    ("usage", "message"),
    [
        (CloudUsage("aws", "m5.xlarg", 1.0, 50.0), "unknown instance type 'm5.xlarg' at aws"),
        (CloudUsage("oracle", "m5.xlarge", 1.0, 50.0), "unknown provider 'oracle'"),
        (CloudUsage("aws", "m5.xlarge", 1.0, 101.0), "load must be a percentage"),
        (CloudUsage("aws", "m5.xlarge", 1.0, -1.0), "load must be a percentage"),
        (CloudUsage("aws", "m5.xlarge", -1.0, 50.0), "hours must be >= 0"),
        (CloudUsage("aws", "m5.xlarge", 1.0, 50.0, country="XXX"), "country 'XXX'"),
    ],
)
def test_clear_errors(usage: CloudUsage, message: str) -> None:
    with pytest.raises(CloudError, match=message):
        cloud_footprint(usage, release())


def test_lineage_names_the_release_and_constants() -> None:
    usage = CloudUsage("aws", "m5.xlarge", 1.0, 50.0, country="FRA")
    constants = cloud_footprint(usage, release()).constants
    assert constants["release"] == "boavizta-2.5.0-cloud"
    assert constants["source"]["version"] == "2.5.0"
    assert constants["host"]["cpu"]["threads"] == 48
    assert constants["instance"]["vcpu"] == 4


def test_unknown_instance_hints_at_close_names_whatever_the_case() -> None:
    usage = CloudUsage("scaleway", "DEV1-S", 1.0, 50.0)
    with pytest.raises(CloudError, match=r"did you mean.*'dev1-s'"):
        cloud_footprint(usage, release())


def test_embedded_is_linear_in_instance_hours() -> None:
    # Instance-hours may sum a fleet: unlike one API request, no cap at the host lifetime.
    one = cloud_footprint(CloudUsage("aws", "m5.xlarge", 1.0, 50.0), release())
    many = cloud_footprint(CloudUsage("aws", "m5.xlarge", 100_000.0, 50.0), release())
    assert many.embedded_kg.value == pytest.approx(100_000 * one.embedded_kg.value)
