"""Ingestion through the inventory service: activities/s by batch size, and a large request
log streamed into the object store with the uploading process's peak memory.

Runs the real inventory service in this process against PostgreSQL and NATS (the ones in
DATABASE_URL/NATS_URL, else 127.0.0.1, in a scratch database and namespace). Ratios are
against batch size 1, measured in the same run. The synthetic log is written by a child
process, so the peak memory measured is the service's and the upload's, not the generator's;
it is read after each phase, and as a ratio to the process with the service started.
Writes bench/results/ingest.json (ingest_quick.json with --quick).
Run: `python -m bench.ingest [--rows 5000000] [--activities 20000] [--quick]`.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import resource
import secrets
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from bench.common import drop_namespace, rate, scratch_database, write_results
from contracts import inventory as inv
from kernel.client import ServiceClient
from kernel.endpoints import CallContext
from kernel.process import connect_nats, run_service
from kernel.settings import Settings
from services.inventory.main import definition as inventory
from services.inventory.request_logs import upload_request_log

CTX = CallContext(tenant_id="bench", role="integrator")
ITEM = {"kind": "electricity", "quantity": 12.5, "unit": "MWh", "region": "FRA"}
SHARED = {"period_start": "2024-01-01", "period_end": "2024-02-01", "site": "hq"}


async def record_rate(client: ServiceClient, total: int, batch: int) -> float:
    requests = [inv.RecordActivities(idempotency_key=secrets.token_hex(8),
                                     activities=[ITEM] * batch, defaults=SHARED)
                for _ in range(max(1, total // batch))]  # fmt: skip
    started = time.perf_counter()
    for request in requests:
        await client.call(inv.RECORD, request, CTX)
    return rate(len(requests) * batch, time.perf_counter() - started)


def write_log(path: Path, rows: int, chunk: int = 500_000) -> int:
    """A synthetic request log, written chunk by chunk (so the writer stays small too)."""
    rng = np.random.default_rng(1)
    countries = np.array(["FRA", "USA", "DEU", "GBR", "IND", "BRA", "JPN", "ESP"])
    with pq.ParquetWriter(path, _schema()) as writer:
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            writer.write_table(
                pa.table(
                    {
                        "bytes": rng.lognormal(12, 1, n),
                        "client_country": countries[rng.integers(0, 8, n)],
                        "server_country": countries[rng.integers(0, 3, n)],
                        "device": np.array(["smartphone", "laptop", "desktop"])[
                            rng.integers(0, 3, n)
                        ],
                    },
                    schema=_schema(),
                )
            )
    return path.stat().st_size


def _schema() -> pa.Schema:
    return pa.schema(
        [
            ("bytes", pa.float64()),
            ("client_country", pa.string()),
            ("server_country", pa.string()),
            ("device", pa.string()),
        ]
    )


async def upload(
    settings: Settings, client: ServiceClient, path: Path, rows: int, size: int
) -> dict[str, Any]:
    assert settings.nats_url
    nc = await connect_nats(settings.nats_url, "bench-upload")
    started = time.perf_counter()
    name, sha = await upload_request_log(nc.jetstream(), settings.namespace, "bench", path)
    uploaded = time.perf_counter() - started
    register = inv.RegisterRequestLog(
        object_name=name,
        sha256=sha,
        format="parquet",
        period_start="2024-01-01",
        period_end="2024-02-01",
        site="app",
    )
    view = await client.call(inv.REGISTER_REQUEST_LOG, register, CTX)
    total = time.perf_counter() - started
    await nc.drain()
    return {
        "rows": rows,
        "bytes": size,
        "row_count_registered": view.row_count,
        "upload_rows_per_s": rate(rows, uploaded),
        "upload_and_check_rows_per_s": rate(rows, total),
    }


async def measure(settings: Settings, activities: int, rows: int, folder: Path) -> dict[str, Any]:
    stop = asyncio.Event()
    service = asyncio.create_task(run_service(inventory, settings, stop))
    assert settings.nats_url
    nc = await connect_nats(settings.nats_url, "bench")
    client = ServiceClient(nc, settings.namespace, timeout=120)
    await _ready(client)
    memory = {"service_started": _peak_rss_mb()}
    rates = {
        str(b): await record_rate(client, activities if b > 1 else activities // 20, b)
        for b in (1, 100, 10_000)
    }
    memory["after_activities"] = _peak_rss_mb()
    path = folder / "requests.parquet"
    size = await asyncio.to_thread(_write_log_apart, path, rows)
    logged = await upload(settings, client, path, rows, size)
    memory["after_request_log"] = _peak_rss_mb()
    stop.set()
    await service
    await nc.drain()
    return {
        "activities_per_s": rates,
        "ratio_to_batch_1": {b: r / rates["1"] for b, r in rates.items()},
        "request_log": logged,
        "peak_rss_mb": memory,
        "peak_rss_ratio_to_service_started": {
            k: v / memory["service_started"] for k, v in memory.items()
        },
    }


def _write_log_apart(path: Path, rows: int) -> int:
    """`write_log` in a child process: generating the file is not what is measured."""
    child = multiprocessing.get_context("spawn").Process(target=write_log, args=(path, rows))
    child.start()
    child.join()
    if child.exitcode != 0:
        raise RuntimeError(f"writing the synthetic log failed (exit code {child.exitcode})")
    return path.stat().st_size


async def _ready(client: ServiceClient) -> None:
    probe = inv.ListActivities(limit=1)
    async with asyncio.timeout(60):
        while True:
            try:
                await client.call(inv.LIST, probe, CTX)
                return
            except Exception:
                await asyncio.sleep(0.1)  # the service is still starting: nothing to await


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def main(activities: int, rows: int, name: str = "ingest") -> None:
    base = Settings()
    server = base.database_url or "postgresql://postgres@127.0.0.1:5432/postgres"
    nats_url = base.nats_url or "nats://127.0.0.1:4222"
    async with scratch_database(server) as url:
        settings = base.model_copy(
            update={
                "database_url": url,
                "nats_url": nats_url,
                "namespace": f"bench{secrets.token_hex(3)}",
            }
        )
        try:
            with tempfile.TemporaryDirectory() as folder:
                results = await measure(settings, activities, rows, Path(folder))
        finally:
            await drop_namespace(nats_url, settings.namespace)
    print(results)
    print(f"written: {write_results(name, results)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--activities", type=int, default=20_000)
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--quick", action="store_true", help="a small run (smoke test)")
    args = parser.parse_args()
    if args.quick:
        asyncio.run(main(1_000, 20_000, "ingest_quick"))
    else:
        asyncio.run(main(args.activities, args.rows))
