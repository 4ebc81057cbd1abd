"""The service runtime: typed request-reply endpoints on one `nats.micro` service per process.

Every request must carry a tenant and a role in its headers; the role must be one the endpoint
allows. Bad input, refusals and conflicts come back as error replies with a stable code and a
human message naming the field; unexpected failures are logged with their trace and answered
with a masked `internal` error.

nats-py runs a subscription's callback for one message at a time, so an endpoint answered its
requests one after the other, each waiting out the other's database round trips. Requests
are answered as tasks instead, at most `concurrency` at once per process: past that the
callback waits for a slot, and NATS holds the rest.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic
from uuid import UUID

import structlog
from nats.aio.client import Client as NatsClient
from nats.micro import add_service
from nats.micro.request import Request
from nats.micro.service import EndpointConfig, Service
from pydantic import BaseModel, ValidationError

from kernel.endpoints import (
    ACTOR,
    CORRELATION,
    ROLE,
    TENANT,
    TRACEPARENT,
    CallContext,
    EndpointSpec,
    Req,
    Resp,
)
from kernel.errors import KernelError, RequestRefused
from kernel.metrics import ERRORS, HANDLER_LATENCY
from kernel.naming import endpoint_subject

log = logging.getLogger(__name__)
HealthCheck = Callable[[], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Route(Generic[Req, Resp]):
    """An endpoint spec bound to the function that answers it."""

    spec: EndpointSpec[Req, Resp]
    handler: Callable[[CallContext, Req], Awaitable[Resp]]


class MicroService:
    """One process's NATS face: its routes plus a `health` endpoint."""

    def __init__(
        self,
        nc: NatsClient,
        *,
        namespace: str,
        name: str,
        version: str,
        routes: Sequence[Route[Any, Any]],
        health: HealthCheck,
        concurrency: int = 32,
    ) -> None:
        self.nc, self.namespace, self.name, self.version = nc, namespace, name, version
        self.routes, self.health = routes, health
        self._service: Service | None = None
        self._slots = asyncio.Semaphore(concurrency)
        self._answering: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        service = await add_service(
            self.nc,
            name=f"{self.namespace}-{self.name}",
            version=self.version,
            description=f"Empreinte {self.name} service",
        )
        for route in self.routes:
            await service.add_endpoint(self._endpoint(route))
        await service.add_endpoint(
            EndpointConfig(
                name="health",
                handler=self._answer_health,
                subject=endpoint_subject(self.namespace, self.name, "health"),
            )
        )
        self._service = service

    async def stop(self) -> None:
        """Stop taking requests; in-flight ones finish (the caller then drains NATS)."""
        if self._service is not None:
            await self._service.stop()
        await asyncio.gather(*self._answering, return_exceptions=True)

    def _endpoint(self, route: Route[Any, Any]) -> EndpointConfig:
        subject = endpoint_subject(self.namespace, route.spec.service, route.spec.verb)

        async def handle(request: Request) -> None:
            await self._slots.acquire()
            task = asyncio.create_task(self._answer_in_slot(route, request))
            self._answering.add(task)  # held, or the loop may collect it mid-answer
            task.add_done_callback(self._answering.discard)

        return EndpointConfig(
            name=route.spec.verb.replace(".", "_"), handler=handle, subject=subject
        )

    async def _answer_health(self, request: Request) -> None:
        await request.respond(json.dumps(await self.health()).encode())

    async def _answer_in_slot(self, route: Route[Any, Any], request: Request) -> None:
        try:
            await self._answer(route, request)
        finally:
            self._slots.release()

    async def _answer(self, route: Route[Any, Any], request: Request) -> None:
        started = time.perf_counter()
        try:
            body = await self._run(route, request)
        except Exception as error:  # every failure becomes a typed reply, never silence
            await self._refuse(route, request, error)
        else:
            await request.respond(body)
        finally:
            labels = (self.name, route.spec.verb)
            HANDLER_LATENCY.labels(*labels).observe(time.perf_counter() - started)
            structlog.contextvars.unbind_contextvars("tenant_id", "correlation_id")

    async def _run(self, route: Route[Any, Any], request: Request) -> bytes:
        ctx = call_context(request.headers or {}, route.spec.roles)
        structlog.contextvars.bind_contextvars(
            tenant_id=ctx.tenant_id, correlation_id=str(ctx.correlation_id)
        )
        payload = route.spec.request.model_validate_json(request.data or b"{}")
        try:
            response: BaseModel = await route.handler(ctx, payload)
        except ValidationError as error:  # the service's own model, not the caller's input
            raise RuntimeError(f"{route.spec.verb} built an invalid model") from error
        body = response.model_dump_json().encode()
        if len(body) > self.nc.max_payload:
            raise RequestRefused(
                "reply_too_large",
                f"the answer ({len(body)} bytes) exceeds the NATS limit ({self.nc.max_payload}); "
                "ask for less (smaller page or batch)",
            )
        return body

    async def _refuse(self, route: Route[Any, Any], request: Request, error: Exception) -> None:
        code, message, body = describe_error(error)
        ERRORS.labels(self.name, code).inc()
        if code == "internal":
            log.exception("endpoint %s failed", route.spec.verb, exc_info=error)
        await request.respond_error(code, message, data=json.dumps(body).encode())


def call_context(headers: dict[str, str], allowed_roles: frozenset[str]) -> CallContext:
    """The caller as the headers say, refused when the tenant or an allowed role is missing."""
    tenant, role = headers.get(TENANT, "").strip(), headers.get(ROLE, "").strip()
    if not tenant:
        raise RequestRefused("missing_tenant", f"the {TENANT} header is required", TENANT)
    if not role:
        raise RequestRefused("missing_role", f"the {ROLE} header is required", ROLE)
    if role not in allowed_roles:
        allowed = ", ".join(sorted(allowed_roles))
        raise RequestRefused("forbidden", f"role {role!r} may not do this (needs: {allowed})", ROLE)
    correlation = headers.get(CORRELATION)
    return CallContext(
        tenant_id=tenant,
        role=role,
        actor=headers.get(ACTOR, "anonymous"),
        correlation_id=UUID(correlation) if correlation else CallContext("-", "-").correlation_id,
        traceparent=headers.get(TRACEPARENT),
    )


def describe_error(error: Exception) -> tuple[str, str, dict[str, Any]]:
    """(code, message, body) of the error reply for `error`."""
    if isinstance(error, ValidationError):
        problems = [
            {"field": ".".join(str(p) for p in e["loc"]) or "(body)", "reason": e["msg"]}
            for e in error.errors(include_url=False)
        ]
        first = problems[0]
        message = f"{first['field']}: {first['reason']}"
        return _reply("invalid_request", message, first["field"], errors=problems)
    if isinstance(error, RequestRefused):
        return _reply(error.code, error.message, error.field)
    if isinstance(error, KernelError):
        return _reply(error.code, str(error), None)
    return _reply("internal", "the service failed to answer; the error is logged", None)


def _reply(
    code: str, message: str, field: str | None, **extra: Any
) -> tuple[str, str, dict[str, Any]]:
    return code, message, {"code": code, "message": message, "field": field, **extra}
