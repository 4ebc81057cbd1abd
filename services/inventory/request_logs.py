"""Request-log files in the JetStream object store: upload, and hash-check before registering.

Object names are `<tenant>/<name>`: a tenant can only register files put under its own prefix.
Checking streams the object through SHA-256 chunk by chunk, so memory stays bounded.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from nats.js.client import JetStreamContext
from nats.js.errors import BucketNotFoundError, DigestMismatchError, ObjectNotFoundError
from nats.js.object_store import ObjectStore

from contracts.inventory import LogFormat, RegisterRequestLog, request_log_bucket
from kernel.errors import RequestRefused

FOOTER_LIMIT = 1 << 20  # Parquet footers larger than this go without a row count
PARQUET_MAGIC = b"PAR1"


@dataclass(frozen=True)
class StoredObject:
    """What reading an object back told us: its size, content hash and (maybe) row count."""

    size: int
    sha256: str
    row_count: int | None


def object_name(tenant_id: str, name: str) -> str:
    return f"{tenant_id}/{name}"


async def upload_request_log(
    js: JetStreamContext, namespace: str, tenant_id: str, path: Path, name: str | None = None
) -> tuple[str, str]:
    """Put the file at `path` in the bucket, streamed; return (object name, sha256 hex)."""
    digest = await asyncio.to_thread(_file_sha256, path)
    store = await _bucket(js, namespace, create=True)
    full_name = object_name(tenant_id, name or path.name)
    with path.open("rb") as file:
        await store.put(full_name, file)
    return full_name, digest


async def read_back(
    js: JetStreamContext, namespace: str, tenant_id: str, declared: RegisterRequestLog
) -> StoredObject:
    """The object, streamed through SHA-256, if it is the tenant's and has the declared hash."""
    name = declared.object_name
    if not name.startswith(object_name(tenant_id, "")):
        raise RequestRefused(
            "invalid_object_name",
            f"request-log objects of this organisation are named {tenant_id}/<name>",
            "object_name",
        )
    hasher = await _streamed(js, namespace, name, declared.format)
    found = hasher.digest.hexdigest()
    if found != declared.sha256.lower():
        raise RequestRefused(
            "sha256_mismatch", f"the object's SHA-256 is {found}, not the declared one", "sha256"
        )
    return StoredObject(hasher.size, found, hasher.rows())


async def _streamed(
    js: JetStreamContext, namespace: str, name: str, log_format: LogFormat
) -> _Hasher:
    hasher = _Hasher(log_format)
    try:
        store = await _bucket(js, namespace, create=False)
        await store.get(name, writeinto=hasher)
    except (ObjectNotFoundError, BucketNotFoundError):
        raise _missing(name, namespace) from None
    except DigestMismatchError:
        raise RequestRefused(
            "corrupt_object", f"object {name!r} does not match its stored digest", "object_name"
        ) from None
    return hasher


def _file_sha256(path: Path) -> str:
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def _missing(name: str, namespace: str) -> RequestRefused:
    bucket = request_log_bucket(namespace)
    return RequestRefused(
        "not_found", f"there is no object {name!r} in bucket {bucket!r}", "object_name"
    )


async def _bucket(js: JetStreamContext, namespace: str, *, create: bool) -> ObjectStore:
    bucket = request_log_bucket(namespace)
    if not create:
        return await js.object_store(bucket)
    try:
        return await js.object_store(bucket)
    except BucketNotFoundError:
        return await js.create_object_store(bucket)


class _Hasher(io.BufferedIOBase):
    """A write-only sink: hashes what it is given, and keeps what a row count needs.

    NDJSON rows are counted as lines; a Parquet file's row count is in its footer, so the
    last `FOOTER_LIMIT` bytes are kept. CSV rows are not counted: a quoted field may hold
    newlines, so only a full parse would know.
    """

    def __init__(self, log_format: LogFormat) -> None:
        super().__init__()
        self.format = log_format
        self.digest = hashlib.sha256()
        self.size = 0
        self.newlines = 0
        self.tail = bytearray(b"\n")

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.digest.update(data)
        self.size += len(data)
        if self.format == "ndjson":
            self.newlines += data.count(b"\n")
        self.tail += data
        if len(self.tail) > 2 * FOOTER_LIMIT:
            del self.tail[:-FOOTER_LIMIT]
        return len(data)

    def rows(self) -> int | None:
        if self.format == "ndjson":
            return self.newlines + (0 if self.tail.endswith(b"\n") else 1)
        if self.format == "parquet":
            return _parquet_rows(bytes(self.tail[-FOOTER_LIMIT:]))
        return None


def _parquet_rows(tail: bytes) -> int | None:
    """Rows in the Parquet file ending with `tail`; None when its footer is not all there."""
    if len(tail) < 12 or tail[-4:] != PARQUET_MAGIC:
        raise RequestRefused(
            "invalid_format", "the object is not a Parquet file (no PAR1 footer)", "format"
        )
    footer = int.from_bytes(tail[-8:-4], "little")
    if footer + 8 > len(tail):
        return None
    try:
        metadata = pq.read_metadata(pa.BufferReader(PARQUET_MAGIC + tail[-(footer + 8) :]))
    except (pa.ArrowException, OSError):
        raise RequestRefused(
            "invalid_format", "the object's Parquet footer cannot be read", "format"
        ) from None
    return int(metadata.num_rows)
