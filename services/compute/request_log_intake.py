"""Fetching a request-log file from the object store and running it through the core.

The file is copied to a temporary file while its SHA-256 is computed (the event declares
it), then read back in record batches: memory stays bounded whatever the file's size. The
core's arithmetic runs in a worker thread so the event loop keeps serving.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import tempfile
from collections.abc import Callable
from typing import IO, Any

import pyarrow as pa
from nats.js import JetStreamContext

from services.compute.core import EmissionAccumulator, EmissionResult, GridIntensities, Method
from services.compute.request_logs import LogFormat, batches


class _Hashing(io.RawIOBase):
    """A writable file that hashes what goes through it."""

    def __init__(self, target: IO[bytes]) -> None:
        self.target, self.sha256 = target, hashlib.sha256()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self.sha256.update(chunk)
        return self.target.write(chunk)


async def compute_log(
    js: JetStreamContext, bucket: str, object_name: str, declared_sha256: str,
    log_format: LogFormat, method: Method, grid: GridIntensities,
    keep: Callable[[pa.RecordBatch], pa.RecordBatch] | None = None,
) -> EmissionResult | str:  # fmt: skip
    """The log's emissions, or why it cannot be computed (missing file, hash mismatch).

    `keep`, when given, filters each batch first (the rows a schema check rejected go)."""
    with tempfile.TemporaryFile() as spool:
        hashing = _Hashing(spool)
        store = await js.object_store(bucket)
        await store.get(object_name, writeinto=hashing)  # type: ignore[arg-type]
        if hashing.sha256.hexdigest() != declared_sha256.lower():
            return f"file {object_name} does not match its declared SHA-256"
        spool.seek(0)
        return await asyncio.to_thread(_accumulate, spool, log_format, method, grid, keep)


def _accumulate(
    spool: IO[bytes], log_format: LogFormat, method: Method, grid: GridIntensities,
    keep: Callable[[pa.RecordBatch], pa.RecordBatch] | None,
) -> EmissionResult:  # fmt: skip
    accumulator = EmissionAccumulator(method, grid, path="eco")
    for batch in batches(spool, log_format):  # type: ignore[arg-type]
        accumulator.add(batch if keep is None else keep(batch))
    return accumulator.result()
