"""Record Boavizta API 2.5.0's terminal answers for the tests of the terminals release.

Not shipped code: it runs the oracle, a boaviztapi installed OUTSIDE this repository (it is
AGPL-3.0; nothing of it comes in, only its answers). See tools/boavizta/README.md.

    python tools/boavizta/record_terminal_cases.py --url http://127.0.0.1:5000

It writes two fixtures under tests/fixtures/boavizta/:

* `terminal_cases.json`: for a few archetypes, locations and durations, the API's impacts
  (as returned: use is rounded by the API, embedded is not) and the unrounded use
  recomputed exactly as the API does from its verbose figures (grid factor x avg_power /
  1000 x use_time_ratio x hours x units); tests/unit/test_terminals_oracle.py checks the
  shipped release against them.
* `terminal_answers.json`: the raw answers the importer reads for two archetypes (listing
  endpoints included), for tests/unit/test_terminals_import.py.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any

import httpx

FIXTURES = Path(__file__).parents[2] / "tests" / "fixtures" / "boavizta"
CASES = [
    ("terminal", "laptop", "laptop-pro"),
    ("terminal", "smartphone", "smartphone-default"),
    ("terminal", "television", "tv-perso"),
    ("terminal", "vr_headset", "vr-headset-oled"),
    ("peripheral", "monitor", "monitor-default"),
    ("peripheral", "external_hdd", "hdd-default"),
]
LOCATIONS: list[str | None] = ["FRA", "USA", None]  # None: the API's default location
HOURS: list[float | None] = [None, 1.0, 730.0, 8760.0]  # None: the device's lifetime
SAMPLE = [("terminal", "laptop", "laptop-pro"), ("peripheral", "monitor", "monitor-default")]


async def ask(
    client: httpx.AsyncClient, path: str, archetype: str, hours: float | None, where: str | None
) -> dict[str, Any]:
    params = {"archetype": archetype, "criteria": "gwp", "verbose": "true"}
    if hours is not None:
        params["duration"] = repr(hours)
    if where is None:
        response = await client.get(path, params=params)
    else:
        body = {"usage": {"usage_location": where}}
        response = await client.post(path, params=params, json=body)
    response.raise_for_status()
    answer: dict[str, Any] = response.json()
    return answer


def triple(item: dict[str, Any]) -> list[float]:
    return [item["value"], item["min"], item["max"]]


def case(
    key: tuple[str, str, str], where: str | None, hours: float | None, answer: dict[str, Any]
) -> dict[str, Any]:
    verbose, gwp = answer["verbose"], answer["impacts"]["gwp"]
    grid, power = triple(verbose["gwp_factor"]), triple(verbose["avg_power"])
    ratio, units = triple(verbose["use_time_ratio"]), triple(verbose["units"])
    duration = verbose["duration"]["value"]
    bounds = zip(grid, power, ratio, units, strict=True)
    use = [g * p / 1000 * r * duration * u for g, p, r, u in bounds]
    return {
        "archetype": key[2],
        "country": where,
        "location_used": verbose["usage_location"]["value"],
        "hours": hours,
        "duration": duration,
        "api": {"use": triple(gwp["use"]), "embedded": triple(gwp["embedded"])},
        "grid": grid,
        "use_kg": use,
    }


async def record_cases(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    cases = []
    for key in CASES:
        for where in LOCATIONS:
            for hours in HOURS:
                answer = await ask(client, f"/v1/{key[0]}/{key[1]}", key[2], hours, where)
                cases.append(case(key, where, hours, answer))
    return cases


async def record_answers(client: httpx.AsyncClient) -> dict[str, Any]:
    """The raw answers of every query the importer makes for the SAMPLE archetypes."""
    answers: dict[str, Any] = {}
    for family, device, archetype in SAMPLE:
        path = f"/v1/{family}/{device}"
        answers.setdefault(f"/v1/{family}/all", {})[device] = path.lstrip("/")
        answers[f"{path}/archetypes"] = [archetype]
        answers[f"{path}?archetype={archetype}"] = await ask(client, path, archetype, None, None)
        hour = await ask(client, path, archetype, 1.0, None)
        answers[f"{path}?archetype={archetype}&duration=1.0"] = hour
    return answers


def dump_cases(source: dict[str, Any], cases: list[dict[str, Any]]) -> str:
    lines = [json.dumps(c, separators=(",", ":")) for c in cases]
    head = json.dumps(source, sort_keys=True)
    return '{"source": ' + head + ',\n"cases": [\n' + ",\n".join(lines) + "\n]}\n"


async def main(url: str) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=120.0) as client:
        version = (await client.get("/v1/utils/version")).json()
        cases = await record_cases(client)
        answers = await record_answers(client)
    source = {
        "name": "Boavizta API (boaviztapi)",
        "version": version,
        "url": url,
        "recorded_by": "tools/boavizta/record_terminal_cases.py",
    }
    (FIXTURES / "terminal_cases.json").write_text(dump_cases(source, cases))
    answers_text = json.dumps({"source": source, "answers": answers}, indent=1, sort_keys=True)
    (FIXTURES / "terminal_answers.json").write_text(answers_text + "\n")
    print(f"{FIXTURES}: {len(cases)} cases, answers for {len(SAMPLE)} archetypes")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:5000")
    asyncio.run(main(parser.parse_args().url.rstrip("/")))
