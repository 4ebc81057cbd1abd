"""Reading a request log's columns for the core: types, checks, dictionary codes.

Every problem is an `InputError` naming the column and the reason. Pure: arrays in, arrays out.
Reading copies nothing it need not: numbers stay zero-copy views of Arrow buffers when they
are valid as given (checked here, or by the eco path a chunk at a time as it sums them), and
text columns stay as their dictionary codes (`services.compute.categorical`: checked and named
only for the values the rows use, once the path knows which those are).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from services.compute.categorical import (
    Categorical,
    InputError,
    alpha3_in,
    single_chunk,
    text_column,
)
from services.compute.grid import region_country
from services.compute.methods import Codes, FloatArray, Method
from services.compute.methods.device import DEVICES, terminals_of


@dataclass(frozen=True)
class Groups:
    """Rows (full path) or distinct keys (eco path), with their activity summed."""

    client: Codes
    server: Codes
    device: Codes
    bytes: FloatArray  # per request (after the one-byte floor) times count
    exec_ms: FloatArray | None  # per request times count; None unless measured-device
    requests: FloatArray | None = None  # requests; None unless a server allocation needs them
    rows_without_exec_ms: int = 0  # of the rows summed; set by the path that counted them


@dataclass(frozen=True)
class RequestLog:
    bytes: FloatArray
    exec_ms: FloatArray | None
    count: FloatArray | None
    client: Categorical
    server: Categorical
    device: Categorical
    requests: float
    rows_without_exec_ms: int
    numbers: Mapping[str, FloatArray]  # the number columns as read, for `refuse_infinite`
    # None: bytes and exec_ms are checked (floored, times count). A number: they are as given,
    # for the path to check a chunk at a time (`checked_rows`) while the chunk is in cache,
    # bytes under this floor counting as 0; rows_without_exec_ms is then the path's to count.
    unchecked_floor: float | None = None

    @property
    def server_column(self) -> str:
        return self.server.column


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


def read_log(columns: Columns, method: Method, *, by_chunk: bool = False) -> RequestLog:
    """The log, its number columns checked now, or (``by_chunk``, no count column) later."""
    numbers = _numbers(columns, method)
    count = numbers.get("count")
    if count is not None and not _within(count, 0.0):
        _check(count, "count")
    client = text_column(
        columns.required("client_country"), "client_country", alpha3_in("client_country")
    )
    device = _devices(columns, method)
    floor = min_bytes_per_request(method)
    later = floor if by_chunk and count is None else None
    exec_ms, without = numbers.get("exec_ms"), 0
    if later is None:
        exec_ms, without = _exec_ms(exec_ms, count)
    values = numbers["bytes"] if later is not None else _bytes(numbers["bytes"], floor, count)
    requests = float(columns.size if count is None else np.sum(count))
    return RequestLog(
        values, exec_ms, count, client, _servers(columns), device, requests, without, numbers,
        later,
    )  # fmt: skip


def checked_rows(log: RequestLog, name: str, rows: slice) -> tuple[FloatArray, int]:
    """``bytes`` or ``exec_ms`` of ``rows`` as checked, and how many lack exec_ms if counted."""
    values: FloatArray = getattr(log, name)[rows]
    if log.unchecked_floor is None:
        return values, 0
    if name == "bytes":
        return _bytes(values, log.unchecked_floor, None, rows.start or 0), 0
    checked, without = _exec_ms(values, None, rows.start or 0)
    assert checked is not None
    return checked, without


def _numbers(columns: Columns, method: Method) -> dict[str, FloatArray]:
    """The number columns as float64, zero-copy where Arrow's buffers allow."""
    numbers: dict[str, FloatArray] = {}
    count = columns.get("count")
    if count is not None:
        numbers["count"] = _numeric(count, "count")
    numbers["bytes"] = _numeric(columns.required("bytes"), "bytes")
    if method.model == "measured-device":
        exec_ms = columns.required("exec_ms", " (measured-device needs it)")
        numbers["exec_ms"] = _numeric(exec_ms, "exec_ms")
    return numbers


def _numeric(values: Any, name: str) -> FloatArray:
    try:
        values = single_chunk(values)
        if isinstance(values, pa.Array | pa.ChunkedArray):
            values = values.to_numpy(zero_copy_only=False)
        array: FloatArray = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError, pa.ArrowException) as exc:
        raise InputError(f"{name}: not numeric ({exc})") from exc
    return array


def _within(values: FloatArray, floor: float) -> bool:
    """No NaN and nothing under ``floor``: one reduction, no temporary array.

    Infinity is left to the path (`refuse_infinite`): the eco path sees it for free in its
    sums per key, so the common case reads each number column only once here.
    """
    return len(values) == 0 or bool(values.min() >= floor)  # NaN < anything is False


def refuse_infinite(log: RequestLog, *, given_sums_are_finite: bool | None = None) -> None:
    """InputError naming the first infinite value of a number column, if there is one.

    ``given_sums_are_finite``: the path already summed every column (eco); True skips the
    look at the rows, False means some sum was not finite.
    """
    if given_sums_are_finite:
        return
    for name, values in log.numbers.items():
        if given_sums_are_finite is None and (len(values) == 0 or values.max() < np.inf):
            continue
        _check(values, name, missing_allowed=name == "exec_ms")
    if given_sums_are_finite is False:
        raise InputError("bytes: the values are too large to add up")


def _check(values: FloatArray, name: str, *, missing_allowed: bool = False, first: int = 0) -> None:
    bad = np.isinf(values) if missing_allowed else ~np.isfinite(values)
    bad |= values < 0
    if bad.any():
        row = int(np.argmax(bad))
        value = float(values[row])
        reason = "NaN or null" if np.isnan(value) else "infinite" if np.isinf(value) else "negative"
        raise InputError(f"{name}: {reason} value {value} at row {first + row}")


def _bytes(
    values: FloatArray, floor: float, count: FloatArray | None, first: int = 0
) -> FloatArray:
    if not _within(values, floor):
        _check(values, "bytes", first=first)
        if floor > 0:
            values = np.where(values < floor, 0.0, values)
    return values if count is None else values * count


def _exec_ms(
    values: FloatArray | None, count: FloatArray | None, first: int = 0
) -> tuple[FloatArray | None, int]:
    if values is None:
        return None, 0
    without = 0
    if not _within(values, 0.0):
        _check(values, "exec_ms", missing_allowed=True, first=first)
        missing = np.isnan(values)
        without = int(np.count_nonzero(missing))
        if without:
            values = np.where(missing, 0.0, values)
    return (values if count is None else values * count), without


def _servers(columns: Columns) -> Categorical:
    country, region = columns.get("server_country"), columns.get("cloud_region")
    if (country is None) == (region is None):
        raise InputError("server_country, cloud_region: give exactly one of these two columns")
    if country is not None:
        return text_column(country, "server_country", alpha3_in("server_country"))
    return text_column(region, "cloud_region", region_country)


def _devices(columns: Columns, method: Method) -> Categorical:
    measured = method.model == "measured-device"
    if measured:
        values = columns.required("device", " (measured-device needs it)")
    else:
        values = columns.get("device")
    if values is None:
        return Categorical("device", None, ("unspecified",), str)
    allowed = tuple(terminals_of(method)) if measured else DEVICES

    def label(name: str) -> str:
        device = name.strip().lower()
        if device not in allowed:
            raise InputError(f"device: unknown device {name!r}; expected one of {allowed}")
        return device

    return text_column(values, "device", label)
