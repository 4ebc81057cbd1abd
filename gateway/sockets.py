"""graphql-transport-ws within the caller's rate limit.

A socket draws on its API key's budget like HTTP requests do: once when it is acknowledged
(the connection attempt) and once per `subscribe` message (over this protocol a subscribe
may carry a query or a mutation, so it is a request like any other). Over budget, a
connection is closed with `RATE_LIMITED_CLOSE` (so is one whose key cannot be checked
because the key store is unreachable) and a subscribe is answered with an `error`
message coded `RATE_LIMITED`; the socket's other operations go on.
"""

from __future__ import annotations

from typing import Any, Protocol

from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    SubscribeMessage,
)

from gateway.context import GatewayContext
from gateway.limits import RateLimiter, retry_after_header

# 4429 is taken by the protocol (a second connection_init); 1013 is WebSocket's own
# "try again later", which is what a client over its budget, or one whose key cannot be
# checked right now, should do.
TRY_AGAIN_LATER_CLOSE = 1013
RATE_LIMITED_CLOSE = TRY_AGAIN_LATER_CLOSE


class TryLater(Exception):
    """The socket cannot be served now; the client should retry after `wait` seconds."""

    def __init__(self, reason: str, *, wait: float) -> None:
        super().__init__(reason)
        self.wait = wait


class OverBudget(TryLater):
    """A socket's key has no budget left; retry after `wait` seconds."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"rate limit reached; retry after {retry_after_header(wait)} s", wait=wait)


class _Limited(Protocol):
    limiter: RateLimiter


class LimitedTransportWS(BaseGraphQLTransportWSHandler[GatewayContext, None]):
    """The protocol handler, charging connections and subscribe messages to the key."""

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        try:
            await super().handle_connection_init(message)
        except TryLater as later:  # raised by the router's on_ws_connect
            await self.websocket.close(code=TRY_AGAIN_LATER_CLOSE, reason=str(later)[:120])

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if self.connection_acknowledged:  # else the protocol closes the socket (4401)
            try:
                charge(_limited(self.view).limiter, self.context.principal.key_id)
            except OverBudget as over:
                await self.send_message(_refusal(message["id"], over))
                return
        await super().handle_subscribe(message)


def charge(limiter: RateLimiter, key_id: str) -> None:
    """Take one request from `key_id`'s budget, or raise `OverBudget`."""
    wait = limiter.take(key_id)
    if wait:
        raise OverBudget(wait)


def _limited(view: Any) -> _Limited:
    limited: _Limited = view
    return limited


def _refusal(operation_id: str, over: OverBudget) -> Any:
    retry = int(retry_after_header(over.wait))
    error = {"message": str(over), "extensions": {"code": "RATE_LIMITED", "retryAfter": retry}}
    return {"id": operation_id, "type": "error", "payload": [error]}
