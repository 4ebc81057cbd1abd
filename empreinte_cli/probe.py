"""Asking running services whether they are healthy and ready, over NATS."""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Awaitable, Callable
from typing import Any

import nats
from nats.aio.client import Client as NatsClient
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeout
from nats.js.errors import NotFoundError

from contracts.services import HEALTH_VERB, SERVICES, HealthReport
from kernel.naming import endpoint_subject, events_stream
from kernel.settings import Settings


async def ask_health(settings: Settings, service: str, seconds: float) -> dict[str, Any]:
    """The service's health report, or a `down` report when it does not answer."""
    assert settings.nats_url
    nc = await nats.connect(settings.nats_url, connect_timeout=seconds)
    try:
        subject = endpoint_subject(settings.namespace, service, HEALTH_VERB)
        reply = await nc.request(subject, b"", timeout=seconds)
        report: dict[str, Any] = json.loads(reply.data)
        return report
    except (NatsTimeout, NoRespondersError):
        return {"service": service, "status": "down"}
    finally:
        await nc.close()


async def answers(nc: NatsClient, namespace: str, service: str) -> bool:
    """Whether `service` answers its health endpoint now."""
    try:
        await nc.request(endpoint_subject(namespace, service, HEALTH_VERB), b"", timeout=5)
    except (NoRespondersError, NatsTimeout):
        return False
    return True


async def catalogue_in_compute(nc: NatsClient, namespace: str) -> bool:
    """Whether compute has taken in every factor event the factors service has logged."""
    reply = await nc.request(endpoint_subject(namespace, "factors", HEALTH_VERB), b"", timeout=5)
    head = HealthReport.model_validate_json(reply.data).head_position or 0
    js, stream = nc.jetstream(), events_stream(namespace, "factors")
    try:
        published = (await js.stream_info(stream)).state.last_seq
        info = await js.consumer_info(stream, "compute_factors")
    except NotFoundError:
        return False
    return published >= head and info.num_pending == 0 and info.num_ack_pending == 0


async def until_ready(
    nc: NatsClient, namespace: str, *, poll: float = 0.1, between: Callable[[], None] = lambda: None
) -> None:
    """Wait until every service answers and compute has the factor catalogue (no event says
    either: ask again every `poll` seconds, calling `between` before each new try, e.g. to
    raise if a process died)."""
    for service in SERVICES:
        await until(functools.partial(answers, nc, namespace, service), poll, between)
    await until(lambda: catalogue_in_compute(nc, namespace), poll, between)


async def until(
    check: Callable[[], Awaitable[bool]], poll: float, between: Callable[[], None] = lambda: None
) -> None:
    """Return once `check()` is true, asked every `poll` seconds, `between()` before each try."""
    while not await check():
        between()
        await asyncio.sleep(poll)  # a service starting or catching up sends no event: ask again
