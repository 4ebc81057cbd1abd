"""The gateway's ASGI app: GraphQL (with GraphiQL) at /graphql over the services' NATS APIs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.requests import HTTPConnection
from fastapi.responses import JSONResponse
from nats.aio.client import Client as NatsClient
from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.exceptions import ConnectionRejectionError
from strawberry.fastapi import GraphQLRouter
from strawberry.schema import BaseSchema
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from gateway import rest
from gateway.auth import Authenticator, TooManyFailures, client_address, presented_key
from gateway.coalesce import Coalescer
from gateway.context import GatewayContext
from gateway.errors import GatewayError
from gateway.headers import SecurityHeaders
from gateway.keys import SCHEMA, ApiKeys, KeyStoreUnavailable, Principal
from gateway.limits import BodyLimit, RateLimiter, UploadLimit, retry_after_header
from gateway.posts import JsonGraphQL, JsonPosts, SharedExecution
from gateway.schema.root import schema
from gateway.sockets import LimitedTransportWS, TryLater, charge
from kernel.client import ServiceClient
from kernel.db import create_engine
from kernel.errors import RemoteError
from kernel.migrations import upgrade
from kernel.process import connect_nats
from kernel.settings import Settings

MIGRATIONS = Path(__file__).parent / "migrations"
ANONYMOUS = Principal(tenant_id="", roles=frozenset(), key_id="anonymous")


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
    engine = create_engine(settings.database_url, pool_size=5, name="empreinte-gateway")
    await upgrade(engine, SCHEMA, MIGRATIONS)
    nc = await connect_nats(settings.nats_url, "empreinte-gateway")
    return Connections(nc, engine, ApiKeys(engine))


class _Gateway:
    """What the app's parts share: the settings, the connections (once started), the limiter."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.limiter = RateLimiter(settings.rate_limit_per_minute)
        self.failures = RateLimiter(settings.auth_failures_per_minute)
        self.c: Connections | None = None

    @asynccontextmanager
    async def lifespan(self, _: FastAPI) -> AsyncIterator[None]:
        self.c = c = await open_connections(self.settings)
        yield
        await c.nc.drain()
        await c.engine.dispose()

    def started(self) -> Connections:
        assert self.c is not None, "the app has not started"
        return self.c

    def authenticator(self) -> Authenticator:
        return Authenticator(self.started().keys, self.failures)

    def made(self, principal: Principal) -> GatewayContext:
        c, ns = self.started(), self.settings.namespace
        return GatewayContext(principal, c.nc, ns, c.keys, ServiceClient(c.nc, ns))

    async def context(self, connection: HTTPConnection) -> GatewayContext:
        """GraphQL's context; a socket's key is checked on its connection_init."""
        if connection.scope["type"] == "websocket":
            # Not here: a failure here fails the upgrade with a bare 500, where the protocol's
            # connection_init can answer with a close code the client understands.
            return self.made(ANONYMOUS)
        if _is_ide_page(connection):  # GraphiQL's page itself runs no query: open to anyone
            return self.made(ANONYMOUS)
        return await self.authorised(connection)

    async def authorised(self, connection: HTTPConnection) -> GatewayContext:
        """The caller's context, within its rate limit (401 or 429 otherwise)."""
        principal = await _authenticate(connection, self.authenticator())
        wait = self.limiter.take(principal.key_id)
        if wait:
            raise HTTPException(
                429, "rate limit reached", {"Retry-After": retry_after_header(wait)}
            )
        return self.made(principal)

    async def healthz(self) -> dict[str, str]:
        connected = self.c is not None and self.c.nc.is_connected
        return {"status": "ok" if connected else "degraded"}


def create_app(settings: Settings) -> FastAPI:
    """The gateway app; it connects when it starts and drains when it stops."""
    gateway = _Gateway(settings)
    app = FastAPI(title="Empreinte gateway", lifespan=gateway.lifespan)
    graphql = _Router(schema, gateway.limiter, gateway.context, gateway.authenticator)
    app.include_router(graphql, prefix="/graphql")
    posts = JsonGraphQL(schema, gateway.authorised, graphql.coalescer)
    app.add_middleware(JsonPosts, view=posts, refuse=_http_error, path="/graphql")  # innermost
    app.include_router(rest.router(gateway.authorised))
    app.get("/healthz", include_in_schema=False)(gateway.healthz)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(UploadLimit, max_bytes=settings.max_upload_bytes)
    app.add_middleware(SecurityHeaders)  # outside the limits: their 413s get them too
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["*"],
        )
    app.exception_handler(HTTPException)(_http_error)
    app.exception_handler(GatewayError)(_refused)
    app.exception_handler(RemoteError)(_refused)
    app.exception_handler(RequestValidationError)(_invalid)
    return app


_ACK = cast("UnsetType", UNSET)  # connection_ack without a payload


class _Router(SharedExecution, GraphQLRouter[GatewayContext, None]):
    """GraphQL over HTTP and WebSocket; a socket authenticates in its connection_init.

    Only graphql-transport-ws is spoken: its handler enforces the rate limit (the legacy
    graphql-ws protocol would be a way around it).
    """

    graphql_transport_ws_handler_class = LimitedTransportWS

    def __init__(
        self,
        schema: BaseSchema,
        limiter: RateLimiter,
        context_getter: Callable[[HTTPConnection], Awaitable[GatewayContext]],
        authenticator: Callable[[], Authenticator],
    ) -> None:
        protocols = (GRAPHQL_TRANSPORT_WS_PROTOCOL,)
        super().__init__(schema, context_getter=context_getter, subscription_protocols=protocols)
        self.limiter, self.authenticator = limiter, authenticator
        self.coalescer: Coalescer[ExecutionResult] = Coalescer()

    async def on_ws_connect(self, context: GatewayContext) -> UnsetType | dict[str, object] | None:
        params = context.connection_params
        given = params.get if isinstance(params, dict) else _nothing
        socket = context.request
        headers = socket.headers.get if socket is not None else _nothing
        presented = presented_key(headers) or presented_key(
            lambda name: given(name) or given(name.lower())
        )
        try:
            found = (
                await self.authenticator().principal(presented, client_address(socket))
                if presented
                else None
            )
        except KeyStoreUnavailable as error:
            raise TryLater(str(error), wait=1.0) from error
        except TooManyFailures as error:
            raise TryLater(str(error), wait=error.wait) from error
        if found is None:
            raise ConnectionRejectionError({"message": "a valid API key is required"})
        context.principal = found
        charge(self.limiter, context.principal.key_id)  # the connection attempt
        return _ACK


def _nothing(_: str) -> None:
    return None


async def _authenticate(request: HTTPConnection, authenticator: Authenticator) -> Principal:
    presented = presented_key(request.headers.get)
    address = client_address(request)
    try:
        principal = await authenticator.principal(presented, address) if presented else None
    except KeyStoreUnavailable as error:
        raise HTTPException(503, str(error), {"Retry-After": "1"}) from error
    except TooManyFailures as error:
        wait = {"Retry-After": retry_after_header(error.wait)}
        raise HTTPException(429, str(error), wait) from error
    if principal is None:
        reason = "a valid API key is required" if presented else "an API key is required"
        raise HTTPException(
            401,
            f"{reason} (header X-API-Key or Authorization: Bearer)",
            {"WWW-Authenticate": "Bearer"},
        )
    return principal


_CODES = {
    401: "UNAUTHENTICATED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    429: "RATE_LIMITED",
    503: "UNAVAILABLE",
}


async def _http_error(_: Request, error: Exception) -> Response:
    """HTTP-level refusals in the GraphQL error shape, with a stable code."""
    assert isinstance(error, HTTPException)
    code = _CODES.get(error.status_code, "BAD_REQUEST")
    body = {"errors": [{"message": str(error.detail), "extensions": {"code": code}}]}
    return JSONResponse(body, status_code=error.status_code, headers=error.headers)


_STATUS = {
    "FORBIDDEN": 403,
    "NOT_FOUND": 404,
    "UNSUPPORTED_MEDIA_TYPE": 415,
    "IDEMPOTENCY_KEY_REUSED": 409,
    "CONFLICT": 409,
    "ALREADY_STORED": 409,
    "PAYLOAD_TOO_LARGE": 413,
    "UNAVAILABLE": 503,  # a service did not answer: retry
    "INTERNAL": 500,  # a service's own fault, not the client's
}


async def _refused(_: Request, error: Exception) -> Response:
    """A refusal on a REST route, in the GraphQL error shape, with its HTTP status."""
    assert isinstance(error, GatewayError | RemoteError)
    code = error.code.upper()
    extensions = {"code": code, **({"field": error.field} if error.field else {})}
    body = {"errors": [{"message": error.message, "extensions": extensions}]}
    return JSONResponse(body, status_code=_STATUS.get(code, 400))


async def _invalid(_: Request, error: Exception) -> Response:
    """A REST request FastAPI could not read (a missing header, a bad parameter), named."""
    assert isinstance(error, RequestValidationError)
    first = error.errors()[0]
    field = ".".join(str(p) for p in first.get("loc", ())[1:])
    extensions = {"code": "BAD_USER_INPUT", **({"field": field} if field else {})}
    body = {"errors": [{"message": str(first.get("msg", "invalid")), "extensions": extensions}]}
    return JSONResponse(body, status_code=422)


def _is_ide_page(request: HTTPConnection) -> bool:
    wants_html = "text/html" in request.headers.get("accept", "")
    return (
        request.scope.get("method") == "GET" and wants_html and "query" not in request.query_params
    )
