"""A gateway whose key store (its PostgreSQL database) is unreachable says "try again later".

Over HTTP that is 503 with Retry-After; over a socket, the connection_init is answered by a
close with WebSocket's own "try again later" code. Never a bare 500, and never data. The
outage is real: the gateway's database stops accepting connections and its sessions end.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from gateway.keys import ApiKeys
from gateway.sockets import TRY_AGAIN_LATER_CLOSE
from kernel.db import create_engine
from kernel.settings import Settings
from tests.conftest import _admin, with_database
from tests.e2e.test_gateway_socket_limits import served, ws_url
from tests.e2e.test_gateway_subscriptions import receive
from tests.e2e.test_gateway_subscriptions import socket as ws_socket

ME = {"query": "{ me { organisation } }"}


@pytest.fixture
async def own_database(database_server_url: str) -> AsyncIterator[tuple[str, str]]:
    """A database for this test's gateway alone: (its name, its URL)."""
    name = f"empreinte_keys_{uuid.uuid4().hex[:8]}"
    await _admin(database_server_url, f'CREATE DATABASE "{name}"')
    yield name, with_database(database_server_url, name)
    await _admin(database_server_url, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    await _admin(database_server_url, f'DROP DATABASE "{name}" WITH (FORCE)')


async def refuse_connections(server: str, name: str, refuse: bool) -> None:
    await _admin(server, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(not refuse).lower()}')
    if refuse:  # and end the sessions the gateway's pool holds
        ended = f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
        await _admin(server, ended)


async def test_an_unreachable_key_store_gets_try_again_later_then_recovers(
    settings: Settings, database_server_url: str, own_database: tuple[str, str]
) -> None:
    name, url = own_database
    async with served(settings.model_copy(update={"database_url": url})) as base:
        async with httpx.AsyncClient(base_url=base) as http:  # answers once it has migrated
            assert (await http.get("/healthz")).status_code == 200
        engine = create_engine(url, pool_size=1)
        issued = await ApiKeys(engine).create("org-keys", ["viewer"], "test", actor="test")
        await engine.dispose()  # the key is never used before the outage: nothing remembered
        await refuse_connections(database_server_url, name, refuse=True)

        async with ws_socket(ws_url(base), {"X-API-Key": issued.secret}) as ws:
            with pytest.raises(ConnectionClosed) as closed:
                await receive(ws)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == TRY_AGAIN_LATER_CLOSE
        assert "API keys cannot be checked" in closed.value.rcvd.reason
        async with httpx.AsyncClient(base_url=base) as http:
            answer = await http.post("/graphql", json=ME, headers={"X-API-Key": issued.secret})
        assert answer.status_code == 503 and answer.headers["Retry-After"] == "1"
        assert answer.json()["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
        assert "data" not in answer.json()

        await refuse_connections(database_server_url, name, refuse=False)
        async with ws_socket(ws_url(base), {}, {"X-API-Key": issued.secret}) as ws:
            assert (await receive(ws))["type"] == "connection_ack"
