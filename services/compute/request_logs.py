"""Request-log files (Parquet, CSV, NDJSON) read as pyarrow record batches, in bounded memory.

An adapter, not domain: it reads bytes from a file or stream and hands batches to the core.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Literal

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.json as pjson
import pyarrow.parquet as pq

LogFormat = Literal["parquet", "csv", "ndjson"]
BATCH_ROWS = 1_000_000
_BLOCK_BYTES = 8 << 20
# Country codes and devices are text even when a CSV column looks otherwise.
_TEXT = {
    "client_country": pa.string(),
    "server_country": pa.string(),
    "cloud_region": pa.string(),
    "device": pa.string(),
}


def format_of(path: Path) -> LogFormat:
    """The format a file's extension says; ValueError naming the file otherwise."""
    suffix = path.suffix.lower()
    formats: dict[str, LogFormat] = {
        ".parquet": "parquet",
        ".csv": "csv",
        ".ndjson": "ndjson",
        ".jsonl": "ndjson",
    }
    if suffix not in formats:
        raise ValueError(f"{path}: unknown request-log format {suffix!r} (parquet, csv, ndjson)")
    return formats[suffix]


def batches(source: Path | BinaryIO, log_format: LogFormat) -> Iterator[pa.RecordBatch]:
    """The file's rows, `BATCH_ROWS` at most per batch, never the whole file in memory."""
    if log_format == "parquet":
        yield from _parquet_batches(source)
    elif log_format == "csv":
        options = pcsv.ConvertOptions(column_types=_TEXT)
        reader = pcsv.open_csv(
            source, read_options=pcsv.ReadOptions(block_size=_BLOCK_BYTES), convert_options=options
        )
        yield from reader
    else:
        reader = pjson.open_json(source, read_options=pjson.ReadOptions(block_size=_BLOCK_BYTES))
        yield from reader


def _parquet_batches(source: Path | BinaryIO) -> Iterator[pa.RecordBatch]:
    # Text columns come as Parquet's dictionary codes: the core works on codes, and decoding
    # then re-encoding every string would cost more than the whole eco path.
    names = set(pq.read_schema(source).names)
    if not isinstance(source, Path):
        source.seek(0)
    text = sorted(names & _TEXT.keys())
    # pre_buffer off: on, the reader keeps what it has read, and memory grows with the file.
    parquet = pq.ParquetFile(source, read_dictionary=text, pre_buffer=False)
    yield from parquet.iter_batches(batch_size=BATCH_ROWS)
