"""Request-log uploads: a name is claimed before its bytes are stored, so none is ever lost.

Two uploads racing for one new name both found it free and both wrote it: the later bytes
replaced the earlier, whose registration then pointed at a file with another hash. Now the
name is claimed first, atomically, in a KV bucket beside the object store (a create that
fails when the key exists). The winner streams its body; a loser arriving meanwhile is told
to retry (409 CONFLICT); one arriving after the file is stored has its body compared with it
(a retry replays, other bytes get 409 ALREADY_STORED). A failed upload releases its claim and
removes what it wrote; a claim left by a crashed gateway lapses after `CLAIM_LAPSES_S`, and
a claim whose file inventory refused (and removed) frees its name.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import time
from collections.abc import Awaitable, Callable
from uuid import uuid4

from fastapi import Request
from nats.js.errors import BucketNotFoundError, KeyWrongLastSequenceError, ObjectNotFoundError
from nats.js.kv import KeyValue
from nats.js.object_store import ObjectStore

from contracts import inventory as inv
from gateway import bulk
from gateway.context import GatewayContext
from gateway.errors import GatewayError
from kernel.objects import stored_digest

CLAIM_LAPSES_S = 3600.0  # no upload runs this long without the gateway being gone


async def store_request_log(context: GatewayContext, object_name: str, request: Request) -> str:
    """Stream the body to `object_name` under a claim; its SHA-256 (hex)."""
    store, claims = await _object_store(context), await _claims(context)
    key = _claim_key(object_name)
    if not await _claimed(claims, key, lambda: _exists(store, object_name)):
        return await _compare_with_stored(context, store, object_name, request)
    if await _exists(store, object_name):  # stored before names were claimed
        await _mark_stored(claims, key)
        return await _compare_with_stored(context, store, object_name, request)
    try:
        sha256 = await _upload(context, store, object_name, request)
    except BaseException:
        with contextlib.suppress(ObjectNotFoundError):
            await store.delete(object_name)
        await claims.delete(key)
        raise
    await _mark_stored(claims, key)
    return sha256


async def _claimed(claims: KeyValue, key: str, stored: Callable[[], Awaitable[bool]]) -> bool:
    """Whether this request now holds the name; False when a file is stored under it.

    A claim is taken over when it lapsed, or when its file is gone (a file inventory refused
    is removed, and its name is free again)."""
    try:
        await claims.create(key, _claim("uploading"))
        return True
    except KeyWrongLastSequenceError:
        pass
    entry = await claims.get(key)
    held = json.loads(entry.value or b"{}")
    if held.get("state") == "stored" and await stored():
        return False
    if held.get("state") == "uploading" and time.time() - held.get("at", 0) < CLAIM_LAPSES_S:
        raise GatewayError(
            "CONFLICT", "another upload of this name is in progress; retry when it is done", "name"
        )
    try:  # exactly one of the requests that find it free takes it over
        await claims.update(key, _claim("uploading"), last=entry.revision)
        return True
    except KeyWrongLastSequenceError:
        return await _claimed(claims, key, stored)


async def _compare_with_stored(
    context: GatewayContext, store: ObjectStore, object_name: str, request: Request
) -> str:
    """A body that repeats the stored file (a retry) answers its hash; another is refused."""
    existing = stored_digest((await store.get_info(object_name)).digest)
    staging = f"{object_name}.again-{uuid4().hex}"
    try:
        sha256 = await _upload(context, store, staging, request)
    finally:
        with contextlib.suppress(ObjectNotFoundError):
            await store.delete(staging)
    if bytes.fromhex(sha256) != existing:
        name = object_name.split("/", 1)[1]
        raise GatewayError(
            "ALREADY_STORED",
            f"another file is stored as {name!r} already; upload this one under a new name",
            "name",
        )
    return sha256


async def _upload(
    context: GatewayContext, store: ObjectStore, object_name: str, request: Request
) -> str:
    pipe = bulk.Pipe(asyncio.get_running_loop())
    feeding = asyncio.create_task(pipe.feed(request.stream()))
    try:
        await store.put(object_name, pipe)
    finally:
        feeding.cancel()
    await asyncio.gather(feeding, return_exceptions=True)
    return pipe.digest.hexdigest()


async def _exists(store: ObjectStore, object_name: str) -> bool:
    try:
        await store.get_info(object_name)
        return True
    except ObjectNotFoundError:
        return False


async def _mark_stored(claims: KeyValue, key: str) -> None:
    await claims.put(key, _claim("stored"))


def _claim(state: str) -> bytes:
    return json.dumps({"state": state, "at": time.time()}).encode()


def _claim_key(object_name: str) -> str:
    # Names may hold characters KV keys may not: the key is the name's hash.
    return hashlib.sha256(object_name.encode()).hexdigest()


async def _object_store(context: GatewayContext) -> ObjectStore:
    js = context.nc.jetstream()
    bucket = inv.request_log_bucket(context.namespace)
    try:
        return await js.object_store(bucket)
    except BucketNotFoundError:
        return await js.create_object_store(bucket)


async def _claims(context: GatewayContext) -> KeyValue:
    js = context.nc.jetstream()
    bucket = f"{inv.request_log_bucket(context.namespace)}_names"
    try:
        return await js.key_value(bucket)
    except BucketNotFoundError:
        return await js.create_key_value(bucket=bucket)
