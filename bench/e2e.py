"""End to end: activities recorded through the gateway at rising rates, as integrators would.

The stack is real processes, as a deployment runs them: one per service (`empreinte service
run NAME`) and the gateway (`empreinte gateway run`, one uvicorn worker), on the PostgreSQL
and NATS in DATABASE_URL/NATS_URL (else 127.0.0.1), in a scratch database and namespace. This
process is the integrator: it sends `recordActivities` mutations open-loop (at the stage's
pace, whatever the answers' delay, at most MAX_IN_FLIGHT at once) and listens to reporting's
change notices (what the `footprintChanged` subscription relays), so the visibility latency
is from the mutation's answer to the notice that the dashboard shows the activity.

Per stage: accepted rate, visible rate (activities announced per second, from the stage's
first request to its last activity's notice: below the accepted rate when the pipeline falls
behind, however many the gateway accepts), visibility p50/p95/p99, consumer lag (JetStream
num_pending + num_ack_pending), CPU per process, load average. Then PostgreSQL bytes per
million events (the event tables, and all of the services' schemas) and the projection
rebuild rate (`services.reporting.rebuild`, what
`empreinte reporting rebuild` runs). Ratios are to the goals. Writes bench/results/e2e.json
(e2e-quick.json).
Run: `python -m bench.e2e [--quick | --stages RATE:BATCH:SECONDS,...]`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import secrets
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import nats
import numpy as np
import sqlalchemy as sa
from nats.aio.client import Client as NatsClient

from bench.common import rate, scratch_database, write_results
from bench.e2e_load import STAGES, Stage, Visibility, drive, wait_visible
from bench.e2e_stack import api_key, consumer_lag, forget_namespace
from bench.processes import Processes, ready
from contracts import reporting as r
from contracts.services import SERVICES
from kernel.db import create_engine
from kernel.settings import Settings
from services.reporting.rebuild import rebuild

TENANT = "bench"
GOAL_RATE, GOAL_P95_MS, GOAL_REBUILD = 2000.0, 500.0, 50_000.0


async def run_stage(
    stage: Stage, http: httpx.AsyncClient, nc: NatsClient, processes: Processes, seen: Visibility
) -> dict[str, Any]:
    ns = processes.settings.namespace
    await processes.name_backends()
    load, cpu, client_cpu = os.getloadavg()[0], processes.cpu_seconds(), _own_cpu()
    lags: list[dict[str, int]] = []
    sampling = asyncio.create_task(_sample_lag(nc, ns, lags))
    started = time.perf_counter()
    sent = await drive(stage, http, seen)
    at_end_of_sending = await consumer_lag(nc, ns)
    unseen = await wait_visible(seen, sent.ids, within=stage.seconds * 3 + 60)
    drained = time.perf_counter() - sent.last_answer
    last_seen = seen.last_seen(sent.ids)
    sampling.cancel()
    latencies = np.array(seen.latencies(sent.ids)) * 1000
    await processes.name_backends()
    used = processes.cpu_seconds()
    cpu_s = {k: round(used[k] - cpu.get(k, 0.0), 2) for k in used} | {
        "client": _own_cpu() - client_cpu
    }
    return {
        "target_per_s": stage.rate,
        "batch_per_request": stage.batch,
        "requests_per_s": stage.rate / stage.batch,
        "seconds": stage.seconds,
        "accepted": len(sent.ids),
        "accepted_per_s": rate(len(sent.ids), sent.last_answer - started),
        "visible_per_s": rate(len(sent.ids) - unseen, last_seen - started) if last_seen else 0.0,
        "errors": dict(sent.errors),
        "visible_ms": _percentiles(latencies),
        "unseen_after_wait": unseen,
        "all_visible_s_after_last_answer": drained,
        "lag_max": {k: max(s[k] for s in lags) for k in at_end_of_sending} if lags else {},
        "lag_at_end_of_sending": at_end_of_sending,
        "loadavg_1m": [load, os.getloadavg()[0]],
        "cpu_s": cpu_s,
        # until the stage's last activity is visible: the drain's work counts too
        "cpu_ms_per_activity": {
            k: round(1000 * v / max(1, len(sent.ids)), 3) for k, v in cpu_s.items()
        },
    }


def _percentiles(ms: Any) -> dict[str, float]:
    if len(ms) == 0:
        return {}
    p50, p95, p99 = np.percentile(ms, [50, 95, 99])
    return {"p50": float(p50), "p95": float(p95), "p99": float(p99), "max": float(ms.max())}


async def _sample_lag(nc: NatsClient, namespace: str, into: list[dict[str, int]]) -> None:
    while True:
        into.append(await consumer_lag(nc, namespace))
        await asyncio.sleep(0.5)  # a sampling period, not a wait for an event


def _own_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_SELF)
    return used.ru_utime + used.ru_stime


# Every table of a schema, indexes and TOAST included: its event log, read models, markers.
_SCHEMA_BYTES = (
    "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class AS c "
    "JOIN pg_namespace AS n ON n.oid = c.relnamespace WHERE n.nspname = :schema "
    "AND c.relkind = 'r'"
)


async def storage(database_url: str) -> dict[str, Any]:
    """Per million events: MB of the services' event tables (indexes and TOAST included),
    and of their whole schemas (read models and consumers' markers too)."""
    engine = create_engine(database_url, pool_size=1)
    found: dict[str, Any] = {}
    async with engine.connect() as conn:
        for service in SERVICES:
            log = (
                f"SELECT pg_total_relation_size('{service}.events'), count(*) FROM {service}.events"
            )
            size, events = (await conn.execute(sa.text(log))).one()
            schema = (await conn.execute(sa.text(_SCHEMA_BYTES), {"schema": service})).scalar_one()
            found[service] = {"bytes": size, "events": events, "schema_bytes": int(schema)}
    await engine.dispose()
    events = max(sum(s["events"] for s in found.values()), 1)
    # bytes per event x 1e6 events / 1e6 bytes per MB: the same number
    return {
        "by_service": found,
        "mb_per_million_events": sum(s["bytes"] for s in found.values()) / events,
        "schemas_mb_per_million_events": sum(s["schema_bytes"] for s in found.values()) / events,
    }


async def rebuild_rate(database_url: str, nc: NatsClient, namespace: str) -> dict[str, Any]:
    engine = create_engine(database_url)
    started = time.perf_counter()
    done = await rebuild(engine, nc, namespace, "reporting")
    seconds = time.perf_counter() - started
    await engine.dispose()
    per_s = rate(done.compute_events, seconds)
    return {"events": done.compute_events, "seconds": seconds, "events_per_s": per_s,
            "ratio_to_goal": per_s / GOAL_REBUILD}  # fmt: skip


async def measure(processes: Processes, stages: list[Stage]) -> dict[str, Any]:
    settings = processes.settings
    assert settings.nats_url and settings.database_url
    nc = await nats.connect(settings.nats_url, name="bench-e2e")
    seen = Visibility()
    await nc.subscribe(r.changes_subject(settings.namespace, TENANT), cb=seen.on_notice)
    limits = httpx.Limits(max_connections=64)
    async with httpx.AsyncClient(base_url=processes.url, timeout=60, limits=limits) as http:
        await asyncio.wait_for(ready(processes, nc, http), 300)
        http.headers["X-API-Key"] = await api_key(settings, TENANT)
        results = []
        for stage in stages:
            results.append(await run_stage(stage, http, nc, processes, seen))
            print(stage_line(results[-1]), flush=True)
    found = {
        "stack": "one process per service + gateway (uvicorn, 1 worker); client in this process",
        "cpus": os.cpu_count(),
        "stages": results,
        "storage": await storage(settings.database_url),
        "rebuild": await rebuild_rate(settings.database_url, nc, settings.namespace),
    }
    await nc.drain()
    return found


def ratios(results: dict[str, Any]) -> dict[str, float | None]:
    """The figures against the goals (>= 1 meets a rate goal, <= 1 a latency goal). The rate
    sustained is the visible one where the pipeline fell behind the gateway."""
    stages = {s["target_per_s"]: s for s in results["stages"]}
    at_500 = stages.get(500, {}).get("visible_ms", {}).get("p95")
    kept = max(min(s["accepted_per_s"], s["visible_per_s"]) for s in stages.values())
    return {
        "accepted_per_s_to_2000": max(s["accepted_per_s"] for s in stages.values()) / GOAL_RATE,
        "sustained_per_s_to_2000": kept / GOAL_RATE,
        "p95_visible_at_500_to_500ms": at_500 / GOAL_P95_MS if at_500 is not None else None,
        "rebuild_to_50000_per_s": results["rebuild"]["ratio_to_goal"],
    }


async def run(stages: list[Stage], server_url: str, nats_url: str) -> dict[str, Any]:
    """Start the stack on a scratch database and namespace, load it, take it down."""
    namespace = f"bench{secrets.token_hex(3)}"
    async with scratch_database(server_url) as url:
        update = {"database_url": url, "nats_url": nats_url, "namespace": namespace}
        settings = Settings().model_copy(update=update)
        with tempfile.TemporaryDirectory(prefix="bench-e2e-") as logs:
            processes = Processes(settings, Path(logs))
            processes.start()
            try:
                results = await measure(processes, stages)
            finally:
                processes.stop()
                await forget_namespace(nats_url, namespace)
    return {**results, "ratios": ratios(results)}


def parse_stages(text: str) -> list[Stage]:
    """`RATE:BATCH:SECONDS,...` as stages, e.g. "800:25:40,1200:25:40"."""
    try:
        stages = [Stage(int(r), int(b), float(s)) for r, b, s in
                  (part.split(":") for part in text.split(","))]  # fmt: skip
    except ValueError as error:
        raise argparse.ArgumentTypeError(
            f"stages: want RATE:BATCH:SECONDS,... ({error})"
        ) from error
    if any(s.rate <= 0 or s.batch <= 0 or s.seconds <= 0 for s in stages):
        raise argparse.ArgumentTypeError("stages: rate, batch and seconds must be positive")
    return stages


def stage_line(s: dict[str, Any]) -> str:
    v = s["visible_ms"]
    return (
        f"{s['target_per_s']:>5}/s (batch {s['batch_per_request']}): accepted "
        f"{s['accepted_per_s']:.0f}/s ({s['accepted_per_s'] / s['target_per_s']:.2f}x target), "
        f"visible {s['visible_per_s']:.0f}/s, "
        f"visible p50/p95/p99 {v.get('p50', 0):.0f}/{v.get('p95', 0):.0f}/{v.get('p99', 0):.0f}"
        f" ms (not yet visible after the wait: {s['unseen_after_wait']}), "
        f"lag max {s['lag_max']}, errors {s['errors']}, load {s['loadavg_1m']}, "
        f"cpu ms per activity {s['cpu_ms_per_activity']}"
    )


def show(results: dict[str, Any]) -> None:
    logs, schemas = (results["storage"][k] for k in ("mb_per_million_events",
                                                     "schemas_mb_per_million_events"))  # fmt: skip
    print(f"storage per million events: {logs:.0f} MB of event tables, "
          f"{schemas:.0f} MB with read models and markers")  # fmt: skip
    b = results["rebuild"]
    print(f"rebuild: {b['events']} events in {b['seconds']:.2f} s = {b['events_per_s']:.0f}/s")
    print(f"ratios to goals: {results['ratios']}")


async def main(stages: list[Stage], name: str) -> None:
    base = Settings()
    server = base.database_url or "postgresql://postgres@127.0.0.1:5432/postgres"
    results = await run(stages, server, base.nats_url or "nats://127.0.0.1:4222")
    show(results)
    print(f"written: {write_results(name, results)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a few seconds at lower rates")
    parser.add_argument(
        "--stages", type=parse_stages, help="your own, e.g. 800:25:40,1200:25:40 (rate:batch:s)"
    )
    args = parser.parse_args()
    if args.stages:
        asyncio.run(main(args.stages, "e2e-stages"))
    else:
        asyncio.run(
            main(STAGES["quick" if args.quick else "full"], "e2e-quick" if args.quick else "e2e")
        )
