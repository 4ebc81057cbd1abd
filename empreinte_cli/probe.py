"""Asking a running service whether it is healthy, over NATS."""

from __future__ import annotations

import json
from typing import Any

import nats
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeout

from contracts.services import HEALTH_VERB
from kernel.naming import endpoint_subject
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
