"""The stack bench/e2e.py loads: one process per service and the gateway (uvicorn), as a
deployment runs them, on a given PostgreSQL database and NATS namespace."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import nats
import psutil
from nats.aio.client import Client as NatsClient

from contracts.services import SERVICES
from empreinte_cli.probe import answers, catalogue_in_compute
from gateway.keys import ApiKeys
from infra.process import free_port, log_tail, spawn, stop_process
from kernel.db import create_engine
from kernel.namespaces import delete_namespace_streams
from kernel.naming import events_stream
from kernel.settings import Settings

EMPREINTE = str(Path(sys.executable).parent / "empreinte")
GATEWAY = "gateway"
# (stream's service, durable consumer) pairs on the activity's way to the dashboard.
CONSUMERS = (("inventory", "compute_inventory"), ("compute", "reporting_compute"))


@dataclass
class Processes:
    """The service processes and the gateway process, with their logs under `logs`."""

    settings: Settings
    logs: Path
    port: int = field(default_factory=free_port)
    running: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

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
            "EMPREINTE_RATE_LIMIT_PER_MINUTE": "10000000",
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
        """User + system CPU each process used so far."""
        used = {}
        for name, proc in self.running.items():
            times = psutil.Process(proc.pid).cpu_times()
            used[name] = times.user + times.system
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
    ns = processes.settings.namespace
    for service in SERVICES:
        while not await answers(nc, ns, service):
            processes.check_alive()
            await asyncio.sleep(0.1)  # still starting: nothing to await
    while not await _gateway_up(http):
        processes.check_alive()
        await asyncio.sleep(0.1)  # uvicorn still starting: nothing to await
    while True:
        if await catalogue_in_compute(nc, ns):
            return
        await asyncio.sleep(0.2)  # no event says "compute caught up": ask again


async def _gateway_up(http: httpx.AsyncClient) -> bool:
    try:
        answer = await http.get("/healthz")
    except httpx.TransportError:
        return False
    return answer.status_code == 200 and answer.json()["status"] == "ok"


async def consumer_lag(nc: NatsClient, namespace: str) -> dict[str, int]:
    """Messages each consumer on the way to the dashboard has not yet acknowledged."""
    js, lag = nc.jetstream(), {}
    for service, durable in CONSUMERS:
        info = await js.consumer_info(events_stream(namespace, service), durable)
        lag[durable] = info.num_pending + info.num_ack_pending
    return lag


async def api_key(settings: Settings, tenant: str) -> str:
    """An integrator and viewer key of `tenant` (the gateway has made its table by now)."""
    assert settings.database_url
    engine = create_engine(settings.database_url, pool_size=1)
    try:
        keys = ApiKeys(engine)
        issued = await keys.create(tenant, ["integrator", "viewer"], "bench", actor="bench")
    finally:
        await engine.dispose()
    return issued.secret


async def forget_namespace(nats_url: str, namespace: str) -> None:
    """Delete the streams (KV and object buckets included) the run left under `namespace`."""
    nc = await nats.connect(nats_url, name="bench-e2e-cleanup")
    try:
        await delete_namespace_streams(nc.jsm(), namespace)
    finally:
        await nc.close()
