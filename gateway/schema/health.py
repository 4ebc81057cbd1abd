"""Health of the services behind the gateway."""

from __future__ import annotations

import asyncio
import json

import strawberry
from nats.aio.client import Client as NatsClient
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeout
from strawberry.types import Info

from contracts.services import HEALTH_VERB, SERVICES, HealthReport
from gateway.context import GatewayContext
from kernel.naming import endpoint_subject


@strawberry.type(description="One service's health, as it answered over NATS.")
class ServiceHealth:
    service: str
    status: str = strawberry.field(description="ok, degraded or unreachable")
    head_position: int | None = strawberry.field(
        description="Global position of the last event in the service's log"
    )


async def _ask(nc: NatsClient, namespace: str, service: str) -> ServiceHealth:
    try:
        reply = await nc.request(endpoint_subject(namespace, service, HEALTH_VERB), b"", timeout=2)
    except (NatsTimeout, NoRespondersError):
        return ServiceHealth(service=service, status="unreachable", head_position=None)
    report = HealthReport.model_validate(json.loads(reply.data))
    return ServiceHealth(service=service, status=report.status, head_position=report.head_position)


async def resolve_health(info: Info[GatewayContext, None]) -> list[ServiceHealth]:
    nc, namespace = info.context.nc, info.context.namespace
    return list(await asyncio.gather(*(_ask(nc, namespace, s) for s in SERVICES)))
