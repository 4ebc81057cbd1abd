"""The gateway's ASGI app: GraphQL (with GraphiQL) at /graphql over the services' NATS APIs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from nats.aio.client import Client as NatsClient
from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.fastapi import GraphQLRouter

from gateway.context import GatewayContext
from gateway.keys import SCHEMA, ApiKeys, Principal
from gateway.limits import BodyLimit, RateLimiter, retry_after_header
from gateway.schema.root import schema
from kernel.client import ServiceClient
from kernel.db import create_engine
from kernel.migrations import upgrade
from kernel.process import connect_nats
from kernel.settings import Settings

MIGRATIONS = Path(__file__).parent / "migrations"
ANONYMOUS = Principal(tenant_id="", roles=frozenset(), key_id="anonymous")
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
}


@dataclass
class Connections:
    nc: NatsClient
    engine: AsyncEngine
    keys: ApiKeys


async def open_connections(settings: Settings) -> Connections:
    """NATS and the gateway's own schema (API keys), migrated."""
    assert settings.nats_url and settings.database_url, (
        "the gateway needs NATS_URL and DATABASE_URL"
    )
    engine = create_engine(settings.database_url, pool_size=5)
    await upgrade(engine, SCHEMA, MIGRATIONS)
    nc = await connect_nats(settings.nats_url, "empreinte-gateway")
    return Connections(nc, engine, ApiKeys(engine))


def create_app(settings: Settings) -> FastAPI:
    """The gateway app; it connects when it starts and drains when it stops."""
    state: dict[str, Connections] = {}
    limiter = RateLimiter(settings.rate_limit_per_minute)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        state["c"] = await open_connections(settings)
        yield
        await state["c"].nc.drain()
        await state["c"].engine.dispose()

    async def context(request: Request) -> GatewayContext:
        c = state["c"]
        if _is_ide_page(request):  # GraphiQL's page itself runs no query: open to anyone
            return GatewayContext(
                ANONYMOUS, c.nc, settings.namespace, c.keys, ServiceClient(c.nc, settings.namespace)
            )
        principal = await _authenticate(request, c.keys)
        wait = limiter.take(principal.key_id)
        if wait:
            raise HTTPException(
                429, "rate limit reached", {"Retry-After": retry_after_header(wait)}
            )
        services = ServiceClient(c.nc, settings.namespace)
        return GatewayContext(principal, c.nc, settings.namespace, c.keys, services)

    app = FastAPI(title="Empreinte gateway", lifespan=lifespan)
    app.include_router(GraphQLRouter(schema, context_getter=context), prefix="/graphql")
    app.middleware("http")(_security_headers)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["*"],
        )

    app.exception_handler(HTTPException)(_http_error)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        connected = "c" in state and state["c"].nc.is_connected
        return {"status": "ok" if connected else "degraded"}

    return app


async def _authenticate(request: Request, keys: ApiKeys) -> Principal:
    presented = request.headers.get("x-api-key") or _bearer(request.headers.get("authorization"))
    principal = await keys.authenticate(presented) if presented else None
    if principal is None:
        reason = "a valid API key is required" if presented else "an API key is required"
        raise HTTPException(
            401,
            f"{reason} (header X-API-Key or Authorization: Bearer)",
            {"WWW-Authenticate": "Bearer"},
        )
    return principal


_CODES = {401: "UNAUTHENTICATED", 403: "FORBIDDEN", 404: "NOT_FOUND", 429: "RATE_LIMITED"}


async def _http_error(_: Request, error: Exception) -> Response:
    """HTTP-level refusals in the GraphQL error shape, with a stable code."""
    assert isinstance(error, HTTPException)
    code = _CODES.get(error.status_code, "BAD_REQUEST")
    body = {"errors": [{"message": str(error.detail), "extensions": {"code": code}}]}
    return JSONResponse(body, status_code=error.status_code, headers=error.headers)


def _is_ide_page(request: Request) -> bool:
    wants_html = "text/html" in request.headers.get("accept", "")
    return request.method == "GET" and wants_html and "query" not in request.query_params


def _bearer(header: str | None) -> str | None:
    if header and header.lower().startswith("bearer "):
        return header[7:].strip()
    return None


async def _security_headers(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    response = await call_next(request)
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response
