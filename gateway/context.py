"""What every resolver gets: the caller, and the means to reach the services."""

from __future__ import annotations

from dataclasses import dataclass, field

from nats.aio.client import Client as NatsClient
from strawberry.fastapi import BaseContext

from gateway.errors import forbidden
from gateway.keys import ApiKeys, Principal
from kernel.client import ServiceClient
from kernel.endpoints import CallContext


@dataclass
class GatewayContext(BaseContext):
    principal: Principal
    nc: NatsClient
    namespace: str
    keys: ApiKeys
    services: ServiceClient
    loaders: dict[str, object] = field(default_factory=dict)  # per request, by name

    def __post_init__(self) -> None:
        super().__init__()

    def acting_as(self, *roles: str) -> CallContext:
        """The call context for a service, in the first of `roles` the caller holds."""
        held = self.principal.roles
        for role in roles:
            if role in held:
                return self.principal.context(role)
        if "admin" in held:
            return self.principal.context("admin")
        raise forbidden(" or ".join(roles))
