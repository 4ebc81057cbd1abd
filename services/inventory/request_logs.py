"""Request-log files in the JetStream object store: upload, then check before registering.

Object names are `<tenant>/<name>`: a tenant can only register files put under its own prefix.
Checking copies the object to a temporary file through SHA-256, then reads it back in record
batches through the row rules: memory stays bounded whatever the file's size.
"""

from __future__ import annotations

import asyncio
import hashlib
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.json as pjson
import pyarrow.parquet as pq
from nats.js.client import JetStreamContext
from nats.js.errors import BucketNotFoundError, DigestMismatchError, ObjectNotFoundError
from nats.js.object_store import ObjectStore

from contracts.inventory import LogCheck, LogFormat, RegisterRequestLog, request_log_bucket
from kernel.errors import RequestRefused
from kernel.objects import read_object
from services.inventory.log_check import check_log, refuse_bad_rows

# Read as compute reads (services/compute/request_logs.py): the same block size, so the same
# type inference, so a file compute could not parse is refused here rather than registered.
PARQUET_BATCH_ROWS = 65_536
BLOCK_BYTES = 8 << 20
READ_BUFFER = 1 << 20
TEXT_COLUMNS = ("client_country", "server_country", "cloud_region", "device")
REFUSED_CONTENT = ("invalid_rows", "invalid_columns", "invalid_format")


@dataclass(frozen=True)
class StoredObject:
    """What reading an object back told us: its size, content hash and schema check."""

    size: int
    sha256: str
    check: LogCheck


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
    js: JetStreamContext,
    namespace: str,
    tenant_id: str,
    declared: RegisterRequestLog,
    *,
    remove_refused: bool,
) -> StoredObject:
    """The object checked, if it is the tenant's and has the declared hash.

    With `remove_refused` (never for an object registered already), an object refused for
    its content (rows, columns, format) is deleted from the store.
    """
    name = declared.object_name
    if not name.startswith(object_name(tenant_id, "")):
        raise RequestRefused(
            "invalid_object_name",
            f"request-log objects of this organisation are named {tenant_id}/<name>",
            "object_name",
        )
    with tempfile.TemporaryFile() as spool:
        size, found = await _fetch(js, namespace, name, spool)
        if found != declared.sha256.lower():
            raise RequestRefused(
                "sha256_mismatch",
                f"the object's SHA-256 is {found}, not the declared one",
                "sha256",
            )
        spool.seek(0)
        try:
            check = await asyncio.to_thread(_check, spool, declared)
        except RequestRefused as refused:
            if remove_refused and refused.code in REFUSED_CONTENT:
                await _remove(js, namespace, name)
            raise
    return StoredObject(size, found, check)


async def _fetch(
    js: JetStreamContext, namespace: str, name: str, sink: IO[bytes]
) -> tuple[int, str]:
    """The object copied to `sink`: its size and SHA-256."""
    try:
        store = await _bucket(js, namespace, create=False)
        return await read_object(js, store, name, sink)
    except (ObjectNotFoundError, BucketNotFoundError):
        raise _missing(name, namespace) from None
    except DigestMismatchError:
        raise RequestRefused(
            "corrupt_object", f"object {name!r} does not match its stored digest", "object_name"
        ) from None


async def _remove(js: JetStreamContext, namespace: str, name: str) -> None:
    """Nothing of a refused file stays: its object goes too."""
    store = await _bucket(js, namespace, create=False)
    await store.delete(name)


def _check(spool: IO[bytes], declared: RegisterRequestLog) -> LogCheck:
    period = (declared.period_start, declared.period_end)
    check = check_log(_batches(spool, declared.format), period, declared.bad_rows)
    refuse_bad_rows(check)
    return check


def _batches(source: IO[bytes], log_format: LogFormat) -> Iterator[pa.RecordBatch]:
    """The file's record batches; `RequestRefused` naming the format when it cannot be read."""
    try:
        if log_format == "parquet":
            # pre_buffer (the default) keeps every range read until the file is closed:
            # memory would grow with the file. A 1 MiB buffered stream reads as it goes.
            parquet = pq.ParquetFile(source, pre_buffer=False, buffer_size=READ_BUFFER)
            yield from parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS)
        elif log_format == "csv":
            types = dict.fromkeys(TEXT_COLUMNS, pa.string())
            yield from pcsv.open_csv(
                source,
                read_options=pcsv.ReadOptions(block_size=BLOCK_BYTES),
                convert_options=pcsv.ConvertOptions(column_types=types),
            )
        else:
            options = pjson.ReadOptions(block_size=BLOCK_BYTES)
            yield from pjson.open_json(source, read_options=options)
    except (pa.ArrowException, OSError) as error:
        reason = str(error).splitlines()[0]
        raise RequestRefused(
            "invalid_format", f"the file cannot be read as {log_format}: {reason}", "format"
        ) from None


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
