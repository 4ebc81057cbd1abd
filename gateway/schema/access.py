"""The caller's own view: who am I, and the API keys of my organisation (admin)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from gateway.context import GatewayContext
from gateway.errors import GatewayError
from kernel.errors import RequestRefused


@strawberry.type(description="The organisation and roles of the API key used for this request.")
class Me:
    organisation: str
    roles: list[str]
    key_id: str


@strawberry.type(description="A new API key. `secret` is shown this once and never again.")
class IssuedApiKey:
    key_id: str
    secret: str
    organisation: str
    roles: list[str]


def resolve_me(info: Info[GatewayContext, None]) -> Me:
    p = info.context.principal
    return Me(organisation=p.tenant_id, roles=sorted(p.roles), key_id=p.key_id)


async def create_api_key(
    info: Info[GatewayContext, None], name: str, roles: list[str]
) -> IssuedApiKey:
    """Create a key for the caller's organisation (admin only)."""
    ctx = info.context.acting_as("admin")
    try:
        issued = await info.context.keys.create(ctx.tenant_id, roles, name, ctx.actor)
    except RequestRefused as refused:
        raise GatewayError("BAD_USER_INPUT", refused.message, refused.field) from refused
    return IssuedApiKey(
        key_id=issued.key_id,
        secret=issued.secret,
        organisation=issued.tenant_id,
        roles=list(issued.roles),
    )


async def revoke_api_key(info: Info[GatewayContext, None], key_id: str) -> bool:
    """Revoke one of the caller's organisation's keys (admin only)."""
    ctx = info.context.acting_as("admin")
    if not await info.context.keys.revoke(ctx.tenant_id, key_id, ctx.actor):
        raise GatewayError("NOT_FOUND", f"no live API key {key_id!r} in your organisation", "keyId")
    return True
