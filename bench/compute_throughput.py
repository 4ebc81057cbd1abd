"""Compute throughput: how fast compute turns a backlog of recorded activities into emissions,
with its factor cache and without it (the baseline, measured in the same run), and with its
consumers applying one message per transaction or a fetched batch per transaction.

Runs the real factors, inventory and compute services in this process against PostgreSQL
and NATS (DATABASE_URL/NATS_URL, else 127.0.0.1; a scratch database and namespace). Compute
first takes in the default factor catalogue, then stops. For each mode, N activities are
recorded through inventory over NATS in batches while compute is stopped, then compute
starts and the clock runs until it has published an emission (calculated or unresolved)
for each of them. Activities per second and per CPU-second of this process (the other
services are idle meanwhile) are given as ratios: cached to uncached (both one message per
transaction), batched to one per transaction (both cached).
Writes bench/results/compute_throughput.json (compute_throughput_quick.json with --quick).
Run: `python -m bench.compute_throughput [--activities 3000] [--batch 500] [--modes batched]
[--quick]`.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import time
from collections.abc import Sequence
from typing import Any

from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg

from bench.common import drop_namespace, rate, scratch_database, write_results
from contracts import inventory as inv
from kernel.client import ServiceClient
from kernel.endpoints import CallContext
from kernel.naming import events_stream, events_subject
from kernel.process import connect_nats, run_service, tune_garbage_collector
from kernel.settings import Settings
from services.compute.main import service as compute_service
from services.factors.main import definition as factors
from services.inventory.main import definition as inventory

CTX = CallContext(tenant_id="bench", role="integrator")
REGIONS = ("FRA", "DEU", "GBR", "ESP")
SHARED = {"period_start": "2024-01-01", "period_end": "2024-02-01", "site": "hq"}
EMITTED = ("EmissionCalculated", "EmissionUnresolved")


async def record(client: ServiceClient, total: int, batch: int) -> None:
    """`total` electricity activities, `batch` per request, spread over a few countries."""
    for start in range(0, total, batch):
        items = [_item(i) for i in range(start, min(total, start + batch))]
        request = inv.RecordActivities(
            idempotency_key=secrets.token_hex(8), activities=items, defaults=SHARED
        )
        await client.call(inv.RECORD, request, CTX)


def _item(i: int) -> dict[str, Any]:
    return {"kind": "electricity", "quantity": 1 + i % 7, "unit": "MWh",
            "region": REGIONS[i % len(REGIONS)]}  # fmt: skip


async def until_stream_holds(nc: NatsClient, stream: str, count: int) -> None:
    """Inventory's relay has published `count` events (so compute is not waiting on it)."""
    js = nc.jetstream()
    while True:
        if (await js.stream_info(stream)).state.messages >= count:
            return
        await asyncio.sleep(0.1)  # the relay reports no progress event: ask again


async def until_catalogue_applied(nc: NatsClient, namespace: str) -> None:
    js, stream = nc.jetstream(), events_stream(namespace, "factors")
    while True:
        try:
            info = await js.consumer_info(stream, "compute_factors")
            published = (await js.stream_info(stream)).state.messages
        except Exception:  # compute or the factors' relay not there yet
            info, published = None, 1
        if info and info.delivered.stream_seq >= published and info.num_ack_pending == 0:
            return
        await asyncio.sleep(0.2)  # no event says "compute caught up": ask again


# mode: (factor cache, a fetched batch per transaction rather than one message)
MODES = {"uncached": (False, False), "cached": (True, False), "batched": (True, True)}


async def drain(settings: Settings, nc: NatsClient, total: int, mode: str) -> dict[str, Any]:
    """Start compute on the backlog; time it until `total` emissions are published."""
    done, counts = asyncio.Event(), {t: 0 for t in EMITTED}

    async def seen(msg: Msg) -> None:
        kind = msg.subject.rsplit(".", 1)[-1]
        counts[kind] = counts.get(kind, 0) + 1
        if sum(counts[t] for t in EMITTED) >= total:
            done.set()

    sub = await nc.subscribe(events_subject(settings.namespace, "compute"), cb=seen)
    stop = asyncio.Event()
    wall, cpu = time.perf_counter(), time.process_time()
    factor_cache, together = MODES[mode]
    compute = compute_service(factor_cache=factor_cache, together=together)
    service = asyncio.create_task(run_service(compute, settings, stop))
    await done.wait()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    stop.set()
    await service
    await sub.unsubscribe()
    return {"seconds": wall, "cpu_seconds": cpu, "activities_per_s": rate(total, wall),
            "activities_per_cpu_s": rate(total, cpu), "emitted": counts}  # fmt: skip


async def measure(
    settings: Settings, activities: int, batch: int, modes: Sequence[str] = tuple(MODES)
) -> dict[str, Any]:
    stop = asyncio.Event()
    services = [asyncio.create_task(run_service(d, settings, stop)) for d in (factors, inventory)]
    nc = await connect_nats(settings.nats_url or "", "bench-compute")
    client = ServiceClient(nc, settings.namespace, timeout=120)
    try:
        warm = asyncio.Event()
        compute = asyncio.create_task(run_service(compute_service(), settings, warm))
        await until_catalogue_applied(nc, settings.namespace)
        warm.set()
        await compute
        runs: dict[str, Any] = {}
        for recorded, mode in enumerate(modes, start=1):
            await _ready(client)
            await record(client, activities, batch)
            stream = events_stream(settings.namespace, "inventory")
            await until_stream_holds(nc, stream, recorded * activities)
            runs[mode] = await drain(settings, nc, activities, mode)
    finally:
        stop.set()
        await asyncio.gather(*services)
        await nc.drain()
    return _summary(runs, activities, batch)


def _summary(runs: dict[str, Any], activities: int, batch: int) -> dict[str, Any]:
    summary = {"activities": activities, "batch": batch, "runs": runs}
    pairs = {"ratio_cached_to_uncached": ("cached", "uncached"),
             "ratio_batched_to_one_per_transaction": ("batched", "cached")}  # fmt: skip
    for name, (run, base) in pairs.items():
        if run in runs and base in runs:  # both measured in this run
            summary[name] = _ratios(runs[run], runs[base])
    return summary


def _ratios(run: dict[str, Any], base: dict[str, Any]) -> dict[str, float]:
    keys = ("activities_per_s", "activities_per_cpu_s")
    return {key: run[key] / base[key] for key in keys}


async def _ready(client: ServiceClient) -> None:
    probe = inv.ListActivities(limit=1)
    async with asyncio.timeout(60):
        while True:
            try:
                await client.call(inv.LIST, probe, CTX)
                return
            except Exception:
                await asyncio.sleep(0.1)  # the service is still starting: nothing to await


async def main(
    activities: int, batch: int, modes: Sequence[str], name: str = "compute_throughput"
) -> None:
    base = Settings()
    server = base.database_url or "postgresql://postgres@127.0.0.1:5432/postgres"
    nats_url = base.nats_url or "nats://127.0.0.1:4222"
    async with scratch_database(server) as url:
        namespace = f"bench{secrets.token_hex(3)}"
        update = {"database_url": url, "nats_url": nats_url, "namespace": namespace}
        settings = base.model_copy(update=update)
        try:
            results = await measure(settings, activities, batch, modes)
        finally:
            await drop_namespace(nats_url, settings.namespace)
    print(results)
    print(f"written: {write_results(name, results)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--activities", type=int, default=3_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--quick", action="store_true", help="a small run (smoke test)")
    parser.add_argument(
        "--modes", default=",".join(MODES), help=f"which of {', '.join(MODES)}, in order"
    )
    args = parser.parse_args()
    tune_garbage_collector()  # as every service process does (kernel.process.run)
    modes = args.modes.split(",")
    if unknown := set(modes) - set(MODES):
        parser.error(f"--modes: unknown {', '.join(sorted(unknown))}")
    if args.quick:
        asyncio.run(main(200, 50, modes, "compute_throughput_quick"))
    else:
        asyncio.run(main(args.activities, args.batch, modes))
