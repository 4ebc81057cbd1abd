"""A stack of real processes for fault tests: embedded PostgreSQL and NATS, one process per
service (`empreinte service run NAME`) and the gateway (`empreinte gateway run`), each of
which a test may kill and restart."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from infra.nats import EmbeddedNats
from infra.postgres import EmbeddedPostgres
from infra.process import free_port, spawn, stop_process

EMPREINTE = str(Path(sys.executable).parent / "empreinte")
GATEWAY = "gateway"


@dataclass
class ProcessStack:
    """Servers and service processes under one temporary directory."""

    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="empreinte-faults-")))
    namespace: str = "faults"
    postgres: EmbeddedPostgres | None = None
    nats: EmbeddedNats | None = None
    services: dict[str, list[subprocess.Popen[bytes]]] = field(default_factory=dict)
    # Chosen once, so a restarted gateway answers where clients already send their requests.
    gateway_port: int = field(default_factory=free_port)

    def start_servers(self) -> None:
        self.postgres = EmbeddedPostgres(self.root / "pg", port=free_port())
        self.nats = EmbeddedNats(self.root / "nats", port=free_port())
        self.postgres.start()
        self.nats.start()

    @property
    def env(self) -> dict[str, str]:
        assert self.postgres and self.nats
        return {
            **os.environ,
            "DATABASE_URL": self.postgres.url,
            "NATS_URL": self.nats.url,
            "EMPREINTE_NAMESPACE": self.namespace,
            # The recorder is one steady client; the per-key limit is not what is tested.
            "EMPREINTE_RATE_LIMIT_PER_MINUTE": "1000000",
        }

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    def start(self, service: str) -> subprocess.Popen[bytes]:
        """One more process of `service` or of the gateway (a second compute is a replica on
        the same consumer)."""
        replica = len(self.services.get(service, []))
        argv = (
            ["gateway", "run", "--port", str(self.gateway_port)]
            if service == GATEWAY
            else ["service", "run", service]
        )
        proc = spawn(
            [EMPREINTE, *argv],
            log_path=self.root / "logs" / f"{service}-{replica}.log",
            cwd=self.root,
            death_signal=signal.SIGKILL,
            env=self.env,
        )
        self.services.setdefault(service, []).append(proc)
        return proc

    def kill(self, service: str) -> None:
        """kill -9 every process of `service` (or of the gateway)."""
        for proc in self.services.pop(service, []):
            proc.kill()
            proc.wait()

    def create_key(self, tenant: str, *roles: str) -> str:
        """An API key of `tenant`, made as an operator would: `empreinte keys create`."""
        flags = [arg for role in roles for arg in ("--role", role)]
        made = subprocess.run(
            [EMPREINTE, "keys", "create", "--tenant", tenant, *flags, "--name", "faults"],
            env=self.env,
            cwd=self.root,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        return made.stdout.strip()

    def restart_nats(self) -> None:
        assert self.nats
        self.nats.stop()
        self.nats.start()

    def restart_postgres(self) -> None:
        assert self.postgres
        self.postgres.stop()
        self.postgres.start()

    def stop(self) -> None:
        for procs in self.services.values():
            for proc in procs:
                stop_process(proc, sig=signal.SIGTERM, timeout=20)
        self.services.clear()
        for server in (self.nats, self.postgres):
            if server is not None:
                server.stop()
        if os.environ.get("EMPREINTE_KEEP_FAULT_LOGS"):
            print(f"fault-test logs kept in {self.root / 'logs'}")
        else:
            shutil.rmtree(self.root, ignore_errors=True)
