"""Record Boavizta API 2.5.0's answers for tests/fixtures/boavizta/cases.json.

Not shipped code: it runs the oracle, a boaviztapi installed OUTSIDE this repository (it is
AGPL-3.0; nothing of it comes in, only its answers). See tools/boavizta/README.md.

    python tools/boavizta/record_cases.py --url http://127.0.0.1:5000

Per case it keeps the API's raw answer (impacts as returned, rounded by the API) and the
unrounded figures: power from the verbose answer (never rounded), use recomputed exactly as
the API does from its unrounded power and grid factor, and embedded per hour recovered by
intersecting the brackets of rounded answers at several durations.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parents[2]))
from empreinte_cli.boavizta_commands import embedded_per_hour

OUT = Path(__file__).parents[2] / "tests" / "fixtures" / "boavizta" / "cases.json"
PER_PROVIDER = 7
# Instances worth a case whatever the sampling: the METHODS calibration, local disks, GPUs.
ALWAYS = {"aws": ["m5.xlarge", "i3.large", "p3.2xlarge"], "scaleway": ["dev1-s"]}
LOADS = [0.0, 10.0, 37.0, 50.0, 100.0]
LOCATIONS: list[str | None] = ["FRA", "USA", "IND", None]  # None: the API's default location
HOURS = [1.0, 24.0, 730.0, 0.5, 8760.0]


def sample(names: list[str], provider: str) -> list[str]:
    step = max(1, len(names) // PER_PROVIDER)
    picked = names[::step][:PER_PROVIDER]
    return [*picked, *(n for n in ALWAYS.get(provider, []) if n not in picked)]


async def ask(
    client: httpx.AsyncClient, provider: str, name: str, usage: dict[str, Any], hours: float
) -> dict[str, Any]:
    body = {"provider": provider, "instance_type": name, "usage": usage}
    params = {"verbose": "true", "duration": repr(hours), "criteria": "gwp"}
    response = await client.post("/v1/cloud/instance", params=params, json=body)
    response.raise_for_status()
    answer: dict[str, Any] = response.json()
    if answer.get("warnings"):  # e.g. a fuzzy match to another instance: not this case
        raise ValueError(f"{provider}/{name}: {answer['warnings']}")
    return answer


def triple(item: dict[str, Any]) -> list[float]:
    return [item["value"], item["min"], item["max"]]


async def record_case(
    client: httpx.AsyncClient,
    provider: str,
    name: str,
    load: float,
    location: str | None,
    hours: float,
    embedded: list[float],
) -> dict[str, Any]:
    usage: dict[str, Any] = {"time_workload": load}
    if location is not None:
        usage["usage_location"] = location
    answer = await ask(client, provider, name, usage, hours)
    verbose, gwp = answer["verbose"], answer["impacts"]["gwp"]
    power, grid = triple(verbose["avg_power"]), triple(verbose["gwp_factor"])
    return {
        "provider": provider,
        "instance": name,
        "load": load,
        "country": location,
        "hours": hours,
        "api": {"use": triple(gwp["use"]), "embedded": triple(gwp["embedded"])},
        "power_w": power,
        "grid": grid,
        # cloud_impact_use: factor x avg_power / 1000 x use_time_ratio (1) x duration
        "use_kg": [g * p / 1000.0 * hours for g, p in zip(grid, power, strict=True)],
        "embedded_kg": [e * hours for e in embedded],
    }


async def record_instance(
    client: httpx.AsyncClient, provider: str, name: str
) -> list[dict[str, Any]]:
    usage = {"usage_location": "WOR", "time_workload": 50.0}

    async def embedded_at(hours: float) -> dict[str, Any]:
        answer = await ask(client, provider, name, usage, hours)
        result: dict[str, Any] = answer["impacts"]["gwp"]["embedded"]
        return result

    embedded = await embedded_per_hour(embedded_at, await embedded_at(1.0))
    cases = []
    for i, load in enumerate(LOADS):
        for j, location in enumerate(LOCATIONS):
            hours = HOURS[(i + j) % len(HOURS)]
            cases.append(await record_case(client, provider, name, load, location, hours, embedded))
    return cases


def dump(fixture: dict[str, Any]) -> str:
    """The fixture as JSON, one case per line."""
    lines = [json.dumps(case, separators=(",", ":")) for case in fixture["cases"]]
    source = json.dumps(fixture["source"], sort_keys=True)
    return '{"source": ' + source + ',\n"cases": [\n' + ",\n".join(lines) + "\n]}\n"


async def main(url: str) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=120.0) as client:
        version = (await client.get("/v1/utils/version")).json()
        providers = (await client.get("/v1/cloud/instance/all_providers")).json()
        cases: list[dict[str, Any]] = []
        for provider in providers:
            names = (
                await client.get("/v1/cloud/instance/all_instances", params={"provider": provider})
            ).json()
            for name in sample(names, provider):
                cases += await record_instance(client, provider, name)
    source = {"name": "Boavizta API (boaviztapi)", "version": version, "url": url}
    recorder = {"recorded_by": "tools/boavizta/record_cases.py"}
    OUT.write_text(dump({"source": source | recorder, "cases": cases}))
    print(f"{OUT}: {len(cases)} cases")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:5000")
    asyncio.run(main(parser.parse_args().url.rstrip("/")))
