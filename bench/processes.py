"""The backend as real processes for a benchmark: one per service, and the gateway on uvicorn.

Each process gets the settings through its environment, as a deployment would; logs go to
files under `root` and their tails are shown when the stack fails to come up.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from nats.aio.client import Client as NatsClient

from contracts.services import SERVICES
from empreinte_cli.probe import until_ready
from infra.process import free_port, log_tail, spawn, stop_process
from kernel.process import connect_nats
from kernel.settings import Settings

EMPREINTE = str(Path(sys.executable).parent / "empreinte")
UNLIMITED = str(10**9)  # requests a minute per key: the benchmark measures, it does not abuse


@dataclass
class Stack:
    settings: Settings
    nc: NatsClient
    url: str  # the gateway's http:// base URL


@asynccontextmanager
async def running(settings: Settings, root: Path) -> AsyncIterator[Stack]:
    """The four services, then the gateway, until the block ends (then SIGTERM, in reverse)."""
    assert settings.nats_url
    procs: list[subprocess.Popen[bytes]] = []
    nc = await connect_nats(settings.nats_url, "bench-graphql")
    try:
        procs += [_start(["service", "run", s], settings, root, s) for s in SERVICES]
        await asyncio.wait_for(until_ready(nc, settings.namespace), 180)
        port = free_port()
        argv = ["gateway", "run", "--host", "127.0.0.1", "--port", str(port)]
        procs.append(_start(argv, settings, root, "gateway"))
        url = f"http://127.0.0.1:{port}"
        await asyncio.wait_for(_gateway_up(url), 60)
        yield Stack(settings, nc, url)
    except BaseException:
        for name in [*SERVICES, "gateway"]:
            print(f"--- {name} log:\n{log_tail(root / f'{name}.log')}", file=sys.stderr)
        raise
    finally:
        for proc in reversed(procs):
            stop_process(proc, sig=signal.SIGTERM, timeout=20)
        await nc.drain()


def _start(argv: list[str], settings: Settings, root: Path, name: str) -> subprocess.Popen[bytes]:
    assert settings.database_url and settings.nats_url
    env = {**os.environ, "DATABASE_URL": settings.database_url, "NATS_URL": settings.nats_url,
           "EMPREINTE_NAMESPACE": settings.namespace,
           "EMPREINTE_RATE_LIMIT_PER_MINUTE": UNLIMITED}  # fmt: skip
    return spawn([EMPREINTE, *argv], log_path=root / f"{name}.log", cwd=root,
                 death_signal=signal.SIGTERM, env=env)  # fmt: skip


async def _gateway_up(url: str) -> None:
    async with httpx.AsyncClient(base_url=url) as http:
        while True:
            try:
                if (await http.get("/healthz")).json().get("status") == "ok":
                    return
            except httpx.TransportError:
                pass  # not listening yet
            await asyncio.sleep(0.1)  # another process starting: poll it
