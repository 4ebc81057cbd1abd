"""Reporting's consumer alone: CPU per compute event, its own and its PostgreSQL backend's,
by batch size.

A synthetic compute log (bench/compute_history.py) is projected by the live handler
(`Reporting.on_compute_events`: versions, parts, the watermark and the current tables, then
the change notices), batch after batch in log order, each batch in its transaction on one
kept connection, into a fresh scratch database per batch size. Per size: this process's CPU
per event, the backend's (psutil), and the wall time; ratios are to the first size, measured
in the same run. What the kernel's consumer adds around the handler (fetching, decoding,
markers, acks) is not here: bench/e2e.py measures the whole. The startup heap is frozen out
of the garbage collector, as the services freeze theirs.
Writes bench/results/reporting_consumer.json.
Run: `python -m bench.reporting_consumer [--events N] [--sizes 50,100,500] [--quick]`.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import secrets
import time
from typing import Any

import nats
import psutil
import sqlalchemy as sa
from rich.console import Console

from bench.common import drop_namespace, scratch_database, write_results
from bench.current_follow import MIGRATIONS, SCHEMA, recorded
from kernel.db import create_engine
from kernel.envelope import RecordedEvent
from kernel.migrations import upgrade
from kernel.process import tune_garbage_collector
from kernel.settings import Settings
from services.reporting.handlers import Reporting
from services.reporting.projections import EmissionVersions
from services.reporting.tables import reporting_tables

EVENTS, QUICK_EVENTS, SIZES = 20_000, 300, (50, 100, 500)


async def measure_size(
    server: str, nats_url: str, events: list[RecordedEvent], size: int
) -> dict[str, float]:
    """CPU and wall time per event for batches of `size`, in a fresh database."""
    async with scratch_database(server) as url:
        engine, namespace = create_engine(url, pool_size=1), f"bench{secrets.token_hex(3)}"
        nc = await nats.connect(nats_url)
        try:
            await upgrade(engine, SCHEMA, MIGRATIONS)
            versions = EmissionVersions(reporting_tables(SCHEMA))
            reporting = Reporting(engine, SCHEMA, versions, nc, namespace)
            return await _project(engine, reporting, events, size)
        finally:
            await nc.drain()
            await engine.dispose()
            await drop_namespace(nats_url, namespace)


async def _project(
    engine: Any, reporting: Reporting, events: list[RecordedEvent], size: int
) -> dict[str, float]:
    async with engine.connect() as conn:
        backend = psutil.Process(
            (await conn.execute(sa.text("SELECT pg_backend_pid()"))).scalar_one()
        )
        await conn.commit()
        server, own, wall = _server_cpu(backend), time.process_time(), time.perf_counter()
        for start in range(0, len(events), size):
            async with conn.begin():
                after = await reporting.on_compute_events(events[start : start + size], conn)
            if after is not None:
                await after()
        used = (
            _server_cpu(backend) - server,
            time.process_time() - own,
            time.perf_counter() - wall,
        )
    per_event = [1000 * seconds / len(events) for seconds in used]
    return dict(zip(("postgres_cpu_ms", "python_cpu_ms", "wall_ms"), per_event, strict=True))


def _server_cpu(backend: psutil.Process) -> float:
    times = backend.cpu_times()
    return float(times.user + times.system)


async def measure(
    server: str, nats_url: str, log: list[RecordedEvent], sizes: list[int]
) -> dict[str, Any]:
    """Per batch size, CPU and wall time per event of `log`; ratios to the first size."""
    found = {str(size): await measure_size(server, nats_url, log, size) for size in sizes}
    first = found[str(sizes[0])]
    ratios = {
        size: {k: v / first[k] for k, v in figures.items()} for size, figures in found.items()
    }
    return {"events": len(log), "per_event": found, f"ratio_to_batch_{sizes[0]}": ratios}


async def main(events: int, sizes: list[int]) -> dict[str, Any]:
    settings = Settings()
    server = settings.database_url or "postgresql://postgres@127.0.0.1:5432/postgres"
    log = recorded(events)
    # The log stays out of the collector's way, as the services' startup heap does
    # (kernel/process.py): else every collection walks it, more often with larger batches.
    gc.collect()
    gc.freeze()
    return await measure(server, settings.nats_url or "nats://127.0.0.1:4222", log, sizes)


def show(results: dict[str, Any]) -> None:
    console = Console()
    console.print(f"reporting's consumer on {results['events']:,} compute events, per event:")
    for size, f in results["per_event"].items():
        figures = (f["python_cpu_ms"], f["postgres_cpu_ms"], f["wall_ms"])
        console.print("  batches of {:>4}: Python {:.3f} ms, PostgreSQL {:.3f} ms, "
                      "wall {:.3f} ms".format(size, *figures))  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=EVENTS)
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_EVENTS} events")
    args = parser.parse_args()
    tune_garbage_collector()  # as every service process does (kernel.process.run)
    sizes = [int(s) for s in args.sizes.split(",")]
    results = asyncio.run(main(QUICK_EVENTS if args.quick else args.events, sizes))
    show(results)
    print(f"wrote {write_results('reporting_consumer', results)}")
