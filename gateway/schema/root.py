"""The public GraphQL schema: one root type per operation kind, fields grouped by area."""

from __future__ import annotations

from pathlib import Path

import strawberry
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter

from gateway.errors import TypedErrors
from gateway.schema.access import IssuedApiKey, Me, create_api_key, resolve_me, revoke_api_key
from gateway.schema.health import ServiceHealth, resolve_health

MAX_DEPTH, MAX_TOKENS, MAX_ALIASES = 12, 5_000, 30
SCHEMA_FILE = Path(__file__).parents[1] / "schema.graphql"


@strawberry.type
class Query:
    health: list[ServiceHealth] = strawberry.field(
        resolver=resolve_health, description="Every service's health, asked over NATS."
    )
    me: Me = strawberry.field(resolver=resolve_me, description="Who this API key is.")


@strawberry.type
class Mutation:
    create_api_key: IssuedApiKey = strawberry.mutation(resolver=create_api_key)
    revoke_api_key: bool = strawberry.mutation(resolver=revoke_api_key)


schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    extensions=[
        TypedErrors,
        lambda: QueryDepthLimiter(max_depth=MAX_DEPTH),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
    ],
)
