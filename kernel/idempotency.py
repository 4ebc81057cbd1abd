"""A request's idempotency key as every service checks it: the client's key, namespaced by
what the request makes, fingerprinted with the whole request; reusing it for a different
request is refused on the field `idempotency_key`."""

from __future__ import annotations

from pydantic import BaseModel

from kernel.appending import IdempotencyKey
from kernel.envelope import RecordedEvent
from kernel.errors import IdempotencyKeyReused, RequestRefused
from kernel.store import EventStore, request_fingerprint

Keyed = tuple[IdempotencyKey | None, RequestRefused | None]


def keyed(request: BaseModel, given: str | None, verb: str, what: str) -> Keyed:
    """The key the store checks for `request` and the refusal of its reuse (both None when
    the client gave no key)."""
    if given is None:
        return None, None
    fingerprint = request_fingerprint(verb, request.model_dump(mode="json"))
    return IdempotencyKey(f"{what}:{given}", fingerprint), key_reused(given, what)


def key_reused(given: str, what: str) -> RequestRefused:
    """The refusal of a key already used for a different request (`what`: what it makes)."""
    return RequestRefused(
        "idempotency_key_reused",
        f"idempotency key {given!r} was already used for a different {what}; "
        f"use a new key for a new {what}",
        "idempotency_key",
    )


async def earlier(store: EventStore, tenant_id: str, key: Keyed) -> list[RecordedEvent] | None:
    """What a request with this key recorded already (None: no key, or a new one), looked
    up before the work a retry should not do again; its reuse for another request refused."""
    idempotency, reused = key
    if idempotency is None:
        return None
    try:
        return await store.replay_of(tenant_id, idempotency)
    except IdempotencyKeyReused as error:
        raise (reused or RequestRefused(error.code, str(error), "idempotency_key")) from None
