"""Per-key rate limiting and request-body limits.

The rate limit is a token bucket per API key in this process: with several gateway replicas
each enforces its own share (a shared limiter would need a shared store; not worth it yet).
Failed authentications are limited the same way per client address, so guessing keys (and
the key lookups each guess costs) is slowed down before a key is even known.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from gateway.errors import GatewayError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass
class _Bucket:
    tokens: float
    updated: float


@dataclass
class RateLimiter:
    """`per_minute` requests per key, with bursts up to the same number.

    At most `max_keys` buckets are kept: past that, the full ones go (a full bucket is the
    same as none), so callers who invent keys (client addresses) cannot fill the memory.
    """

    per_minute: int
    clock: Callable[[], float] = time.monotonic
    max_keys: int = 100_000
    _buckets: dict[str, _Bucket] = field(default_factory=dict)

    def take(self, key: str) -> float:
        """0 when the request may go; else the seconds to wait before retrying."""
        bucket = self._refilled(key)
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return self.wait(key)

    def wait(self, key: str) -> float:
        """Seconds before `key` may go again, taking nothing (0: it may go now)."""
        bucket = self._refilled(key)
        return 0.0 if bucket.tokens >= 1 else (1 - bucket.tokens) / (self.per_minute / 60.0)

    def _refilled(self, key: str) -> _Bucket:
        now, full = self.clock(), float(self.per_minute)
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_keys:
                self._forget_full(now)
            bucket = self._buckets[key] = _Bucket(full, now)
        bucket.tokens = min(full, bucket.tokens + (now - bucket.updated) * self.per_minute / 60.0)
        bucket.updated = now
        return bucket

    def _forget_full(self, now: float) -> None:
        rate, full = self.per_minute / 60.0, float(self.per_minute)
        for key, b in list(self._buckets.items()):
            if b.tokens + (now - b.updated) * rate >= full:
                del self._buckets[key]
        if len(self._buckets) >= self.max_keys:  # all busy: start over rather than grow
            self._buckets.clear()


def retry_after_header(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))


class BodyLimit:
    """ASGI middleware: refuse request bodies over `max_bytes` with 413, streamed or not.

    Bodies on the limited paths are small (GraphQL documents), so they are read whole
    before the app sees them; bulk uploads go through routes with their own streaming.
    """

    def __init__(self, app: App, max_bytes: int, paths: tuple[str, ...] = ("/graphql",)) -> None:
        self.app, self.max_bytes, self.paths = app, max_bytes, paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.paths):
            await self.app(scope, receive, send)
            return
        if _declared(scope) > self.max_bytes:
            await _too_large(send, self.max_bytes)
            return
        body = await self._read(receive)
        if body is None:
            await _too_large(send, self.max_bytes)
            return
        await self.app(scope, _replay(body), send)

    async def _read(self, receive: Receive) -> bytes | None:
        chunks: list[bytes] = []
        size, more = 0, True
        while more:
            message = await receive()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                return None
            chunks.append(chunk)
            more = message.get("more_body", False)
        return b"".join(chunks)


class UploadLimit:
    """ASGI middleware: upload bodies over `max_bytes` are refused with 413, as they stream.

    A declared Content-Length over the limit is refused before a byte is read; a body that
    crosses it while streaming is cut off there: the app's next read raises `body_too_large`,
    which the upload routes turn into a 413 with nothing stored.
    """

    def __init__(self, app: App, max_bytes: int, paths: tuple[str, ...] = ("/v1/",)) -> None:
        self.app, self.max_bytes, self.paths = app, max_bytes, paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.paths):
            await self.app(scope, receive, send)
            return
        if _declared(scope) > self.max_bytes:
            await _too_large(send, self.max_bytes)
            return
        await self.app(scope, _counted(receive, self.max_bytes), send)


def body_too_large(limit: int) -> GatewayError:
    message = f"request body over the {limit}-byte limit; nothing was stored"
    return GatewayError("PAYLOAD_TOO_LARGE", message, "body")


def _counted(receive: Receive, limit: int) -> Receive:
    size = 0

    async def counting() -> Message:
        nonlocal size
        message = await receive()
        size += len(message.get("body", b""))
        if size > limit:
            raise body_too_large(limit)
        return message

    return counting


def _declared(scope: Scope) -> int:
    """The body size the client announced (Content-Length), 0 when it did not or lied badly."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return int(value) if value.isdigit() else 0
    return 0


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def _too_large(send: Send, limit: int) -> None:
    refused = body_too_large(limit)
    error = {"message": refused.message, "extensions": {"code": refused.code, "field": "body"}}
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": json.dumps({"errors": [error]}).encode()})
