"""Reading a request log's columns for the core: types, checks, dictionary encoding.

Every problem is an `InputError` naming the column and the reason. Pure: arrays in, arrays out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from services.compute.grid import region_country
from services.compute.methods import FloatArray, IntArray, Method
from services.compute.methods.device import DEVICES, terminals_of

_ALPHA3 = re.compile("[A-Z]{3}")


class InputError(ValueError):
    """A request log the core cannot compute; the message names the column and the reason."""


@dataclass(frozen=True)
class Groups:
    """Rows (full path) or distinct keys (eco path), with their activity summed."""

    client: IntArray
    server: IntArray
    device: IntArray
    bytes: FloatArray  # per request (after the one-byte floor) times count
    exec_ms: FloatArray | None  # per request times count; None unless measured-device


@dataclass(frozen=True)
class RequestLog:
    rows: Groups
    client_names: tuple[str, ...]
    server_names: tuple[str, ...]
    server_column: str
    devices: tuple[str, ...]
    requests: float
    rows_without_exec_ms: int


def min_bytes_per_request(method: Method) -> float:
    """co2.js counts a request under one byte as zero, except SWD v3 per visit."""
    return 0.0 if method.model == "swd-v3" and method.visit is not None else 1.0


# --- reading and checking columns -------------------------------------------------------


class Columns:
    def __init__(self, data: Mapping[str, Any] | Any) -> None:
        if isinstance(data, pa.Table | pa.RecordBatch):
            self._data: Mapping[str, Any] = {n: data.column(n) for n in data.column_names}
        elif isinstance(data, Mapping):
            self._data = data
        else:
            raise InputError(f"request log: expected a pyarrow Table, RecordBatch or mapping of "
                             f"columns, got {type(data).__name__}")  # fmt: skip
        self.size = len(self.required("bytes"))

    def get(self, name: str) -> Any | None:
        values = self._data.get(name)
        if values is not None and len(values) != self.size:
            raise InputError(f"{name}: {len(values)} values but bytes has {self.size}")
        return values

    def required(self, name: str, why: str = "") -> Any:
        values = self._data.get(name) if name == "bytes" else self.get(name)
        if values is None:
            raise InputError(f"{name}: missing column{why}")
        return values


def read_log(columns: Columns, method: Method) -> RequestLog:
    count = _optional_numeric(columns, "count")
    client, client_names = _countries(columns.required("client_country"), "client_country")
    server, server_names, server_column = _servers(columns)
    device, devices = _devices(columns, method)
    exec_ms, without = _exec_ms(columns, method, count)
    rows = Groups(client, server, device, _bytes(columns, method, count), exec_ms)
    requests = float(columns.size if count is None else np.sum(count))
    return RequestLog(rows, client_names, server_names, server_column, devices, requests, without)


def _numeric(values: Any, name: str) -> FloatArray:
    try:
        if isinstance(values, pa.Array | pa.ChunkedArray):
            values = values.to_numpy(zero_copy_only=False)
        array: FloatArray = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError, pa.ArrowException) as exc:
        raise InputError(f"{name}: not numeric ({exc})") from exc
    return array


def _check(values: FloatArray, name: str, *, missing_allowed: bool = False) -> None:
    bad = np.isinf(values) if missing_allowed else ~np.isfinite(values)
    bad |= values < 0
    if bad.any():
        row = int(np.argmax(bad))
        value = float(values[row])
        reason = "NaN or null" if np.isnan(value) else "infinite" if np.isinf(value) else "negative"
        raise InputError(f"{name}: {reason} value {value} at row {row}")


def _optional_numeric(columns: Columns, name: str) -> FloatArray | None:
    values = columns.get(name)
    if values is None:
        return None
    array = _numeric(values, name)
    _check(array, name)
    return array


def _bytes(columns: Columns, method: Method, count: FloatArray | None) -> FloatArray:
    values = _numeric(columns.required("bytes"), "bytes")
    _check(values, "bytes")
    floor = min_bytes_per_request(method)
    if floor > 0:
        values = np.where(values < floor, 0.0, values)
    return values if count is None else values * count


def _exec_ms(
    columns: Columns, method: Method, count: FloatArray | None
) -> tuple[FloatArray | None, int]:
    if method.model != "measured-device":
        return None, 0
    values = _numeric(columns.required("exec_ms", " (measured-device needs it)"), "exec_ms")
    _check(values, "exec_ms", missing_allowed=True)
    missing = np.isnan(values)
    without = int(np.count_nonzero(missing))
    if without:
        values = np.where(missing, 0.0, values)
    return (values if count is None else values * count), without


def _categorical(values: Any, name: str) -> tuple[IntArray, list[str]]:
    array = _arrow_text(values, name)
    if array.null_count:
        row = int(np.argmax(array.is_null().to_numpy(zero_copy_only=False)))
        raise InputError(f"{name}: {array.null_count} null values, the first at row {row}")
    encoded = array if pa.types.is_dictionary(array.type) else array.dictionary_encode()
    codes = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.intp)
    names = [str(n) for n in encoded.dictionary.to_pylist()]
    if pa.types.is_dictionary(array.type):  # a given dictionary may hold unused values
        present = np.bincount(codes, minlength=len(names)) > 0
        if not present.all():
            codes = (np.cumsum(present) - 1)[codes]
            names = [n for n, used in zip(names, present, strict=True) if used]
    return codes, names


def _arrow_text(values: Any, name: str) -> Any:
    if isinstance(values, pa.ChunkedArray):
        if pa.types.is_dictionary(values.type):
            values = values.unify_dictionaries()
        values = values.combine_chunks()
    if not isinstance(values, pa.Array):
        try:
            values = pa.array(values, type=pa.string())
        except (pa.ArrowException, TypeError, ValueError) as exc:
            raise InputError(f"{name}: expected text values ({exc})") from exc
    text = values.type.value_type if pa.types.is_dictionary(values.type) else values.type
    if not (pa.types.is_string(text) or pa.types.is_large_string(text) or pa.types.is_null(text)):
        raise InputError(f"{name}: expected text values, got {values.type}")
    return values


def _relabel(codes: IntArray, labels: list[str]) -> tuple[IntArray, tuple[str, ...]]:
    """Codes and names after renaming dictionary values, merging those renamed alike."""
    if len(set(labels)) == len(labels):
        return codes, tuple(labels)
    names = sorted(set(labels))
    position = {label: i for i, label in enumerate(names)}
    remap = np.array([position[label] for label in labels], dtype=np.intp)
    return remap[codes], tuple(names)


def _countries(values: Any, column: str) -> tuple[IntArray, tuple[str, ...]]:
    codes, names = _categorical(values, column)
    labels = [n.strip().upper() for n in names]
    for name, label in zip(names, labels, strict=True):
        if not _ALPHA3.fullmatch(label):
            raise InputError(f"{column}: {name!r} is not an ISO 3166 alpha-3 country code")
    return _relabel(codes, labels)


def _servers(columns: Columns) -> tuple[IntArray, tuple[str, ...], str]:
    country, region = columns.get("server_country"), columns.get("cloud_region")
    if (country is None) == (region is None):
        raise InputError("server_country, cloud_region: give exactly one of these two columns")
    if country is not None:
        return *_countries(country, "server_country"), "server_country"
    codes, names = _categorical(region, "cloud_region")
    return *_relabel(codes, [region_country(n) for n in names]), "cloud_region"


def _devices(columns: Columns, method: Method) -> tuple[IntArray, tuple[str, ...]]:
    measured = method.model == "measured-device"
    if measured:
        values = columns.required("device", " (measured-device needs it)")
    else:
        values = columns.get("device")
    if values is None:
        return np.zeros(columns.size, dtype=np.intp), ("unspecified",)
    codes, names = _categorical(values, "device")
    allowed = tuple(terminals_of(method)) if measured else DEVICES
    labels = [n.strip().lower() for n in names]
    for name, label in zip(names, labels, strict=True):
        if label not in allowed:
            raise InputError(f"device: unknown device {name!r}; expected one of {allowed}")
    return _relabel(codes, labels)


# --- eco grouping and summing up ----------------------------------------------------------
