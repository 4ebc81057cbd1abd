"""A stack of real processes for fault tests: embedded PostgreSQL and NATS, one process per
service (`empreinte service run NAME`), each of which a test may kill and restart."""

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


@dataclass
class ProcessStack:
    """Servers and service processes under one temporary directory."""

    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="empreinte-faults-")))
    namespace: str = "faults"
    postgres: EmbeddedPostgres | None = None
    nats: EmbeddedNats | None = None
    services: dict[str, list[subprocess.Popen[bytes]]] = field(default_factory=dict)

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
        }

    def start(self, service: str) -> subprocess.Popen[bytes]:
        """One more process of `service` (a second compute is a replica on the same consumer)."""
        replica = len(self.services.get(service, []))
        proc = spawn(
            [EMPREINTE, "service", "run", service],
            log_path=self.root / "logs" / f"{service}-{replica}.log",
            cwd=self.root,
            death_signal=signal.SIGKILL,
            env=self.env,
        )
        self.services.setdefault(service, []).append(proc)
        return proc

    def kill(self, service: str) -> None:
        """kill -9 every process of `service`."""
        for proc in self.services.pop(service, []):
            proc.kill()
            proc.wait()

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
