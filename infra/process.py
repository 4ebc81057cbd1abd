"""Process plumbing shared by the embedded server runners: ports, spawning, waiting, stopping."""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from types import TracebackType
from typing import Self

_PR_SET_PDEATHSIG = 1


class EmbeddedServerError(RuntimeError):
    """An embedded server could not be prepared, started or stopped."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on `host` that nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until(
    condition: Callable[[], bool], *, timeout: float, what: str, interval: float = 0.05
) -> None:
    """Poll `condition` until it holds; raise `TimeoutError` naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(interval)


def log_tail(path: Path, lines: int = 40) -> str:
    """The last `lines` lines of a log file, or a note that there is none."""
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:])


def die_with_parent(sig: signal.Signals) -> Callable[[], None] | None:
    """A `preexec_fn` asking Linux to send `sig` to the child when its parent dies.

    Linux tracks the parent *thread*: a child spawned from a thread that later exits
    gets the signal then, so start servers from a long-lived (ideally the main) thread.
    Returns None where `prctl` does not exist.
    """
    if not sys.platform.startswith("linux"):
        return None
    # Loaded here, in the parent: dlopen between fork and exec can deadlock.
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    parent = os.getpid()

    def preexec() -> None:
        if prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
        if os.getppid() != parent:  # the parent died before prctl took effect
            os.kill(os.getpid(), sig)

    return preexec


def spawn(
    argv: Sequence[str],
    *,
    log_path: Path,
    cwd: Path,
    death_signal: signal.Signals,
    user: tuple[int, int] | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """Start `argv` in its own process group, output appended to `log_path`.

    Its own group keeps a terminal's Ctrl-C away from it: the parent stops it, in order.
    `user` is a (uid, gid) to run as; the death signal survives it since the preexec
    hook runs after the switch (a credential change clears the kernel's setting).
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    uid, gid = user if user is not None else (None, None)
    with log_path.open("ab") as log:
        return subprocess.Popen(
            list(argv),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            process_group=0,
            preexec_fn=die_with_parent(death_signal),
            user=uid,
            group=gid,
            extra_groups=[] if user is not None else None,
            env=dict(env) if env is not None else None,
        )


def stop_process(proc: subprocess.Popen[bytes], *, sig: signal.Signals, timeout: float) -> None:
    """Send `sig`, wait up to `timeout` s, then SIGKILL; always reaps the process."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
    proc.wait()


def _raise_system_exit(signum: int, _frame: object) -> None:
    # A second SIGTERM during cleanup kills us at once; the children's death signal remains.
    signal.signal(signum, signal.SIG_DFL)
    raise SystemExit(128 + signum)


@contextmanager
def sigterm_raises_system_exit() -> Iterator[None]:
    """Within the block, SIGTERM raises `SystemExit` so that `finally` and `__exit__` run.

    A no-op outside the main thread or when someone already handles SIGTERM.
    """
    in_main = threading.current_thread() is threading.main_thread()
    if not in_main or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return
    signal.signal(signal.SIGTERM, _raise_system_exit)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


class ServerRunner(ABC):
    """A server process with `start()`/`stop()`, also usable as a context manager.

    The context manager stops the server on any exit, Ctrl-C and SIGTERM included.
    """

    _signals: ExitStack | None = None

    @abstractmethod
    def start(self) -> str:
        """Start the server (idempotent) and return its URL."""

    @abstractmethod
    def stop(self) -> None:
        """Stop the server (idempotent)."""

    def _await_start(
        self, proc: subprocess.Popen[bytes], ready: Callable[[], bool], timeout: float, what: str
    ) -> bool:
        """Wait until `ready()` or the process exits; True if it runs (else it is stopped)."""
        try:
            wait_until(lambda: proc.poll() is not None or ready(), timeout=timeout, what=what)
        except BaseException:
            self.stop()
            raise
        if proc.poll() is None:
            return True
        self.stop()
        return False

    def __enter__(self) -> Self:
        self._signals = ExitStack()
        self._signals.enter_context(sigterm_raises_system_exit())
        try:
            self.start()
        except BaseException:
            self._signals.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.stop()
        finally:
            if self._signals is not None:
                self._signals.close()
