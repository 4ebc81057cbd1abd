"""Request-reply endpoints: the typed description shared by a service and its callers.

A contract declares an `EndpointSpec`; the service binds a handler to it, and callers (other
services, the gateway) use the same spec to send requests. Tenant, role, actor and trace
context travel in headers, never in the body.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar
from uuid import UUID

from pydantic import BaseModel

from kernel.envelope import new_event_id

TENANT = "Empreinte-Tenant"
ROLE = "Empreinte-Role"
ACTOR = "Empreinte-Actor"
CORRELATION = "Empreinte-Correlation-Id"
TRACEPARENT = "traceparent"
ERROR_CODE = "Nats-Service-Error-Code"
ERROR_MESSAGE = "Nats-Service-Error"

Req = TypeVar("Req", bound=BaseModel)
Resp = TypeVar("Resp", bound=BaseModel)

ROLES = frozenset({"viewer", "integrator", "auditor", "compliance", "admin", "service"})


@dataclass(frozen=True)
class EndpointSpec(Generic[Req, Resp]):
    """One endpoint: `<namespace>.<service>.<verb>`, its models, and who may call it."""

    service: str
    verb: str
    request: type[Req]
    response: type[Resp]
    roles: frozenset[str] = ROLES


@dataclass(frozen=True)
class CallContext:
    """Who calls, for which organisation, within which correlated flow."""

    tenant_id: str
    role: str
    actor: str = "anonymous"
    correlation_id: UUID = field(default_factory=new_event_id)
    traceparent: str | None = None

    def headers(self) -> dict[str, str]:
        found = {
            TENANT: self.tenant_id,
            ROLE: self.role,
            ACTOR: self.actor,
            CORRELATION: str(self.correlation_id),
        }
        if self.traceparent:
            found[TRACEPARENT] = self.traceparent
        return found
