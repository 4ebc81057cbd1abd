"""`empreinte factors import-boavizta`: Boavizta releases from a running Boavizta API.

Boavizta is AGPL-3.0: nothing of its code or files comes in. The API is asked questions and
its answers (numbers) are recorded: per instance, the host shares, the CPU power-curve
parameters, the RAM power per DIMM, the local-disk power and the embedded impact per hour;
per country, the grid factor. services/compute/methods/cloud.py recomputes the API's
results from them (METHODS §3). Terminal archetypes: empreinte_cli/boavizta_terminals.py.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from empreinte_cli.boavizta_terminals import build_terminals, dump_terminals

boavizta_app = typer.Typer(no_args_is_help=True, help="Boavizta cloud and terminal factors.")

Json = dict[str, Any]
Triple = list[float]  # [value, min, max]
DATA_DIR = Path(__file__).parents[1] / "services" / "factors" / "data"
PROBE_LOAD = 100.0  # at full load a DIMM draws its full power: the RAM share reads directly
# The embedded value comes back rounded on a grid set by its min-max range; asking for
# durations where that grid is finest and intersecting the brackets recovers it.
EMBEDDED_REL_TOLERANCE = 3e-4
EMBEDDED_MAX_QUERIES = 10
CONCURRENCY = 4


@boavizta_app.command("import-boavizta")
def import_boavizta(
    url: Annotated[str, typer.Option(help="Base URL of a running Boavizta API")],
    out: Annotated[Path | None, typer.Option(help="Cloud release file to write")] = None,
    terminals_out: Annotated[
        Path | None, typer.Option(help="Terminals release file to write")
    ] = None,
    cloud: Annotated[bool, typer.Option(help="Record the cloud instances")] = True,
    terminals: Annotated[bool, typer.Option(help="Record the terminal archetypes")] = True,
) -> None:
    """Write the Boavizta releases: cloud (every instance, grid factors) and terminals."""
    if cloud:
        _import_cloud(url.rstrip("/"), out)
    if terminals:
        _import_terminals(url.rstrip("/"), terminals_out)


def _import_cloud(url: str, out: Path | None) -> None:
    release = asyncio.run(build_release(url))
    path = out or DATA_DIR / f"boavizta-{release['source']['version']}-cloud.json"
    path.write_text(dump_release(release))
    count = sum(len(v) for v in release["instances"].values())
    typer.echo(f"{path}: {count} instances, {len(release['hosts'])} hosts")
    for skipped in release["skipped"]:
        typer.echo(f"skipped {skipped}", err=True)


def _import_terminals(url: str, out: Path | None) -> None:
    release = asyncio.run(build_terminals(url))
    path = out or DATA_DIR / f"boavizta-{release['source']['version']}-terminals.json"
    path.write_text(dump_terminals(release))
    typer.echo(f"{path}: {len(release['archetypes'])} terminal and peripheral archetypes")


async def build_release(url: str) -> Json:
    """Ask the API everything a release holds."""
    async with httpx.AsyncClient(base_url=url, timeout=120.0) as client:
        api = _Api(client)
        version = await api.get("/v1/utils/version")
        providers: list[str] = await api.get("/v1/cloud/instance/all_providers")
        catalogue = {p: await api.instances(p) for p in providers}
        first = (providers[0], catalogue[providers[0]][0])
        electricity = await read_electricity(api, *first)
        hosts: dict[str, Json] = {}
        instances, skipped = await read_instances(api, catalogue, hosts)
    return {
        "release": f"boavizta-{version}-cloud",
        "source": _source(url, version),
        "electricity": electricity,
        "hosts": dict(sorted(hosts.items())),
        "instances": instances,
        "skipped": skipped,
    }


def _source(url: str, version: str) -> Json:
    return {
        "name": "Boavizta API (boaviztapi)",
        "version": version,
        "url": url,
        "retrieved_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "licence": "boaviztapi is AGPL-3.0; only its computed answers are recorded here",
        "units": {"power": "W", "embedded": "kgCO2e per instance-hour", "grid": "kgCO2e/kWh"},
    }


class _Api:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.gate = asyncio.Semaphore(CONCURRENCY)

    async def get(self, path: str, **params: str) -> Any:
        async with self.gate:
            response = await self.client.get(path, params=params)
        response.raise_for_status()
        return response.json()

    async def instances(self, provider: str) -> list[str]:
        names: list[str] = await self.get("/v1/cloud/instance/all_instances", provider=provider)
        return names

    async def cloud(self, provider: str, instance: str, usage: Json, hours: float) -> Json:
        body = {"provider": provider, "instance_type": instance, "usage": usage}
        params = {"verbose": "true", "duration": repr(hours), "criteria": "gwp"}
        async with self.gate:
            response = await self.client.post("/v1/cloud/instance", params=params, json=body)
        response.raise_for_status()
        answer: Json = response.json()
        return answer


async def read_electricity(api: _Api, provider: str, instance: str) -> Json:
    """The API's grid factor for every country it knows, and its default location."""
    codes: Mapping[str, str] = await api.get("/v1/utils/country_code")

    async def factor(usage: Json) -> Json:
        answer = await api.cloud(provider, instance, usage, 1.0)
        return {k: answer["verbose"]["gwp_factor"][k] for k in ("value", "min", "max")}

    unique = sorted(set(codes.values()))
    factors = await asyncio.gather(*(factor({"usage_location": c}) for c in unique))
    default = await api.cloud(provider, instance, {}, 1.0)
    factor_of = dict(zip(unique, factors, strict=True))
    return {
        "unit": "kgCO2e/kWh",
        "default_location": default["verbose"]["usage_location"]["value"],
        "default": await factor({}),
        "countries": {c: f["value"] for c, f in factor_of.items()},
        "ranges": {c: [f["min"], f["max"]] for c, f in factor_of.items() if _ranged(f)},
    }


def _ranged(factor: Json) -> bool:
    return bool(factor["min"] != factor["value"] or factor["max"] != factor["value"])


async def read_instances(
    api: _Api, catalogue: Mapping[str, list[str]], hosts: dict[str, Json]
) -> tuple[Json, list[str]]:
    """Every instance's figures; the ones the API cannot compute are listed as skipped."""
    jobs = [(p, name) for p, names in catalogue.items() for name in names]
    results = await asyncio.gather(*(read_instance(api, p, n) for p, n in jobs))
    instances: dict[str, Json] = {p: {} for p in catalogue}
    skipped: list[str] = []
    for (provider, name), result in zip(jobs, results, strict=True):
        if isinstance(result, str):
            skipped.append(f"{provider}/{name}: {result}")
            continue
        host, entry = result
        host_id = hashlib.sha256(_canonical(host).encode()).hexdigest()[:10]
        hosts[host_id] = host
        instances[provider][name] = {"host": host_id, **entry}
    return instances, skipped


async def read_instance(api: _Api, provider: str, name: str) -> tuple[Json, Json] | str:
    """(host figures, instance figures), or why the API could not answer."""
    usage = {"usage_location": "WOR", "time_workload": PROBE_LOAD}
    try:
        answer = await api.cloud(provider, name, usage, 1.0)
        host, entry = instance_figures(answer)

        async def ask(hours: float) -> Json:
            embedded: Json = (await api.cloud(provider, name, usage, hours))["impacts"]["gwp"][
                "embedded"
            ]
            return embedded

        entry["embedded"] = await embedded_per_hour(ask, answer["impacts"]["gwp"]["embedded"])
    except (httpx.HTTPStatusError, KeyError, TypeError, ValueError) as error:
        return f"{type(error).__name__}: {error}"
    return host, entry


def instance_figures(answer: Json) -> tuple[Json, Json]:
    """Split one verbose answer at ``PROBE_LOAD`` into host figures and instance figures."""
    verbose = answer["verbose"]
    ratio = verbose["other_consumption_ratio"]
    memory = float(verbose["memory"]["value"])
    host = {
        "cpu": _cpu_figures(verbose["CPU-1"]),
        "ram": _ram_figures(verbose["RAM-1"], memory),
        "other_ratio": [ratio["value"], ratio["min"], ratio["max"]],
        "hours_life_time": verbose["hours_life_time"]["value"],
    }
    entry: Json = {"vcpu": float(verbose["vcpu"]["value"]), "memory_gb": memory}
    disk = _disk_power(verbose, ratio)
    if any(disk):
        entry["disk_w"] = disk
    return host, entry


def _cpu_figures(cpu: Json) -> Json:
    params: Json = cpu["params"]["value"]
    return {"units": cpu["units"]["value"], "threads": cpu["threads"]["value"]} | params


def _ram_figures(ram: Json, memory_gb: float) -> Json:
    dimm_w = ram["params"]["value"]["a"]
    # The API allocates RAM power as (DIMMs on the host) x (memory share): at full load that
    # is memory / DIMM size x the DIMM's power, so the DIMM size reads off the RAM power.
    return {
        "dimm_w": dimm_w,
        "idle_ratio": ram["params"]["value"]["idle_ratio"],
        "host_gb": ram["units"]["value"] * ram["capacity"]["value"],
        "dimm_gb": memory_gb * dimm_w / ram["avg_power"]["value"],
    }


def _disk_power(verbose: Json, ratio: Json) -> Triple:
    # Local disks are the rest of the instance power once CPU and RAM are counted.
    cpu, ram = verbose["CPU-1"]["avg_power"], verbose["RAM-1"]["avg_power"]
    total = verbose["avg_power"]
    rest = [total[k] - (cpu[k] + ram[k]) * (1 + ratio[k]) for k in ("value", "min", "max")]
    return [0.0 if abs(r) <= 1e-9 * total["max"] else r for r in rest]


async def embedded_per_hour(
    ask: Callable[[float], Awaitable[Json]], first: Json, life: float = 52560.0
) -> Triple:
    """Embedded kgCO2e per hour (value, min, max), unrounded from the API's rounded answers."""
    spread = max(first["max"] - first["min"], 1e-300)
    low, high = _bracket(first["value"], 1.0)
    answer, hours = first, 1.0
    for attempt in range(EMBEDDED_MAX_QUERIES):
        if high - low <= EMBEDDED_REL_TOLERANCE * abs(high + low) / 2:
            break
        hours = _finest_hours(spread, life, attempt)
        answer = await ask(hours)
        new_low, new_high = _bracket(answer["value"], hours)
        low, high = max(low, new_low), min(high, new_high)
    if low > high:
        raise ValueError(f"embedded brackets do not meet: {low} > {high}")
    return [(low + high) / 2, answer["min"] / hours, answer["max"] / hours]


def _bracket(rounded: float, hours: float) -> tuple[float, float]:
    # A decimal answer stands for every value within half a unit of its last significant
    # digit; trailing zeros may or may not be significant, so they are taken as not.
    exponent = Decimal(repr(rounded)).normalize().as_tuple().exponent
    half = 0.5 * 10.0 ** int(exponent)
    return (rounded - half) / hours, (rounded + half) / hours


def _finest_hours(spread: float, life: float, attempt: int) -> float:
    # The rounding step is a power of ten below a fixed fraction of spread x hours: it is
    # finest relative to hours when spread x hours sits just below a power of ten. Later
    # attempts shift the duration a little so their brackets fall differently.
    top = math.floor(math.log10(spread * life * 0.99))
    hours = 0.99 * 10.0**top / spread * (1 - 0.0173 * attempt)
    return hours if 1 <= hours <= life else life * (1 - 0.0173 * attempt)


def _canonical(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def dump_release(release: Json) -> str:
    """The release as JSON: one line per host and per instance, so diffs stay readable."""
    parts = [f"{json.dumps(k)}: {json.dumps(v, sort_keys=True)}" for k, v in release.items()]
    parts[list(release).index("hosts")] = f'"hosts": {_lines(release["hosts"])}'
    providers = [f"{json.dumps(p)}: {_lines(v)}" for p, v in release["instances"].items()]
    parts[list(release).index("instances")] = '"instances": {\n' + ",\n".join(providers) + "\n}"
    return "{\n" + ",\n".join(parts) + "\n}\n"


def _lines(mapping: Mapping[str, Any]) -> str:
    inner = [f"{json.dumps(k)}: {json.dumps(v, sort_keys=True)}" for k, v in mapping.items()]
    return "{\n" + ",\n".join(inner) + "\n}"
