"""Reading bulk bodies as they arrive: lines, NDJSON or CSV items, batches, and a byte pipe.

Nothing here holds a whole body: items go on in batches, files through a bounded queue.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
import tempfile
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from contracts.inventory import Rejection
from gateway.errors import GatewayError

MAX_ITEMS, MAX_BYTES = 1000, 512 * 1024
NUMBERS = ("quantity",)
SPOOL_READ = 64 * 1024


async def lines(chunks: AsyncIterable[bytes]) -> AsyncIterator[str]:
    """The body's lines (UTF-8, any line ending), blank ones skipped."""
    rest = b""
    async for chunk in chunks:
        rest += chunk
        *complete, rest = rest.split(b"\n")
        for line in complete:
            if line.strip():
                yield line.decode("utf-8", errors="replace").rstrip("\r")
    if rest.strip():
        yield rest.decode("utf-8", errors="replace").rstrip("\r")


async def spooled(chunks: AsyncIterable[bytes], in_memory: int = 1 << 20) -> AsyncIterator[bytes]:
    """The body's chunks, once it has arrived whole (in memory up to `in_memory`, then in a
    temporary file): a body that breaks off or crosses the size limit records nothing."""
    # Blocking writes, but to the page cache, 64 KiB at a time: not worth a thread each.
    with tempfile.SpooledTemporaryFile(max_size=in_memory) as spool:
        async for chunk in chunks:
            spool.write(chunk)
        spool.seek(0)
        while chunk := spool.read(SPOOL_READ):
            yield chunk


Parsed = dict[str, Any] | Rejection


async def ndjson_items(source: AsyncIterable[str]) -> AsyncIterator[Parsed]:
    """One item per line; a line that is not a JSON object is refused by its index."""
    index = 0
    async for line in source:
        try:
            item = json.loads(line)
        except (ValueError, RecursionError):  # not JSON, or nested past the parser's depth
            item = None
        ok = isinstance(item, dict)
        yield item if ok else Rejection(index=index, field="line", reason="not a JSON object")
        index += 1


async def csv_items(source: AsyncIterable[str]) -> AsyncIterator[Parsed]:
    """A header row, then one item per row; empty cells are left out, numbers parsed."""
    header: list[str] | None = None
    index = 0
    async for line in source:
        row = _row(line)
        if header is None:
            if row is None:
                raise GatewayError("BAD_USER_INPUT", "the CSV header row is not CSV", "header")
            header = [name.strip() for name in row]
            continue
        if row is None:
            yield Rejection(index=index, field="line", reason="not a CSV row")
        elif len(row) != len(header):
            reason = f"{len(row)} cells for {len(header)} columns"
            yield Rejection(index=index, field="line", reason=reason)
        else:
            yield {k: _cell(k, v) for k, v in zip(header, row, strict=True) if v != ""}
        index += 1


def _row(line: str) -> list[str] | None:
    """The cells of one CSV line; None when it is not CSV (e.g. a stray carriage return)."""
    try:
        return next(csv.reader([line]), [])
    except csv.Error:
        return None


def _cell(name: str, value: str) -> Any:
    if name in NUMBERS:
        try:
            return float(value)
        except ValueError:
            return value  # the service refuses it, by field
    return value


@dataclass
class Batch:
    """Items to send together, with their indexes in the body."""

    items: list[dict[str, Any]] = field(default_factory=list)
    indexes: list[int] = field(default_factory=list)
    size: int = 0

    def full(self) -> bool:
        return len(self.items) >= MAX_ITEMS or self.size >= MAX_BYTES


async def batches(parsed: AsyncIterable[Parsed], refused: list[Rejection]) -> AsyncIterator[Batch]:
    """Parsed items in batches; items refused while parsing go to `refused`."""
    batch, index = Batch(), 0
    async for item in parsed:
        if isinstance(item, Rejection):
            refused.append(item)
        else:
            batch.items.append(item)
            batch.indexes.append(index)
            batch.size += len(json.dumps(item, default=str))
        index += 1
        if batch.full():
            yield batch
            batch = Batch()
    if batch.items:
        yield batch


class Pipe(io.BufferedIOBase):
    """A readable file fed from async chunks: the object store's reader (in a thread) pulls
    what the request's stream (in the event loop) pushes, through a small bounded queue."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self.loop, self.queue = loop, asyncio.Queue[bytes](maxsize=4)
        self.digest, self.size, self._left, self._ended = hashlib.sha256(), 0, b"", False
        self.failed: Exception | None = None

    async def feed(self, chunks: AsyncIterable[bytes]) -> None:
        """Push the chunks, then the end; a broken stream fails the reader, never truncates."""
        try:
            async for chunk in chunks:
                if chunk:
                    self.digest.update(chunk)
                    self.size += len(chunk)
                    await self.queue.put(chunk)
        except Exception as error:
            self.failed = error
            raise
        finally:
            await self.queue.put(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if not self._left and not self._ended:
            self._left = asyncio.run_coroutine_threadsafe(self.queue.get(), self.loop).result()
            self._ended = not self._left
        if self._ended and self.failed:
            if isinstance(self.failed, GatewayError):  # e.g. over the size limit: say so
                raise self.failed
            raise OSError("the upload broke off before its end")
        n = min(len(view), len(self._left))
        view[:n] = self._left[:n]
        self._left = self._left[n:]
        return n
