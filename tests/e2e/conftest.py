"""The whole stack for the gateway's end-to-end tests: four services and the gateway, real.

The services run in-process (`kernel.process.run_service`) on a database of their own (their
schemas are named after them) and a namespace of their own, once per session; tests keep
apart by using distinct organisations.
"""

from __future__ import annotations

import asyncio
import secrets
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg

from contracts import reporting as r
from empreinte_cli.probe import until_ready
from gateway.app import create_app
from gateway.keys import ApiKeys, IssuedKey
from kernel.db import create_engine
from kernel.process import connect_nats, run_service
from kernel.settings import Settings
from services.compute.main import definition as compute
from services.factors.main import definition as factors
from services.inventory.main import definition as inventory
from services.reporting.main import definition as reporting
from tests.conftest import _admin, with_database


@dataclass
class Stack:
    settings: Settings
    http: httpx.AsyncClient
    keys: ApiKeys
    nc: NatsClient

    async def key(self, tenant: str, *roles: str) -> str:
        issued: IssuedKey = await self.keys.create(tenant, list(roles), "e2e", actor="test")
        return issued.secret

    async def graphql(self, query: str, key: str, **variables: Any) -> dict[str, Any]:
        body = {"query": query, "variables": variables}
        response = await self.http.post("/graphql", json=body, headers={"X-API-Key": key})
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer

    async def data(self, query: str, key: str, **variables: Any) -> dict[str, Any]:
        answer = await self.graphql(query, key, **variables)
        assert "errors" not in answer, answer["errors"]
        found: dict[str, Any] = answer["data"]
        return found


class Changes:
    """Reporting's change notices for one organisation, heard from before a test acts."""

    def __init__(self) -> None:
        self.heard: asyncio.Queue[r.FootprintChanged] = asyncio.Queue()
        self.seen: dict[str, str] = {}
        self.last_position = 0

    async def on(self, msg: Msg) -> None:
        self.heard.put_nowait(r.FootprintChanged.model_validate_json(msg.data))

    async def settled(self, ids: list[str], status: str | None = None, within: float = 120) -> None:
        """Wait until every id in `ids` was reported (with `status`, when given)."""

        async def wait() -> None:
            while any(self.seen.get(i) is None or (status and self.seen[i] != status) for i in ids):
                notice = await self.heard.get()
                self.seen[str(notice.source_id)] = notice.status
                self.last_position = max(self.last_position, notice.compute_position)

        await asyncio.wait_for(wait(), within)


@asynccontextmanager
async def changes(stack: Stack, tenant: str) -> AsyncIterator[Changes]:
    found = Changes()
    sub = await stack.nc.subscribe(r.changes_subject(stack.settings.namespace, tenant), cb=found.on)
    try:
        yield found
    finally:
        await sub.unsubscribe()


def organisation() -> str:
    return f"org-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
async def stack_settings(
    database_server_url: str, nats_url: str, namespace: str
) -> AsyncIterator[Settings]:
    name = f"empreinte_gw_{secrets.token_hex(4)}"
    await _admin(database_server_url, f'CREATE DATABASE "{name}"')
    # named after the session's, whose cleanup (tests/conftest.py) removes it with its own
    stack_namespace = f"{namespace}g{secrets.token_hex(3)}"
    yield Settings.model_validate(
        {
            "DATABASE_URL": with_database(database_server_url, name),
            "NATS_URL": nats_url,
            "EMPREINTE_NAMESPACE": stack_namespace,
            "EMPREINTE_RATE_LIMIT_PER_MINUTE": 100_000,
            # The fuzzing presents wrong keys by the hundred, all from 127.0.0.1.
            "EMPREINTE_AUTH_FAILURES_PER_MINUTE": 100_000,
        }
    )
    await _admin(database_server_url, f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
async def services(stack_settings: Settings) -> AsyncIterator[NatsClient]:
    """The four services, running until the session ends."""
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(run_service(d, stack_settings, stop))
        for d in (factors, inventory, compute, reporting)
    ]
    assert stack_settings.nats_url
    nc = await connect_nats(stack_settings.nats_url, "e2e")
    await asyncio.wait_for(until_ready(nc, stack_settings.namespace), 240)
    yield nc
    stop.set()
    await asyncio.gather(*tasks)
    await nc.drain()


@pytest.fixture(scope="session")
async def stack(stack_settings: Settings, services: NatsClient) -> AsyncIterator[Stack]:
    """The gateway app (its lifespan run) in front of the services, through httpx."""
    app = create_app(stack_settings)
    assert stack_settings.database_url
    engine = create_engine(stack_settings.database_url, pool_size=2)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
            yield Stack(stack_settings, http, ApiKeys(engine), services)
    await engine.dispose()


@pytest.fixture
async def live_gateway(stack: Stack) -> AsyncIterator[str]:
    """The gateway served by uvicorn on a local port (for WebSocket clients): its ws:// URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)  # clients may connect before the server runs: the backlog holds them
    server = uvicorn.Server(uvicorn.Config(create_app(stack.settings), log_level="warning"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    yield f"ws://127.0.0.1:{sock.getsockname()[1]}/graphql"
    server.should_exit = True
    await task
