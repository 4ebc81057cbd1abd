"""What every benchmark shares: a throwaway database, timing, and writing results."""

from __future__ import annotations

import asyncio
import json
import platform
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import nats
from sqlalchemy.engine import make_url

from kernel.namespaces import delete_namespace_streams

RESULTS = Path(__file__).parent / "results"


@asynccontextmanager
async def scratch_database(server_url: str) -> AsyncIterator[str]:
    """A fresh database on the server of `server_url`, dropped afterwards."""
    name = f"empreinte_bench_{uuid.uuid4().hex[:8]}"
    admin = make_url(server_url).set(drivername="postgresql")
    conn = await asyncpg.connect(admin.render_as_string(hide_password=False))
    await conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        await conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await conn.close()


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


async def timed(fn: Callable[[], Any]) -> float:
    """Seconds `fn` (sync or async) takes."""
    started = time.perf_counter()
    result = fn()
    if asyncio.iscoroutine(result):
        await result
    return time.perf_counter() - started


def write_results(name: str, results: dict[str, Any]) -> Path:
    """bench/results/<name>.json, with the machine it ran on."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    machine = {"python": platform.python_version(), "machine": platform.machine()}
    path.write_text(json.dumps({"machine": machine, **results}, indent=2))
    return path


async def drop_namespace(nats_url: str, namespace: str) -> None:
    """A run's JetStream streams and buckets go afterwards (request logs are large)."""
    nc = await nats.connect(nats_url, name="bench-cleanup")
    try:
        await delete_namespace_streams(nc.jsm(), namespace)
    finally:
        await nc.drain()
