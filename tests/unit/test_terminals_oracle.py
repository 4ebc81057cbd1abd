"""The shipped terminals release against the Boavizta API itself.

tests/fixtures/boavizta/terminal_cases.json holds Boavizta API 2.5.0's answers for a few
archetypes, locations and durations (recorded by tools/boavizta/record_terminal_cases.py
from the API run outside the repository). Empreinte's figures must reproduce them within
0.5 %: embedded from the factors published in release boavizta-2.5.0, use from the
archetype's recorded power and time in use with the grid factor of Empreinte's Boavizta
cloud release. The API rounds its use value, so that one is checked against the unrounded
figure recomputed from the API's own verbose answer.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from contracts.factors import FactorDraft
from services.factors.defaults import cloud_release
from services.factors.terminals import terminal_drafts, terminal_kind, terminals_release

FIXTURE = Path(__file__).parents[1] / "fixtures" / "boavizta" / "terminal_cases.json"
REL = 0.005


@cache
def cases() -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(FIXTURE.read_text())["cases"]
    return data


@cache
def factors() -> dict[str, FactorDraft]:
    return {draft.activity_kind: draft for _, draft in terminal_drafts(terminals_release())}


def embedded(case: dict[str, Any]) -> list[float]:
    """Empreinte's embedded kg: the per-item factor over a lifetime, else hours x per-hour."""
    lifetime = case["hours"] is None
    f = factors()[terminal_kind(case["archetype"], per_hour=not lifetime)]
    hours = 1.0 if lifetime else case["hours"]
    bounds = (f.kgco2e_per_unit, f.min_kgco2e_per_unit, f.max_kgco2e_per_unit)
    return [hours * b for b in bounds if b is not None]


def grid(location: str) -> list[float]:
    electricity = cloud_release()["electricity"]
    value = electricity["countries"][location]
    return [value, *electricity["ranges"].get(location, [value, value])]


def use(case: dict[str, Any]) -> list[float]:
    """Empreinte's use kg: grid x avg_power / 1000 x use_time_ratio x hours."""
    figures = terminals_release()["archetypes"][case["archetype"]]
    power, ratio = figures["avg_power_w"], figures["use_time_ratio"]
    triples = zip(grid(case["location_used"]), power, ratio, strict=True)
    return [g * p / 1000 * r * case["duration"] for g, p, r in triples]


def close(ours: list[float], theirs: list[float]) -> bool:
    return len(ours) == len(theirs) and all(
        abs(o - t) <= REL * abs(t) for o, t in zip(ours, theirs, strict=True)
    )


def test_the_fixture_covers_lifetimes_hours_and_default_location() -> None:
    assert {c["hours"] for c in cases()} >= {None, 1.0, 8760.0}
    assert {c["location_used"] for c in cases()} >= {"FRA", "USA", "EEE"}
    assert len({c["archetype"] for c in cases()}) >= 5


@pytest.mark.parametrize("index", range(len(cases())))
def test_embedded_reproduces_the_api(index: int) -> None:
    case = cases()[index]
    assert close(embedded(case), case["api"]["embedded"]), (embedded(case), case)


@pytest.mark.parametrize("index", range(len(cases())))
def test_use_reproduces_the_api(index: int) -> None:
    case = cases()[index]
    ours, api = use(case), case["api"]["use"]
    assert close(ours[1:], api[1:]), (ours, case)  # min and max come back unrounded
    assert close(ours[:1], case["use_kg"][:1]), (ours, case)


def test_the_apis_rounded_use_is_the_recomputed_one() -> None:
    # Guards the fixture's unrounded figure: the API's own value, rounded, lies next to it.
    for case in cases():
        assert case["api"]["use"][0] == pytest.approx(case["use_kg"][0], rel=0.05), case
