from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.keys import ApiKeys, IssuedKey
from kernel.db import create_engine
from kernel.settings import Settings

WRONG_KEYS_PER_MINUTE = 5


@dataclass
class Gateway:
    http: httpx.AsyncClient  # from 127.0.0.1
    keys: ApiKeys
    app: Any

    def client_at(self, address: str) -> httpx.AsyncClient:
        """A client calling from another address."""
        transport = httpx.ASGITransport(app=self.app, client=(address, 40_000))
        return httpx.AsyncClient(transport=transport, base_url="http://gateway")

    async def key(self, tenant: str, *roles: str) -> IssuedKey:
        return await self.keys.create(tenant, list(roles), "test", actor="test")

    async def graphql(self, query: str, key: str | None, **variables: Any) -> httpx.Response:
        headers = {"X-API-Key": key} if key else {}
        body = {"query": query, "variables": variables}
        return await self.http.post("/graphql", json=body, headers=headers)


@pytest.fixture
async def gateway(database_url: str, nats_url: str, namespace: str) -> AsyncIterator[Gateway]:
    """The real gateway app (its lifespan run) over real PostgreSQL and NATS, through httpx."""
    settings = Settings.model_validate(
        {
            "DATABASE_URL": database_url,
            "NATS_URL": nats_url,
            "EMPREINTE_NAMESPACE": namespace,
            "EMPREINTE_RATE_LIMIT_PER_MINUTE": 20,
            "EMPREINTE_MAX_BODY_BYTES": 4096,
            "EMPREINTE_AUTH_FAILURES_PER_MINUTE": WRONG_KEYS_PER_MINUTE,
        }
    )
    app = create_app(settings)
    engine = create_engine(database_url, pool_size=2)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
            yield Gateway(http, ApiKeys(engine), app)
    await engine.dispose()
