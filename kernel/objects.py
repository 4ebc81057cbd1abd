"""Reading an object of the JetStream object store chunk by chunk, in bounded memory.

Shared by every service that reads files others uploaded (inventory checks them, compute
computes them).

nats-py's `ObjectStore.get` reads through a push consumer: chunks arrive as fast as the
server sends them and wait in the subscription's queue while the reader is slower (a disk,
a check), so a large object grew the process by its own size. Here a pull consumer fetches
`CHUNKS_PER_FETCH` chunks at a time, and the next ones only once those are written.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from typing import IO

from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.client import JetStreamContext
from nats.js.errors import DigestMismatchError
from nats.js.object_store import ObjectStore

CHUNKS_PER_FETCH = 16  # the store's chunks are 128 KiB: 2 MiB in memory at most
DIGEST_PREFIX = "SHA-256="


async def read_object(
    js: JetStreamContext, store: ObjectStore, name: str, sink: IO[bytes]
) -> tuple[int, str]:
    """Write object `name` of `store` to `sink`; its size and SHA-256 (hex).

    `ObjectNotFoundError` if there is none, `DigestMismatchError` if its chunks do not hash
    to the digest it was stored with."""
    info = await store.get_info(name)
    digest, size = hashlib.sha256(), 0
    if not info.size:
        return 0, digest.hexdigest()
    subject = f"$O.{info.bucket}.C.{info.nuid}"
    config = ConsumerConfig(
        deliver_policy=DeliverPolicy.ALL, ack_policy=AckPolicy.ALL, inactive_threshold=60.0
    )
    pull = await js.pull_subscribe(subject, stream=f"OBJ_{info.bucket}", config=config)
    try:
        while size < info.size:
            chunks = await pull.fetch(CHUNKS_PER_FETCH, timeout=30)
            data = [m.data for m in chunks]
            await asyncio.to_thread(_write_all, sink, data, digest)
            size += sum(len(d) for d in data)
            await chunks[-1].ack()  # AckPolicy.ALL: every chunk up to this one
    finally:
        await pull.unsubscribe()
    if size != info.size or stored_digest(info.digest) != digest.digest():
        raise DigestMismatchError
    return size, digest.hexdigest()


def _write_all(sink: IO[bytes], data: list[bytes], digest: hashlib._Hash) -> None:
    for chunk in data:
        digest.update(chunk)
        sink.write(chunk)


def stored_digest(text: str | None) -> bytes:
    """The SHA-256 an object's info declares (`SHA-256=<base64url>`), as bytes."""
    encoded = (text or "")[len(DIGEST_PREFIX) :]
    return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
