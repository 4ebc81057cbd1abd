"""The dashboard query through the gateway against the same query straight to reporting.

Starts the services and the gateway as real processes (`empreinte service run NAME`,
`empreinte gateway run` on a free port) on the PostgreSQL and NATS of DATABASE_URL/NATS_URL
(else 127.0.0.1), in a scratch database and namespace. Loads a demo organisation through
the public REST API (the demo company's year of activities, copied over several sites),
waits until reporting has taken in every one, then sends the dashboard query (footprint for
a year by scope and by post) from N concurrent clients for S seconds: over HTTP to the
gateway (aiohttp), then as the same two requests over NATS to reporting. The gateway's
overhead is the ratio of the two, measured in the same run. Writes bench/results/graphql.json.
A third path sends the same two requests over NATS as known at the current position
(`as_of.position`), which reporting answers from the ledger (every version, as any past
position), not from its tables of the ledger as known now: the gain of those, in the same
run (`--no-ledger` leaves it out). The paths take turns (`--rounds`), as the machine may be
shared and its load moves. Each run also records the CPU the bench client and each backend
process used. Run: `python -m bench.graphql [--quick] [--clients 50] [--seconds 30]
[--copies 20] [--rounds 3] [--no-ledger]`; with more than one client, the same comparison
follows with one client (`one_client`: latency with nothing queued).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import secrets
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import numpy as np
import psutil

from bench.common import rate, scratch_database, write_results
from bench.processes import Stack, running
from contracts import reporting as r
from empreinte_cli.demo import company
from gateway.keys import ApiKeys
from kernel.client import ServiceClient
from kernel.db import create_engine
from kernel.endpoints import CallContext
from kernel.settings import Settings

ORG = "acme"
PERIOD = {"periodStart": "2024-01-01", "periodEnd": "2025-01-01"}
FIGURES = "total { value min max } unresolved groups { key { dimension value } kg { value } share }"
DASHBOARD = f"""query($filter: FootprintFilter!) {{
  byScope: footprint(filter: $filter, groupBy: [SCOPE]) {{ {FIGURES} }}
  byPost: footprint(filter: $filter, groupBy: [POST]) {{ {FIGURES} }} }}"""
GOAL_P95_MS, GOAL_OVERHEAD = 50.0, 1.5


@dataclass(frozen=True)
class Mode:
    clients: int
    seconds: float
    copies: int  # of the demo company's activities, each on its own sites
    rounds: int  # the paths take turns, so that all see the same (shared) machine
    name: str = "graphql"
    ledger: bool = True  # also measure the ledger path (as known at a position)


QUICK = Mode(clients=4, seconds=2, copies=1, rounds=1, name="graphql_quick")
FULL = Mode(clients=50, seconds=30, copies=20, rounds=3)


@dataclass
class Run:
    """Latencies of one load run, and what the machine was doing meanwhile."""

    seconds: list[float] = field(default_factory=list)
    elapsed: float = 0.0
    machine_cpu_percent: float = 0.0
    client_cpu: float = 0.0  # this process's CPU seconds: the load generator's own cost
    processes_cpu: dict[str, float] = field(default_factory=dict)  # backend, by process
    # connections the gateway dropped (seen under heavy machine load: a reset connection)
    dropped: int = 0

    def summary(self) -> dict[str, float]:
        ms = np.asarray(self.seconds) * 1000
        p50, p95, p99 = np.percentile(ms, [50, 95, 99])
        return {"p50_ms": float(p50), "p95_ms": float(p95), "p99_ms": float(p99),
                "requests": len(ms), "requests_per_s": rate(len(ms), self.elapsed),
                "dropped_connections": self.dropped,
                "machine_cpu_percent": self.machine_cpu_percent,
                "client_cpu_percent": 100 * self.client_cpu / self.elapsed,
                **{f"{name}_cpu_percent": 100 * cpu / self.elapsed
                   for name, cpu in sorted(self.processes_cpu.items())}}  # fmt: skip


Cpu = Callable[[], dict[str, float]]  # CPU seconds so far of each backend process, by name


async def drive(clients: int, seconds: float, one: Callable[[], Awaitable[None]], cpu: Cpu) -> Run:
    """`clients` loops each sending `one` request after the other for `seconds`."""
    run, deadline = Run(), time.perf_counter() + seconds

    async def client() -> None:
        while (started := time.perf_counter()) < deadline:
            try:
                await one()
            except aiohttp.ClientConnectionError:  # counted and reported, never timed as an answer
                run.dropped += 1
                continue
            run.seconds.append(time.perf_counter() - started)

    psutil.cpu_percent()  # starts the machine-wide measure
    began, own, backend = time.perf_counter(), time.process_time(), cpu()
    await asyncio.gather(*(client() for _ in range(clients)))
    run.elapsed, run.machine_cpu_percent = time.perf_counter() - began, psutil.cpu_percent()
    run.client_cpu = time.process_time() - own
    run.processes_cpu = {k: v - backend.get(k, 0.0) for k, v in cpu().items()}
    return run


def merged(runs: list[Run]) -> Run:
    """Several runs as one: all their latencies, over their summed time."""
    elapsed = sum(r.elapsed for r in runs)
    machine = sum(r.machine_cpu_percent * r.elapsed for r in runs) / elapsed
    samples = [s for r in runs for s in r.seconds]
    processes = {k: sum(r.processes_cpu.get(k, 0.0) for r in runs) for k in runs[0].processes_cpu}
    dropped = sum(r.dropped for r in runs)
    return Run(samples, elapsed, machine, sum(r.client_cpu for r in runs), processes, dropped)


async def measured(mode: Mode, one: Callable[[], Awaitable[None]], cpu: Cpu) -> Run:
    await drive(mode.clients, max(1.0, mode.seconds / 10), one, cpu)  # warm-up: pools, caches
    return await drive(mode.clients, mode.seconds, one, cpu)


def through_gateway(http: aiohttp.ClientSession) -> Callable[[], Awaitable[None]]:
    body = {"query": DASHBOARD, "variables": {"filter": PERIOD}}

    async def one() -> None:
        async with http.post("/graphql", json=body) as answer:
            text = await answer.text()
        if answer.status != 200 or "errors" in json.loads(text):
            raise RuntimeError(f"the gateway answered {answer.status}: {text[:300]}")

    return one


def gateway_session(url: str, headers: dict[str, str], clients: int) -> aiohttp.ClientSession:
    """The load generator's HTTP client: aiohttp, as httpx's pool spent about 4 ms of CPU
    per request with 50 connections (against about 1 ms for the gateway itself), so that on
    2 cores the bench measured its own client more than the gateway."""
    connector = aiohttp.TCPConnector(limit=clients)
    timeout = aiohttp.ClientTimeout(total=60)
    return aiohttp.ClientSession(url, headers=headers, connector=connector, timeout=timeout)


def straight_to_reporting(
    client: ServiceClient, position: int | None = None
) -> Callable[[], Awaitable[None]]:
    """The two footprints the dashboard asks for, concurrently, as the gateway sends them;
    as known now, or at `position` (reporting then answers from the ledger)."""
    ctx = CallContext(tenant_id=ORG, role="viewer")
    filters = {"period_start": PERIOD["periodStart"], "period_end": PERIOD["periodEnd"]}
    as_of = {"position": position}
    asks = [r.Footprint.model_validate({"filters": filters, "group_by": [g], "as_of": as_of})
            for g in ("scope", "post")]  # fmt: skip

    async def one() -> None:
        await asyncio.gather(*(client.call(r.FOOTPRINT, a, ctx) for a in asks))

    return one


def activities(copies: int) -> list[dict[str, Any]]:
    """The demo company's year, `copies` times over, each copy on sites of its own."""
    year = company.activities()
    return [{**a, "site": f"{a['site']}-{n}"} for n in range(copies) for a in year]


async def load(http: httpx.AsyncClient, items: list[dict[str, Any]]) -> list[str]:
    """Record `items` through POST /v1/activities; the ids of those accepted."""
    body = "\n".join(json.dumps(i) for i in items).encode()
    headers = {"Content-Type": "application/x-ndjson", "Idempotency-Key": secrets.token_hex(8)}
    answer = await http.post("/v1/activities", content=body, headers=headers, timeout=600)
    answer.raise_for_status()
    return [i for i in answer.json()["activity_ids"] if i]


class Settling:
    """Reporting's change notices for ORG, heard from before the load: the ids are known only
    once recorded, and their notices may come before the answer naming them."""

    def __init__(self) -> None:
        self.heard: set[str] = set()
        self.expected: set[str] | None = None
        self.done = asyncio.Event()

    async def on(self, msg: Any) -> None:
        self.heard.add(str(r.FootprintChanged.model_validate_json(msg.data).source_id))
        self.check()

    def expect(self, ids: list[str]) -> None:
        self.expected = set(ids)
        self.check()

    def check(self) -> None:
        if self.expected is not None and self.expected <= self.heard:
            self.done.set()


async def loaded(stack: Stack, key: str, copies: int) -> int:
    """Load ORG through the REST API; how many activities reporting took in."""
    settling = Settling()
    changes = r.changes_subject(stack.settings.namespace, ORG)
    sub = await stack.nc.subscribe(changes, cb=settling.on)
    try:
        async with httpx.AsyncClient(base_url=stack.url, headers={"X-API-Key": key}) as http:
            ids = await load(http, activities(copies))
        settling.expect(ids)
        await asyncio.wait_for(settling.done.wait(), 900)
    finally:
        await sub.unsubscribe()
    return len(ids)


async def admin_key(settings: Settings) -> str:
    assert settings.database_url
    engine = create_engine(settings.database_url, pool_size=1)
    try:
        return (await ApiKeys(engine).create(ORG, ["admin"], "bench", actor="bench")).secret
    finally:
        await engine.dispose()


async def compare(stack: Stack, key: str, mode: Mode) -> dict[str, Any]:
    """The dashboard through the gateway, then straight to reporting (as known now, then
    from the ledger), in this run."""
    headers = {"X-API-Key": key}
    client = ServiceClient(stack.nc, stack.settings.namespace, timeout=60)
    turn = Mode(mode.clients, mode.seconds / mode.rounds, mode.copies, 1)
    position = await current_position(client)
    cpu = stack.processes.cpu_seconds
    runs: dict[str, list[Run]] = {"gateway": [], "nats": [], "nats_ledger": []}
    for _ in range(mode.rounds):
        # fresh connections each turn: the server closes those idle for 5 s meanwhile, and
        # one closing just as it is reused fails the request
        async with gateway_session(stack.url, headers, mode.clients) as http:
            runs["gateway"].append(await measured(turn, through_gateway(http), cpu))
        runs["nats"].append(await measured(turn, straight_to_reporting(client), cpu))
        if mode.ledger:
            ledger = straight_to_reporting(client, position)
            runs["nats_ledger"].append(await measured(turn, ledger, cpu))
    gateway, nats = (merged(runs[path]).summary() for path in ("gateway", "nats"))
    ledger_path = merged(runs["nats_ledger"]).summary() if mode.ledger else None
    overhead = {
        "p95_ratio": gateway["p95_ms"] / nats["p95_ms"],
        "throughput_ratio": nats["requests_per_s"] / gateway["requests_per_s"],
    }
    goal = {
        "p95_ms_at_most": GOAL_P95_MS,
        "overhead_at_most": GOAL_OVERHEAD,
        "p95_met": gateway["p95_ms"] <= GOAL_P95_MS,
        "overhead_met": overhead["p95_ratio"] <= GOAL_OVERHEAD,
    }
    found = {"gateway": gateway, "nats": nats, "overhead": overhead, "goal": goal}
    if ledger_path is not None:
        found["nats_ledger"] = ledger_path
        found["now_against_ledger"] = {
            "p95_ratio": ledger_path["p95_ms"] / nats["p95_ms"],
            "throughput_ratio": nats["requests_per_s"] / ledger_path["requests_per_s"],
        }
    return found


async def current_position(client: ServiceClient) -> int:
    """The position reporting's answers are complete up to, once the load has settled."""
    ctx = CallContext(tenant_id=ORG, role="viewer")
    filters = {"period_start": PERIOD["periodStart"], "period_end": PERIOD["periodEnd"]}
    ask = r.Footprint.model_validate({"filters": filters})
    return (await client.call(r.FOOTPRINT, ask, ctx)).position


async def main(mode: Mode) -> dict[str, Any]:
    base = Settings()
    server = base.database_url or "postgresql://postgres@127.0.0.1:5432/postgres"
    nats_url = base.nats_url or "nats://127.0.0.1:4222"
    before = os.getloadavg()
    async with scratch_database(server) as url:
        update = {"database_url": url, "nats_url": nats_url,
                  "namespace": f"bench{secrets.token_hex(3)}"}  # fmt: skip
        settings = base.model_copy(update=update)
        with tempfile.TemporaryDirectory() as folder:
            async with running(settings, Path(folder)) as stack:
                key = await admin_key(settings)
                recorded = await loaded(stack, key, mode.copies)
                figures = await compare(stack, key, mode)
                if mode.clients > 1:  # the latency of one dashboard, nothing queued
                    one = dataclasses.replace(mode, clients=1)
                    figures["one_client"] = await compare(stack, key, one)
    load = {"cpus": os.cpu_count(), "loadavg_before": before, "loadavg_after": os.getloadavg()}
    return {"mode": {"clients": mode.clients, "seconds": mode.seconds, "rounds": mode.rounds},
            "activities": recorded, **figures, "machine_load": load}  # fmt: skip


def _mode(args: argparse.Namespace) -> Mode:
    chosen = QUICK if args.quick else FULL
    return Mode(
        clients=args.clients or chosen.clients,
        seconds=args.seconds or chosen.seconds,
        copies=args.copies or chosen.copies,
        rounds=args.rounds or chosen.rounds,
        name=chosen.name,
        ledger=not args.no_ledger,
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a few seconds, a few clients")
    parser.add_argument("--clients", type=int)
    parser.add_argument("--seconds", type=float)
    parser.add_argument("--copies", type=int)
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--no-ledger", action="store_true", help="leave the ledger path out")
    mode = _mode(parser.parse_args())
    results = asyncio.run(main(mode))
    print(json.dumps(results, indent=2))
    print(f"written: {write_results(mode.name, results)}")
