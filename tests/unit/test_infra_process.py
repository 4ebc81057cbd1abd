"""Process helpers of the embedded runners."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from infra.process import (
    die_with_parent,
    free_port,
    log_tail,
    sigterm_raises_system_exit,
    spawn,
    stop_process,
    wait_until,
)


def test_a_free_port_can_be_listened_on() -> None:
    port = free_port()
    assert 1024 <= port <= 65535
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
        sock.listen()


def test_free_ports_differ_while_taken() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        assert free_port() != sock.getsockname()[1]


def test_wait_until_returns_once_the_condition_holds() -> None:
    answers = iter([False, False, True])
    wait_until(lambda: next(answers), timeout=5, what="the third answer", interval=0)


def test_wait_until_names_what_it_waited_for() -> None:
    with pytest.raises(TimeoutError, match="the impossible"):
        wait_until(lambda: False, timeout=0.05, what="the impossible", interval=0.01)


def test_log_tail_keeps_the_last_lines(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    log.write_text("".join(f"line {n}\n" for n in range(100)))
    assert log_tail(log, 2) == "line 98\nline 99"
    assert "no log" in log_tail(tmp_path / "missing.log")


def test_die_with_parent_is_a_preexec_hook() -> None:
    # Empreinte's machines are Linux (prctl); elsewhere this fails, which is the truth there.
    assert callable(die_with_parent(signal.SIGTERM))


def test_spawned_processes_log_and_stop(tmp_path: Path) -> None:
    log = tmp_path / "logs" / "child.log"
    argv = [sys.executable, "-c", "print('up', flush=True); import time; time.sleep(60)"]
    child = spawn(argv, log_path=log, cwd=tmp_path, death_signal=signal.SIGTERM)
    wait_until(lambda: "up" in log_tail(log), timeout=10, what="the child to log")
    assert os.getpgid(child.pid) == child.pid
    stop_process(child, sig=signal.SIGTERM, timeout=10)
    assert child.returncode == -signal.SIGTERM


def test_stop_process_kills_what_ignores_the_signal() -> None:
    code = "import signal as s, time; s.signal(s.SIGTERM, s.SIG_IGN); print(1, flush=True)"
    code += "; time.sleep(60)"
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    assert child.stdout is not None and child.stdout.readline()
    stop_process(child, sig=signal.SIGTERM, timeout=0.2)
    assert child.returncode == -signal.SIGKILL


def test_sigterm_raises_system_exit_inside_the_block_only() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(SystemExit) as exited, sigterm_raises_system_exit():
        os.kill(os.getpid(), signal.SIGTERM)
    assert exited.value.code == 128 + signal.SIGTERM
    assert signal.getsignal(signal.SIGTERM) is before


def test_sigterm_handling_is_left_alone_outside_the_main_thread() -> None:
    seen = []

    def enter() -> None:
        with sigterm_raises_system_exit():
            seen.append(signal.getsignal(signal.SIGTERM))

    thread = threading.Thread(target=enter)
    thread.start()
    thread.join()
    assert seen == [signal.getsignal(signal.SIGTERM)]
