"""Session-wide PostgreSQL and NATS for the tests, with per-session isolation.

The servers at 127.0.0.1:5432 (user postgres, trust) and 127.0.0.1:4222 (with JetStream)
are used when they answer; embedded ones are started for the session otherwise. Each
session gets its own database and its own NATS namespace, both removed at the end.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import socket
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import asyncpg
import nats
import pytest

from infra.nats import EmbeddedNats
from infra.postgres import EmbeddedPostgres
from kernel.namespaces import delete_namespace_streams

if TYPE_CHECKING:
    from kernel.settings import Settings

T = TypeVar("T")

SYSTEM_POSTGRES_PORT = 5432
SYSTEM_NATS_PORT = 4222
SYSTEM_DATABASE_URL = f"postgresql+asyncpg://postgres@127.0.0.1:{SYSTEM_POSTGRES_PORT}/postgres"
SYSTEM_NATS_URL = f"nats://127.0.0.1:{SYSTEM_NATS_PORT}"


def run_async(make: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to completion from synchronous code, pytest-asyncio's loop untouched.

    `asyncio.run` in this thread would reset the thread's current event loop; a worker
    thread has its own.
    """

    async def main() -> T:
        return await make()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, main()).result()


def asyncpg_dsn(url: str) -> str:
    """The libpq-style DSN asyncpg takes, from a SQLAlchemy URL."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def with_database(url: str, database: str) -> str:
    """`url` pointing at another database of the same server."""
    return url.rsplit("/", 1)[0] + "/" + database


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


async def _postgres_answers(url: str) -> bool:
    try:
        conn = await asyncpg.connect(asyncpg_dsn(url), timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    try:
        return bool(await conn.fetchval("select 1") == 1)
    finally:
        await conn.close()


async def _nats_has_jetstream(url: str) -> bool:
    try:
        client = await nats.connect(url, connect_timeout=3, max_reconnect_attempts=0)
    except Exception:
        return False
    try:
        await client.jetstream().account_info()
        return True
    except Exception:
        return False
    finally:
        await client.close()


async def _admin(url: str, statement: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(url), timeout=10)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def delete_namespace(url: str, namespace: str, *, derived: bool = False) -> list[str]:
    """Delete the JetStream streams and KV/object buckets of `namespace` (and, `derived`, of
    the namespaces tests named after it); return their streams."""
    client = await nats.connect(url, connect_timeout=5, max_reconnect_attempts=0)
    try:
        return await delete_namespace_streams(client.jsm(), namespace, derived=derived)
    finally:
        await client.close()


@contextmanager
def server_data_dir(label: str) -> Iterator[Path]:
    """A temporary data directory for embedded servers, removed afterwards.

    Not under pytest's `tmp_path`: when we are root, PostgreSQL runs as another user who
    must traverse the directory's parents, and every pytest start (any concurrent session)
    makes `/tmp/pytest-of-<user>` private again.
    """
    path = Path(tempfile.mkdtemp(prefix=f"empreinte-{label}-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def database_server_url() -> Iterator[str]:
    """SQLAlchemy URL of the `postgres` database of a PostgreSQL server for the session."""
    if _port_open(SYSTEM_POSTGRES_PORT) and run_async(
        lambda: _postgres_answers(SYSTEM_DATABASE_URL)
    ):
        yield SYSTEM_DATABASE_URL
        return
    with server_data_dir("postgres") as data_dir, EmbeddedPostgres(data_dir) as server:
        yield server.url


@pytest.fixture(scope="session")
def nats_url() -> Iterator[str]:
    """URL of a NATS server with JetStream for the session."""
    if _port_open(SYSTEM_NATS_PORT) and run_async(lambda: _nats_has_jetstream(SYSTEM_NATS_URL)):
        yield SYSTEM_NATS_URL
        return
    with server_data_dir("nats") as data_dir, EmbeddedNats(data_dir) as server:
        yield server.url


@pytest.fixture(scope="session")
def database_url(database_server_url: str) -> Iterator[str]:
    """SQLAlchemy URL of a fresh database `empreinte_test_<hex>`, dropped after the session."""
    name = f"empreinte_test_{secrets.token_hex(4)}"
    run_async(lambda: _admin(database_server_url, f'CREATE DATABASE "{name}"'))
    yield with_database(database_server_url, name)
    run_async(lambda: _admin(database_server_url, f'DROP DATABASE "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def namespace(nats_url: str) -> Iterator[str]:
    """A unique `t<8 hex>` namespace; its streams and KV/object buckets go after the session."""
    value = f"t{secrets.token_hex(4)}"
    yield value
    # tests make namespaces of their own named after it (f"{namespace}c{hex}"...): those too
    run_async(lambda: delete_namespace(nats_url, value, derived=True))


@pytest.fixture(scope="session")
def subprocess_env(database_url: str, nats_url: str, namespace: str) -> dict[str, str]:
    """The environment for processes started by tests: ours plus the session's endpoints."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "NATS_URL": nats_url,
        "EMPREINTE_NAMESPACE": namespace,
    }


@pytest.fixture(scope="session")
def settings(
    database_url: str, nats_url: str, namespace: str, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    """A `kernel.settings.Settings` pointing at the session's database, NATS and namespace."""
    from kernel.settings import Settings  # here: a broken kernel fails only its users

    return Settings(
        DATABASE_URL=database_url,
        NATS_URL=nats_url,
        EMPREINTE_NAMESPACE=namespace,
        EMPREINTE_DATA_DIR=tmp_path_factory.mktemp("data"),
    )
