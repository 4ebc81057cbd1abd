"""WebSocket sockets within the key's rate limit, against a real uvicorn gateway."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
import uvicorn
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from gateway.app import create_app
from gateway.sockets import RATE_LIMITED_CLOSE
from kernel.settings import Settings
from tests.e2e.conftest import Stack, organisation
from tests.e2e.test_gateway_subscriptions import SUBSCRIBE, receive
from tests.e2e.test_gateway_subscriptions import socket as ws_socket

BUDGET = 3  # requests a minute: refills one every 20 s, far slower than these tests
QUERY = "{ me { organisation } }"


@asynccontextmanager
async def served(settings: Settings) -> AsyncIterator[str]:
    """The gateway on uvicorn, on a free local port: its http:// base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)  # clients may connect before the server runs: the backlog holds them
    server = uvicorn.Server(uvicorn.Config(create_app(settings), log_level="warning"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task


@pytest.fixture
async def limited(stack: Stack) -> AsyncIterator[str]:
    """A gateway allowing each key BUDGET requests a minute: its base URL."""
    strict = stack.settings.model_copy(update={"rate_limit_per_minute": BUDGET})
    async with served(strict) as url:
        yield url


def ws_url(base: str) -> str:
    return base.replace("http://", "ws://") + "/graphql"


def subscribe(operation_id: str, query: str = SUBSCRIBE) -> str:
    return json.dumps({"id": operation_id, "type": "subscribe", "payload": {"query": query}})


async def closed_code(url: str, key: str) -> int | None:
    """The close code a socket presenting `key` gets before or instead of its ack."""
    async with ws_socket(url, {"X-API-Key": key}) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await receive(ws)
    return closed.value.rcvd.code if closed.value.rcvd else None


async def test_subscribes_over_budget_get_a_coded_error_and_the_socket_lives_on(
    stack: Stack, limited: str
) -> None:
    key = await stack.key(organisation(), "viewer")
    async with ws_socket(ws_url(limited), {"X-API-Key": key}) as ws:
        assert (await receive(ws))["type"] == "connection_ack"  # 1 of 3
        await ws.send(subscribe("a"))  # 2 of 3
        await ws.send(subscribe("b", QUERY))  # 3 of 3: a query over the socket counts too
        assert (await receive(ws))["id"] == "b"  # the query's answer ...
        assert (await receive(ws)) == {"id": "b", "type": "complete"}
        await ws.send(subscribe("c"))
        refused = await receive(ws)
        assert refused["id"] == "c" and refused["type"] == "error"
        [error] = refused["payload"]
        assert error["extensions"]["code"] == "RATE_LIMITED"
        assert error["extensions"]["retryAfter"] >= 1 and "retry after" in error["message"]
        await ws.send(json.dumps({"type": "ping"}))
        assert (await receive(ws))["type"] == "pong"  # the socket (and "a") carry on


async def test_a_connection_over_budget_is_closed_with_try_again_later(
    stack: Stack, limited: str
) -> None:
    key = await stack.key(organisation(), "viewer")
    async with httpx.AsyncClient(base_url=limited) as http:
        for _ in range(BUDGET):  # HTTP and sockets draw on the same budget
            answer = await http.post("/graphql", json={"query": QUERY}, headers={"X-API-Key": key})
            assert answer.status_code == 200, answer.text
    assert await closed_code(ws_url(limited), key) == RATE_LIMITED_CLOSE
    other = await stack.key(organisation(), "viewer")  # another key has its own budget
    async with ws_socket(ws_url(limited), {"X-API-Key": other}) as ws:
        assert (await receive(ws))["type"] == "connection_ack"


async def test_repeated_connection_attempts_are_counted(stack: Stack, limited: str) -> None:
    key = await stack.key(organisation(), "viewer")
    for _ in range(BUDGET):
        async with ws_socket(ws_url(limited), {}, {"X-API-Key": key}) as ws:
            assert (await receive(ws))["type"] == "connection_ack"
    assert await closed_code(ws_url(limited), key) == RATE_LIMITED_CLOSE


async def test_the_legacy_protocol_is_not_spoken(live_gateway: str) -> None:
    async with connect(live_gateway, subprotocols=["graphql-ws"]) as ws:  # type: ignore[list-item]
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4406
