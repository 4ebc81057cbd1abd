"""Boavizta's terminal and peripheral archetypes, recorded from a running Boavizta API.

Boavizta is AGPL-3.0: nothing of its code or files comes in. Per archetype (laptop-pro,
smartphone-default, monitor-default...) the API is asked for its impacts twice: over the
device's lifetime (no duration) and for one hour of it. Embedded impacts of terminals have
no range in 2.5.0 (min = max) and come back unrounded. The use phase is kept as the API
states it (average power, share of the time in use, lifetime), so that its impact can be
recomputed with any grid factor: kg = grid x avg_power / 1000 x use_time_ratio x hours.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import httpx

Json = dict[str, Any]
Triple = list[float]  # [value, min, max]
FAMILIES = ("terminal", "peripheral")  # iot devices have no use phase in 2.5.0: left out
FORMAT = 1
# What run_oracle.sh sets: they change the rounding of answers, never a computation.
ORACLE_SETTINGS = {"BOAVIZTA_MAX_SIG_FIG": 15, "BOAVIZTA_UNCERTAINTY": 1}
SIG_FIG = ORACLE_SETTINGS["BOAVIZTA_MAX_SIG_FIG"]
LICENCE = (
    "Boavizta declares no separate licence for its data: boaviztapi 2.5.0, code and the "
    "data files it ships, is AGPL-3.0 (package metadata and README). Only numbers read "
    "from its HTTP answers are recorded here."
)
# Boavizta's own citation for these gwp figures (the `source` of its factors, not in the
# HTTP answers): recorded so a reader knows where the numbers come from before Boavizta.
UPSTREAM = {
    "default": "ADEME Base Empreinte (https://base-empreinte.ademe.fr/)",
    "vr_headset": "CEPIR: Cas d'Etude Pour un Immersif Responsable, 2022",
    "vr_controller": "CEPIR: Cas d'Etude Pour un Immersif Responsable, 2022",
}


async def build_terminals(url: str, transport: httpx.AsyncBaseTransport | None = None) -> Json:
    """Every terminal and peripheral archetype the API knows, with its provenance."""
    async with httpx.AsyncClient(base_url=url, timeout=120.0, transport=transport) as client:
        version: str = await _get(client, "/v1/utils/version")
        found = await list_archetypes(client)
        answers = await asyncio.gather(*(read_archetype(client, *key) for key in found))
    names = [key[2] for key in found]
    if len(set(names)) != len(names):  # archetype names key the release: they must not clash
        raise ValueError(f"archetype names repeat across devices: {sorted(names)}")
    return {
        "release": f"boavizta-{version}",
        "format": FORMAT,
        "source": terminals_source(url, version),
        "archetypes": dict(zip(names, answers, strict=True)),
    }


def terminals_source(url: str, version: str) -> Json:
    """Where and how the figures were read."""
    return {
        "name": "Boavizta API (boaviztapi)",
        "version": version,
        "url": url,
        "retrieved_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "oracle_settings": ORACLE_SETTINGS,
        "queries": "GET /v1/{family}/{device}?archetype=A&criteria=gwp&verbose=true, "
        "without duration (the lifetime) and with duration=1 (one hour)",
        "licence": LICENCE,
        "upstream": UPSTREAM,
        "units": {
            "embedded_kg": "kgCO2e per device over its lifetime",
            "embedded_kg_per_hour": "kgCO2e per hour of the device's lifetime",
            "avg_power_w": "W while in use",
            "use_time_ratio": "share of the hours the device is in use",
            "hours_life_time": "hours",
        },
    }


async def list_archetypes(client: httpx.AsyncClient) -> list[tuple[str, str, str]]:
    """(family, device, archetype) of every archetype, in the API's order."""
    found = []
    for family in FAMILIES:
        devices: dict[str, str] = await _get(client, f"/v1/{family}/all")
        for device in devices:
            names: list[str] = await _get(client, f"/v1/{family}/{device}/archetypes")
            found += [(family, device, name) for name in names]
    return found


async def read_archetype(client: httpx.AsyncClient, family: str, device: str, name: str) -> Json:
    """One archetype's figures from its lifetime answer and its one-hour answer."""
    path = f"/v1/{family}/{device}"
    params = {"archetype": name, "criteria": "gwp", "verbose": "true"}
    lifetime = await _get(client, path, **params)
    hour = await _get(client, path, **params, duration="1.0")
    return archetype_figures(family, device, lifetime, hour)


def archetype_figures(family: str, device: str, lifetime: Json, hour: Json) -> Json:
    """The recorded figures of one archetype; ValueError when the answers do not fit."""
    verbose = lifetime["verbose"]
    life = float(verbose["hours_life_time"]["value"])
    if verbose["units"]["value"] != 1 or verbose["duration"]["value"] != life:
        raise ValueError(f"{device}: expected one device over its lifetime, got {verbose}")
    embedded = lifetime["impacts"]["gwp"]["embedded"]
    figures: Json = {
        "family": family,
        "device": device,
        "embedded_kg": _triple(embedded),
        "embedded_kg_per_hour": _triple(hour["impacts"]["gwp"]["embedded"]),
        "hours_life_time": life,
        "avg_power_w": _triple(verbose["avg_power"]),
        "use_time_ratio": _triple(verbose["use_time_ratio"]),
        "warnings": embedded.get("warnings", []),
        "upstream": UPSTREAM.get(device, UPSTREAM["default"]),
    }
    if "type" in verbose:
        figures["type"] = verbose["type"]["value"]
    return figures


def _triple(item: Json) -> Triple:
    # min and max come back with BOAVIZTA_MAX_SIG_FIG (15) significant figures, the value
    # with all of a float's: 181 / 35040 h gives a max a hair below its value. At the API's
    # own precision they are equal again, as they are in its computation.
    return [float(f"{float(item[k]):.{SIG_FIG}g}") for k in ("value", "min", "max")]


async def _get(client: httpx.AsyncClient, path: str, **params: str) -> Any:
    response = await client.get(path, params=params)
    response.raise_for_status()
    return response.json()


def dump_terminals(release: Json) -> str:
    """The release as JSON: one line per archetype, so diffs stay readable."""
    head = [f"{json.dumps(k)}: {json.dumps(v, sort_keys=True)}" for k, v in release.items()]
    lines = [f"{json.dumps(k)}: {json.dumps(v, sort_keys=True)}" for k, v in _sorted(release)]
    head[list(release).index("archetypes")] = '"archetypes": {\n' + ",\n".join(lines) + "\n}"
    return "{\n" + ",\n".join(head) + "\n}\n"


def _sorted(release: Json) -> list[tuple[str, Json]]:
    return sorted(release["archetypes"].items())
