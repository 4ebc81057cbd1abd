"""The public GraphQL schema: one root type per operation kind, fields grouped by area."""

from __future__ import annotations

import strawberry

from gateway.schema.health import ServiceHealth, resolve_health


@strawberry.type
class Query:
    health: list[ServiceHealth] = strawberry.field(
        resolver=resolve_health, description="Every service's health, asked over NATS."
    )


schema = strawberry.Schema(query=Query)
