"""Fetching a request-log file from the object store and running it through the core.

The file is copied to a temporary file a few chunks at a time while its SHA-256 is computed
(the event declares it), then read back in record batches: memory stays bounded whatever
the file's size. The core's arithmetic runs in a worker thread so the event loop keeps
serving.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable
from typing import IO

import pyarrow as pa
from nats.js import JetStreamContext
from nats.js.errors import DigestMismatchError

from kernel.objects import read_object
from services.compute.core import EmissionAccumulator, EmissionResult, GridIntensities, Method
from services.compute.request_logs import LogFormat, batches


async def compute_log(
    js: JetStreamContext, bucket: str, object_name: str, declared_sha256: str,
    log_format: LogFormat, method: Method, grid: GridIntensities,
    keep: Callable[[pa.RecordBatch], pa.RecordBatch] | None = None,
) -> EmissionResult | str:  # fmt: skip
    """The log's emissions, or why it cannot be computed (missing file, hash mismatch).

    `keep`, when given, filters each batch first (the rows a schema check rejected go)."""
    with tempfile.TemporaryFile() as spool:
        store = await js.object_store(bucket)
        try:
            _, sha256 = await read_object(js, store, object_name, spool)
        except DigestMismatchError:
            return f"file {object_name} is damaged in the object store (its chunks do not hash)"
        if sha256 != declared_sha256.lower():
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
