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

from contracts.server_footprint import ServerFootprint
from kernel.objects import read_object
from services.compute.core import EmissionAccumulator, EmissionResult, GridIntensities, Method
from services.compute.request_logs import LogFormat, batches
from services.compute.server_share import with_server

Keep = Callable[[pa.RecordBatch], pa.RecordBatch]


async def compute_log(
    js: JetStreamContext, bucket: str, object_name: str, declared_sha256: str,
    log_format: LogFormat, method: Method, grid: GridIntensities,
    keep: Keep | None = None, server: ServerFootprint | None = None,
) -> EmissionResult | str:  # fmt: skip
    """The log's emissions, or why it cannot be computed (missing file, hash mismatch, a
    server footprint that cannot be shared).

    `keep`, when given, filters each batch first (the rows a schema check rejected go).
    `server`: the servers' footprint replaces the data-centre segment; without its period
    total, the file is read twice (its requests or bytes counted first)."""
    with tempfile.TemporaryFile() as spool:
        store = await js.object_store(bucket)
        try:
            _, sha256 = await read_object(js, store, object_name, spool)
        except DigestMismatchError:
            return f"file {object_name} is damaged in the object store (its chunks do not hash)"
        if sha256 != declared_sha256.lower():
            return f"file {object_name} does not match its declared SHA-256"
        return await asyncio.to_thread(_computed, spool, log_format, method, grid, keep, server)


def _computed(
    spool: IO[bytes], log_format: LogFormat, method: Method, grid: GridIntensities,
    keep: Keep | None, server: ServerFootprint | None,
) -> EmissionResult | str:  # fmt: skip
    def count(plain: Method) -> EmissionResult:
        return _accumulate(spool, log_format, plain, grid, keep)

    try:
        method = with_server(method, server, count, "registered with the request log")
    except ValueError as error:  # the core's InputError is one too, and propagates as before
        if server is None or type(error) is not ValueError:
            raise
        return f"the server footprint cannot be shared among this log's requests: {error}"
    return _accumulate(spool, log_format, method, grid, keep)


def _accumulate(
    spool: IO[bytes], log_format: LogFormat, method: Method, grid: GridIntensities,
    keep: Keep | None,
) -> EmissionResult:  # fmt: skip
    spool.seek(0)
    accumulator = EmissionAccumulator(method, grid, path="eco")
    for batch in batches(spool, log_format):  # type: ignore[arg-type]
        accumulator.add(batch if keep is None else keep(batch))
    return accumulator.result()
