"""The embedded runners start real servers, serve, stop, recover, and leave no process behind."""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import signal
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import nats
import psutil
import pytest

from infra.embedded import local_endpoints
from infra.nats import EmbeddedNats, nats_server_binary, render_config
from infra.postgres import SYSTEM_USER, EmbeddedPostgres, server_processes, user_is_root
from infra.process import EmbeddedServerError, wait_until
from kernel.namespaces import stream_names
from tests.conftest import asyncpg_dsn, delete_namespace, server_data_dir

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]

# Started in a child Python that we then kill; it reports its servers' pids and waits.
SERVE_FOREVER = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from infra.nats import EmbeddedNats
    from infra.postgres import EmbeddedPostgres

    data_dir = Path(sys.argv[2])
    if sys.argv[1] == "explicit":
        servers = EmbeddedPostgres(data_dir), EmbeddedNats(data_dir)
        for server in servers:
            server.start()
        print(json.dumps([server.pid for server in servers]), flush=True)
        sys.stdin.read()
    else:
        with EmbeddedPostgres(data_dir) as db, EmbeddedNats(data_dir) as broker:
            print(json.dumps([db.pid, broker.pid]), flush=True)
            sys.stdin.read()
    """
)


@pytest.fixture
def data_dir() -> Iterator[Path]:
    with server_data_dir("runner") as path:
        yield path


def family(pid: int | None) -> list[psutil.Process]:
    assert pid is not None
    parent = psutil.Process(pid)
    return [parent, *parent.children(recursive=True)]


def alive(procs: list[psutil.Process]) -> list[psutil.Process]:
    return [proc for proc in procs if running(proc)]


def running(proc: psutil.Process) -> bool:
    try:
        return bool(proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


def kill_all(procs: list[psutil.Process]) -> None:
    for proc in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.kill()
    psutil.wait_procs(procs, timeout=10)


async def select_one(url: str) -> int:
    conn = await asyncpg.connect(asyncpg_dsn(url), timeout=10)
    try:
        return int(await conn.fetchval("select 1"))
    finally:
        await conn.close()


async def publish_to_new_stream(url: str) -> int:
    client = await nats.connect(url, max_reconnect_attempts=0)
    try:
        stream = client.jetstream()
        await stream.add_stream(name="EMBEDDED_PROBE", subjects=["embedded.>"])
        ack = await stream.publish("embedded.hello", b"hello")
        return ack.seq
    finally:
        await client.close()


def sleep_as_server_user() -> subprocess.Popen[bytes]:
    owner = pwd.getpwnam(SYSTEM_USER) if user_is_root() else None
    return subprocess.Popen(
        ["sleep", "60"],
        user=owner.pw_uid if owner else None,
        group=owner.pw_gid if owner else None,
    )


def start_serving(mode: str, data_dir: Path) -> tuple[subprocess.Popen[str], list[psutil.Process]]:
    child = subprocess.Popen(
        [sys.executable, "-c", SERVE_FOREVER, mode, str(data_dir)],
        cwd=REPO_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    pids = json.loads(child.stdout.readline())
    return child, [proc for pid in pids for proc in family(pid)]


async def test_servers_serve_then_stop_leaving_no_process(data_dir: Path) -> None:
    with EmbeddedPostgres(data_dir) as db, EmbeddedNats(data_dir) as broker:
        assert db.url.startswith("postgresql+asyncpg://postgres@127.0.0.1:")
        assert broker.url.startswith("nats://127.0.0.1:")
        assert await select_one(db.url) == 1
        assert await publish_to_new_stream(broker.url) == 1
        servers = family(db.pid) + family(broker.pid)
    assert alive(servers) == []
    assert server_processes(db.pgdata) == []
    assert not (db.pgdata / "postmaster.pid").exists()


async def test_an_initialised_cluster_and_stream_store_are_reused(data_dir: Path) -> None:
    with EmbeddedPostgres(data_dir) as db, EmbeddedNats(data_dir) as broker:
        await _execute(db.url, "create table kept (n int); insert into kept values (7)")
        await publish_to_new_stream(broker.url)
    with EmbeddedPostgres(data_dir) as db, EmbeddedNats(data_dir) as broker:
        assert await _fetch(db.url, "select n from kept") == 7
        assert await _stream_messages(broker.url, "EMBEDDED_PROBE") == 1


async def test_starts_again_after_the_postmaster_was_killed(data_dir: Path) -> None:
    crashed = EmbeddedPostgres(data_dir)
    crashed.start()
    assert crashed.pid is not None
    os.kill(crashed.pid, signal.SIGKILL)  # stays an unreaped zombie: its pid still "exists"
    assert (crashed.pgdata / "postmaster.pid").exists()
    with EmbeddedPostgres(data_dir) as revived:
        assert await select_one(revived.url) == 1
    crashed.stop()
    assert server_processes(crashed.pgdata) == []


async def test_starts_despite_a_recorded_pid_now_used_by_another_process(data_dir: Path) -> None:
    with EmbeddedPostgres(data_dir) as db:
        pass
    # A live process of the server's user under the recorded pid: postgres alone would refuse.
    impostor = sleep_as_server_user()
    try:
        (db.pgdata / "postmaster.pid").write_text(f"{impostor.pid}\n{db.pgdata}\n")
        with EmbeddedPostgres(data_dir) as db:
            assert await select_one(db.url) == 1
        assert impostor.poll() is None
    finally:
        impostor.kill()
        impostor.wait()


@pytest.mark.parametrize("mode", ["explicit", "context"])
def test_servers_die_with_a_parent_killed_by_sigkill(data_dir: Path, mode: str) -> None:
    child, servers = start_serving(mode, data_dir)
    child.kill()
    child.wait()
    try:
        wait_until(lambda: alive(servers) == [], timeout=30, what="orphaned servers to exit")
    finally:
        kill_all(alive(servers))
    # They shut down cleanly rather than being killed: no stale lock is left.
    assert not (data_dir / "postgres" / "postmaster.pid").exists()


@pytest.mark.parametrize(("sig", "returncode"), [(signal.SIGTERM, 143), (signal.SIGINT, -2)])
def test_context_managers_stop_servers_on_sigterm_and_ctrl_c(
    data_dir: Path, sig: signal.Signals, returncode: int
) -> None:
    child, servers = start_serving("context", data_dir)
    child.send_signal(sig)
    try:
        assert child.wait(timeout=60) == returncode
        assert alive(servers) == []
    finally:
        kill_all(alive(servers))
        child.kill()
    assert "received fast shutdown request" in (data_dir / "logs" / "postgres.log").read_text()


@pytest.mark.parametrize("runner", [EmbeddedPostgres, EmbeddedNats])
def test_a_requested_port_in_use_fails_the_start_cleanly(
    data_dir: Path, runner: type[EmbeddedPostgres] | type[EmbeddedNats]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = runner(data_dir, port=taken.getsockname()[1])
        with pytest.raises(EmbeddedServerError, match=r"(?i)address already in use"):
            server.start()
    assert server.pid is None
    assert server_processes(data_dir / "postgres") == []


@dataclass(frozen=True)
class FakeSettings:
    database_url: str | None
    nats_url: str | None
    data_dir: Path


async def test_local_endpoints_embed_only_what_is_not_configured(data_dir: Path) -> None:
    given = FakeSettings(None, "nats://elsewhere:4222", data_dir)
    with local_endpoints(given) as (database, broker):
        assert broker == "nats://elsewhere:4222"
        assert await select_one(database) == 1
    assert not (data_dir / "nats").exists()
    assert server_processes(data_dir / "postgres") == []


async def test_local_endpoints_embed_both_when_nothing_is_configured(data_dir: Path) -> None:
    with local_endpoints(FakeSettings(None, None, data_dir)) as (database, broker):
        assert await select_one(database) == 1
        assert await publish_to_new_stream(broker) == 1


def test_local_endpoints_start_nothing_when_both_are_configured(data_dir: Path) -> None:
    given = FakeSettings("postgresql+asyncpg://db/x", "nats://broker:4222", data_dir)
    with local_endpoints(given) as endpoints:
        assert endpoints == ("postgresql+asyncpg://db/x", "nats://broker:4222")
    assert list(data_dir.iterdir()) == []


def test_the_rendered_reference_config_is_valid(tmp_path: Path) -> None:
    reference = (REPO_ROOT / "infra" / "nats.conf").read_text()
    config = tmp_path / "nats.conf"
    config.write_text(
        render_config(reference, host="127.0.0.1", port=4333, http_port=8333, store_dir=tmp_path)
    )
    checked = subprocess.run(
        [str(nats_server_binary()), "-t", "-c", str(config)], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stderr


async def test_the_session_database_is_fresh_and_private(database_url: str) -> None:
    name = database_url.rsplit("/", 1)[1]
    assert name.startswith("empreinte_test_")
    assert await _fetch(database_url, "select current_database()") == name


async def test_deleting_a_namespace_removes_its_streams_and_buckets_only(nats_url: str) -> None:
    prefix = "tprobe" + os.urandom(3).hex()
    client = await nats.connect(nats_url, max_reconnect_attempts=0)
    try:
        stream = client.jetstream()
        upper = prefix.upper()
        await stream.add_stream(name=f"{upper}_FACTORS", subjects=[f"{prefix}.factors.>"])
        await stream.create_key_value(bucket=f"{upper}_CACHE")
        await stream.create_object_store(bucket=f"{upper}_BLOBS")
        await stream.add_stream(name=f"OTHER{upper}", subjects=[f"other{prefix}.>"])
        deleted = await delete_namespace(nats_url, prefix)
        left = set(await stream_names(client.jsm()))
        await client.jsm().delete_stream(f"OTHER{upper}")
    finally:
        await client.close()
    assert sorted(deleted) == sorted(
        [f"{upper}_FACTORS", f"KV_{upper}_CACHE", f"OBJ_{upper}_BLOBS"]
    )
    assert f"OTHER{upper}" in left
    assert not set(deleted) & left


async def _execute(url: str, statement: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(url), timeout=10)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def _fetch(url: str, query: str) -> object:
    conn = await asyncpg.connect(asyncpg_dsn(url), timeout=10)
    try:
        return await conn.fetchval(query)
    finally:
        await conn.close()


async def _stream_messages(url: str, stream: str) -> int:
    client = await nats.connect(url, max_reconnect_attempts=0)
    try:
        info = await client.jsm().stream_info(stream)
        return info.state.messages
    finally:
        await client.close()
