"""The gateway's ASGI app: GraphQL (with GraphiQL) at /graphql over the services' NATS APIs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from nats.aio.client import Client as NatsClient
from strawberry.fastapi import GraphQLRouter

from gateway.schema.root import schema
from kernel.process import connect_nats
from kernel.settings import Settings


def create_app(settings: Settings) -> FastAPI:
    """The gateway app; it connects to NATS when it starts and drains when it stops."""
    state: dict[str, NatsClient] = {}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        assert settings.nats_url, "the gateway needs NATS_URL"
        state["nc"] = await connect_nats(settings.nats_url, "empreinte-gateway")
        yield
        await state["nc"].drain()

    async def context(request: Request) -> dict[str, Any]:
        return {"nc": state["nc"], "namespace": settings.namespace, "request": request}

    app = FastAPI(title="Empreinte gateway", lifespan=lifespan)
    app.include_router(GraphQLRouter(schema, context_getter=context), prefix="/graphql")

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        connected = "nc" in state and state["nc"].is_connected
        return {"status": "ok" if connected else "degraded"}

    return app
