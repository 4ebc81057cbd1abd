"""The backend as real processes for a benchmark: one per service, and the gateway on uvicorn.

Each process gets the settings through its environment, as a deployment would; logs go to
files under a folder, and their tails are shown when a process exits or the stack fails to
come up. bench/e2e.py drives `Processes` itself; the others take `running`.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import psutil
from nats.aio.client import Client as NatsClient
from sqlalchemy.engine import make_url

from contracts.services import SERVICES
from empreinte_cli.probe import until, until_ready
from infra.process import free_port, log_tail, spawn, stop_process
from kernel.namespaces import delete_namespace_streams
from kernel.process import connect_nats
from kernel.settings import Settings

EMPREINTE = str(Path(sys.executable).parent / "empreinte")
GATEWAY = "gateway"
UNLIMITED = str(10**9)  # requests a minute per key: the benchmark measures, it does not abuse


@dataclass
class Processes:
    """The service processes and the gateway process, with their logs under `logs`."""

    settings: Settings
    logs: Path
    port: int = field(default_factory=free_port)
    running: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    # PostgreSQL backend pid -> the application_name its client gave (kernel/db.py)
    backends: dict[int, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        assert self.settings.database_url and self.settings.nats_url
        env = {
            **os.environ,
            "DATABASE_URL": self.settings.database_url,
            "NATS_URL": self.settings.nats_url,
            "EMPREINTE_NAMESPACE": self.settings.namespace,
            "EMPREINTE_LOG_LEVEL": "WARNING",
            # One client sends everything under one key: the per-key limit is not measured.
            "EMPREINTE_RATE_LIMIT_PER_MINUTE": UNLIMITED,
        }
        for name in (*SERVICES, GATEWAY):
            argv = ["gateway", "run", "--port", str(self.port)] if name == GATEWAY else None
            self.running[name] = spawn(
                [EMPREINTE, *(argv or ["service", "run", name])],
                log_path=self.logs / f"{name}.log",
                cwd=self.logs,
                death_signal=signal.SIGKILL,
                env=env,
            )

    def cpu_seconds(self) -> dict[str, float]:
        """User + system CPU each process used so far, PostgreSQL's backends serving the
        stack's database ("postgres": what the services' statements cost the server; a
        backend that ended takes its seconds with it, but the pools keep theirs open), and
        the NATS servers' ("nats")."""
        used = {}
        for name, proc in self.running.items():
            times = psutil.Process(proc.pid).cpu_times()
            used[name] = times.user + times.system
        by_client = self._backends_cpu()
        return used | {"postgres": sum(by_client.values())} | by_client | {"nats": _nats_cpu()}

    async def name_backends(self) -> None:
        """Learn whose backends serve the stack's database, for `cpu_seconds` to split
        PostgreSQL's CPU by client ("postgres:empreinte-compute", ...). Call it again once
        the pools may have grown: a backend not named yet counts as "postgres:?"."""
        url = make_url(str(self.settings.database_url)).set(drivername="postgresql")
        conn = await asyncpg.connect(url.render_as_string(hide_password=False))
        try:
            rows = await conn.fetch(
                "SELECT pid, application_name FROM pg_stat_activity "
                "WHERE datname = current_database()"
            )
        finally:
            await conn.close()
        self.backends = {row["pid"]: row["application_name"] or "?" for row in rows}

    def _backends_cpu(self) -> dict[str, float]:
        database = make_url(str(self.settings.database_url)).database
        used: dict[str, float] = {}
        for proc in psutil.process_iter(["pid", "cmdline", "cpu_times"]):
            title = " ".join(proc.info["cmdline"] or [])
            if title.startswith("postgres:") and f" {database} " in f"{title} ":
                key = f"postgres:{self.backends.get(proc.info['pid'], '?')}"
                times = proc.info["cpu_times"]
                used[key] = used.get(key, 0.0) + times.user + times.system
        return used

    def check_alive(self) -> None:
        for name, proc in self.running.items():
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited:\n{log_tail(self.logs / f'{name}.log')}")

    def stop(self) -> None:
        for proc in self.running.values():
            stop_process(proc, sig=signal.SIGTERM, timeout=20)


async def ready(processes: Processes, nc: NatsClient, http: httpx.AsyncClient) -> None:
    """Every service answers its health, the gateway its /healthz, compute has the factors."""
    await until(lambda: gateway_up(http), 0.1, processes.check_alive)
    await until_ready(nc, processes.settings.namespace, between=processes.check_alive)


async def gateway_up(http: httpx.AsyncClient) -> bool:
    """Whether the gateway answers its /healthz, connected."""
    try:
        answer = await http.get("/healthz")
    except httpx.TransportError:
        return False
    return answer.status_code == 200 and answer.json()["status"] == "ok"


@dataclass
class Stack:
    settings: Settings
    nc: NatsClient
    processes: Processes

    @property
    def url(self) -> str:  # the gateway's http:// base URL
        return self.processes.url


@asynccontextmanager
async def running(settings: Settings, root: Path) -> AsyncIterator[Stack]:
    """The four services and the gateway, ready, until the block ends (then SIGTERM)."""
    assert settings.nats_url
    processes = Processes(settings, root)
    nc = await connect_nats(settings.nats_url, "bench")
    try:
        processes.start()
        async with httpx.AsyncClient(base_url=processes.url) as http:
            await asyncio.wait_for(ready(processes, nc, http), 300)
        yield Stack(settings, nc, processes)
    except BaseException:
        for name in processes.running:
            print(f"--- {name} log:\n{log_tail(root / f'{name}.log')}", file=sys.stderr)
        raise
    finally:
        processes.stop()
        await delete_namespace_streams(nc.jsm(), settings.namespace)  # KV and objects too
        await nc.drain()


def _nats_cpu() -> float:
    """CPU of the machine's NATS servers: the stack's (its streams, consumers and acks), and
    any other one, idle, that happens to run."""
    used = 0.0
    for proc in psutil.process_iter(["name", "cpu_times"]):
        if proc.info["name"] == "nats-server":
            used += proc.info["cpu_times"].user + proc.info["cpu_times"].system
    return used
