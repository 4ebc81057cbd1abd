"""The importer's reading of Boavizta's terminal answers (no API needed).

tests/fixtures/boavizta/terminal_answers.json holds the answers Boavizta API 2.5.0 gave to
every query the importer makes for two archetypes (recorded by
tools/boavizta/record_terminal_cases.py); they are served again here without the API.
"""

from __future__ import annotations

import asyncio
import json
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import pytest

from empreinte_cli.boavizta_terminals import archetype_figures, build_terminals, dump_terminals

FIXTURE = Path(__file__).parents[1] / "fixtures" / "boavizta" / "terminal_answers.json"


@cache
def recorded() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(FIXTURE.read_text())
    return data


def answer(key: str) -> dict[str, Any]:
    found: dict[str, Any] = recorded()["answers"][key]
    return found


def serve(request: httpx.Request) -> httpx.Response:
    """The recorded answer to `request`, as the API gave it."""
    if request.url.path == "/v1/utils/version":
        return httpx.Response(200, json=recorded()["source"]["version"])
    key, params = request.url.path, request.url.params
    if "archetype" in params:
        key += f"?archetype={params['archetype']}"
    if "duration" in params:
        key += f"&duration={params['duration']}"
    if key not in recorded()["answers"]:
        return httpx.Response(404, json={"detail": f"not recorded: {key}"})
    return httpx.Response(200, json=answer(key))


def test_figures_of_a_laptop_from_its_recorded_answers() -> None:
    lifetime = answer("/v1/terminal/laptop?archetype=laptop-pro")
    hour = answer("/v1/terminal/laptop?archetype=laptop-pro&duration=1.0")
    figures = archetype_figures("terminal", "laptop", lifetime, hour)
    assert figures["embedded_kg"] == [181.0, 181.0, 181.0]
    assert figures["hours_life_time"] == 35040.0
    assert figures["avg_power_w"] == [75.0, 50.0, 100.0]
    assert figures["use_time_ratio"] == [0.3, 0.3, 0.3]
    assert (figures["type"], figures["family"], figures["device"]) == ("pro", "terminal", "laptop")
    assert "ADEME" in figures["upstream"]


def test_the_hourly_share_is_kept_at_the_apis_precision_so_min_value_max_agree() -> None:
    # The API gives the value with every digit of a float but min and max with 15
    # significant ones: 0.005165525114155251 against 0.00516552511415525.
    hour = answer("/v1/terminal/laptop?archetype=laptop-pro&duration=1.0")
    raw = hour["impacts"]["gwp"]["embedded"]
    assert raw["value"] > raw["max"]
    lifetime = answer("/v1/terminal/laptop?archetype=laptop-pro")
    value, low, high = archetype_figures("terminal", "laptop", lifetime, hour)[
        "embedded_kg_per_hour"
    ]
    assert low == value == high == pytest.approx(181.0 / 35040.0, rel=1e-14)


def test_an_answer_for_several_devices_is_refused() -> None:
    lifetime = json.loads(json.dumps(answer("/v1/peripheral/monitor?archetype=monitor-default")))
    lifetime["verbose"]["units"]["value"] = 2
    hour = answer("/v1/peripheral/monitor?archetype=monitor-default&duration=1.0")
    with pytest.raises(ValueError, match="one device"):
        archetype_figures("peripheral", "monitor", lifetime, hour)


def test_the_release_lists_every_archetype_of_every_family_with_its_provenance() -> None:
    release = asyncio.run(build_terminals("http://oracle", httpx.MockTransport(serve)))
    assert release["release"] == "boavizta-2.5.0"
    assert set(release["archetypes"]) == {"laptop-pro", "monitor-default"}
    monitor = release["archetypes"]["monitor-default"]
    assert (monitor["family"], monitor["embedded_kg"][0]) == ("peripheral", 64.7)
    source = release["source"]
    assert source["oracle_settings"] == {"BOAVIZTA_MAX_SIG_FIG": 15, "BOAVIZTA_UNCERTAINTY": 1}
    assert (source["version"], source["url"]) == ("2.5.0", "http://oracle")
    assert "AGPL-3.0" in source["licence"] and source["retrieved_at"]


def test_dump_terminals_is_json_with_one_line_per_archetype() -> None:
    release = asyncio.run(build_terminals("http://oracle", httpx.MockTransport(serve)))
    text = dump_terminals(release)
    assert json.loads(text) == release
    lines = text.splitlines()
    assert sum(line.startswith('"laptop-pro": {') for line in lines) == 1
