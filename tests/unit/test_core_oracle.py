"""The per-request core against co2.js 0.19 itself.

tests/fixtures/co2js/cases.json holds co2.js's answers on a grid of cases, written by
tools/co2js_oracle/generate.mjs from the published npm package. Every case must match to
1e-9 relative, on both paths.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from services.compute.core import EmissionResult, compute_emissions
from services.compute.grid import GridIntensities
from services.compute.methods import (
    MODEL_DEFAULT,
    SWD_V3_VISIT,
    SWD_V4_VISIT,
    Method,
    SegmentGrid,
    SegmentIntensity,
    VisitAssumptions,
)

FIXTURE = Path(__file__).parents[1] / "fixtures" / "co2js" / "cases.json"
REL = 1e-9


@cache
def fixture() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(FIXTURE.read_text())
    return data


def cases_by_kind() -> dict[tuple[str, str], list[dict[str, Any]]]:
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for case in fixture()["cases"]:
        grouped[case["model"], case["call"]].append(case)
    return grouped


def grid() -> GridIntensities:
    data = fixture()
    return GridIntensities(data["grid_intensities"], data["grid_intensity_source"], True)


def segment_choice(option: Any) -> SegmentIntensity:
    if option is None:
        return MODEL_DEFAULT  # co2.js: a segment without option takes the global intensity
    if isinstance(option, dict):
        country: str = option["country"]
        return country
    return float(option)


def method_for(case: dict[str, Any]) -> Method:
    options = case["options"] or {}
    model = case["model"]
    factor = 1.0 if case["green"] else float(options.get("greenHostingFactor", 0.0))
    if model == "onebyte":
        return Method(model, green_hosting_factor=factor)
    intensity = options.get("gridIntensity") or {}
    segment_grid = SegmentGrid(
        user_device=segment_choice(intensity.get("device")),
        network=segment_choice(intensity.get("network")),
        data_centre=segment_choice(intensity.get("dataCenter")),
    )
    visit = visit_for(model, options) if case["call"] == "perVisitTrace" else None
    return Method(model, green_hosting_factor=factor, grid=segment_grid, visit=visit)


def visit_for(model: str, options: dict[str, Any]) -> VisitAssumptions:
    default = SWD_V3_VISIT if model == "swd-v3" else SWD_V4_VISIT
    return VisitAssumptions(
        options.get("firstVisitPercentage", default.first_visit_share),
        options.get("returnVisitPercentage", default.return_visit_share),
        options.get("dataReloadRatio", default.data_reload_ratio),
    )


def run(case: dict[str, Any], path: str) -> EmissionResult:
    columns = {"bytes": [case["bytes"]], "client_country": ["FRA"], "server_country": ["DEU"]}
    return compute_emissions(columns, method_for(case), grid(), path=path)  # type: ignore[arg-type]


def close(ours: float, theirs: float) -> bool:
    return math.isclose(ours, theirs, rel_tol=REL, abs_tol=1e-12)


def expected_segments(case: dict[str, Any], method: Method) -> dict[tuple[str, str], float]:
    """co2.js's segment figures in our terms (see the notes in the comments)."""
    theirs = case["co2js"]["segments"]
    if case["model"] == "swd-v3":  # perVisit splits each into " - first" and " - subsequent"
        parts: dict[str, float] = defaultdict(float)
        for key, value in theirs.items():
            if key != "total":
                parts[key.split(" - ")[0]] += value
        return {
            ("user_device", "operational"): parts["consumerDeviceCO2"],
            ("network", "operational"): parts["networkCO2"],
            ("data_centre", "operational"): parts["dataCenterCO2"],
            ("production", "embodied"): parts["productionCO2"],
        }
    # SWD v4 reports data-centre operational emissions before the green hosting factor,
    # and per-visit segments before the visit caching: we report both applied.
    scale = 1.0 if method.visit is None else method.visit.multiplier
    green = 1.0 - method.green_hosting_factor
    return {
        ("data_centre", "operational"): theirs["dataCenterOperationalCO2e"] * green * scale,
        ("network", "operational"): theirs["networkOperationalCO2e"] * scale,
        ("user_device", "operational"): theirs["consumerDeviceOperationalCO2e"] * scale,
        ("data_centre", "embodied"): theirs["dataCenterEmbodiedCO2e"] * scale,
        ("network", "embodied"): theirs["networkEmbodiedCO2e"] * scale,
        ("user_device", "embodied"): theirs["consumerDeviceEmbodiedCO2e"] * scale,
    }


def mismatches(case: dict[str, Any], path: str) -> list[str]:
    result = run(case, path)
    found: list[str] = []
    if not close(result.total.value, case["co2js"]["total"]):
        found.append(f"total {result.total.value} != {case['co2js']['total']}")
    if case["co2js"]["segments"] is not None:
        for (segment, kind), theirs in expected_segments(case, method_for(case)).items():
            ours = getattr(result.segments[segment], kind).value
            if not close(ours, theirs):
                found.append(f"{segment} {kind} {ours} != {theirs}")
    return [f"case {case['id']} ({path}): {m}" for m in found]


def test_the_fixture_comes_from_co2js_0_19() -> None:
    data = fixture()
    assert data["co2js_version"] == "0.19.0"
    assert len(data["cases"]) > 2000
    assert {c["model"] for c in data["cases"]} == {"swd-v4", "swd-v3", "onebyte"}


@pytest.mark.parametrize("path", ["full", "eco"])
@pytest.mark.parametrize("kind", sorted(cases_by_kind()), ids="/".join)
def test_core_matches_co2js(kind: tuple[str, str], path: str) -> None:
    failures = [m for case in cases_by_kind()[kind] for m in mismatches(case, path)]
    assert not failures, "\n".join(failures[:20])


def test_trace_grid_intensities_match_co2js() -> None:
    for case in cases_by_kind()["swd-v4", "perByteTrace"]:
        result = run(case, "eco")
        described = result.constants["segment_grid_intensity"]
        used = result.constants["grid_intensity"]
        for ours_key, theirs_key in (("user_device", "device"), ("network", "network")):
            source = described[ours_key]
            ours = used.get(source, 494.0) if isinstance(source, str) else source
            theirs = case["co2js"]["trace_grid_intensity"][theirs_key]
            assert theirs is None or ours == theirs, case["id"]


def test_unknown_country_falls_back_to_the_model_global_intensity_like_co2js() -> None:
    unknown = [
        c
        for c in fixture()["cases"]
        if c["options"] and (c["options"].get("gridIntensity") or {}).get("dataCenter")
        if c["options"]["gridIntensity"]["dataCenter"] == {"country": "XXX"}
    ]
    assert unknown
    for case in unknown:
        assert case["co2js"]["warnings"]
        method = method_for(case)
        looked_up = method.model != "onebyte" and method.green_hosting_factor < 1
        result = run(case, "eco")
        assert result.fallback_countries == (("XXX",) if looked_up else ())
