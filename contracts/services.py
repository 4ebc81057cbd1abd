"""The services of Empreinte and what every one of them answers, whatever its domain."""

from __future__ import annotations

from pydantic import BaseModel

SERVICES: tuple[str, ...] = ("factors", "inventory", "compute", "reporting")
HEALTH_VERB = "health"


class HealthReport(BaseModel):
    """A service's answer on `<namespace>.<service>.health`."""

    service: str
    status: str
    head_position: int | None = None
    nats: bool | None = None
    database: str | None = None
