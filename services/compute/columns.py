"""Reading a request log's columns for the core: types, checks, dictionary codes.

Every problem is an `InputError` naming the column and the reason. Pure: arrays in, arrays out.
Reading copies nothing it need not: numbers stay zero-copy views of Arrow buffers when they
are valid as given, and text columns stay as their dictionary codes (checked and named only
for the values the rows use, once the path knows which those are).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from services.compute.grid import region_country
from services.compute.methods import Codes, FloatArray, IntArray, Method
from services.compute.methods.device import DEVICES, terminals_of

_ALPHA3 = re.compile("[A-Z]{3}")
BoolArray = npt.NDArray[np.bool_]


class InputError(ValueError):
    """A request log the core cannot compute; the message names the column and the reason."""


@dataclass(frozen=True)
class Groups:
    """Rows (full path) or distinct keys (eco path), with their activity summed."""

    client: Codes
    server: Codes
    device: Codes
    bytes: FloatArray  # per request (after the one-byte floor) times count
    exec_ms: FloatArray | None  # per request times count; None unless measured-device
    requests: FloatArray | None = None  # requests; None unless a server allocation needs them


@dataclass(frozen=True)
class Categorical:
    """A text column as dictionary codes and the dictionary's values, as given.

    ``codes`` is None when the column is absent (every row has the one value). A given
    dictionary may hold values no row uses: `labelled` checks and names only the used ones.
    """

    column: str
    codes: Codes | None
    values: tuple[str, ...]
    label: Callable[[str], str]  # a value's checked, normalised name; InputError if invalid

    def used(self) -> BoolArray:
        """Which dictionary values some row uses (one pass over the codes)."""
        used = np.ones(len(self.values), dtype=np.bool_)
        if self.codes is not None:
            used[:] = False
            used[self.codes] = True  # a scatter takes any integer width; bincount converts
        return used

    def labelled(self, used: BoolArray) -> tuple[IntArray, tuple[str, ...]]:
        """Code -> index into the names, and the names: used values, labels merged alike."""
        labels = {int(i): self.label(self.values[i]) for i in np.flatnonzero(used)}
        unique = list(dict.fromkeys(labels.values()))
        names = tuple(unique) if len(unique) == len(labels) else tuple(sorted(unique))
        position = {name: i for i, name in enumerate(names)}
        lut = np.zeros(len(self.values), dtype=np.intp)  # unused values: never looked up
        for code, label in labels.items():
            lut[code] = position[label]
        return lut, names


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


def read_log(columns: Columns, method: Method) -> RequestLog:
    numbers = _numbers(columns, method)
    count = numbers.get("count")
    if count is not None and not _within(count, 0.0):
        _check(count, "count")
    client = _categorical(
        columns.required("client_country"), "client_country", _alpha3_in("client_country")
    )
    device = _devices(columns, method)
    exec_ms, without = _exec_ms(numbers.get("exec_ms"), count)
    requests = float(columns.size if count is None else np.sum(count))
    return RequestLog(
        _bytes(numbers["bytes"], method, count), exec_ms, count, client, _servers(columns),
        device, requests, without, numbers,
    )  # fmt: skip


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


def _single(values: Any) -> Any:
    """A one-chunk ChunkedArray as its chunk: Arrow buffers stay shared, not concatenated."""
    if isinstance(values, pa.ChunkedArray) and values.num_chunks == 1:
        return values.chunk(0)
    return values


def _numeric(values: Any, name: str) -> FloatArray:
    try:
        values = _single(values)
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


def _check(values: FloatArray, name: str, *, missing_allowed: bool = False) -> None:
    bad = np.isinf(values) if missing_allowed else ~np.isfinite(values)
    bad |= values < 0
    if bad.any():
        row = int(np.argmax(bad))
        value = float(values[row])
        reason = "NaN or null" if np.isnan(value) else "infinite" if np.isinf(value) else "negative"
        raise InputError(f"{name}: {reason} value {value} at row {row}")


def _bytes(values: FloatArray, method: Method, count: FloatArray | None) -> FloatArray:
    floor = min_bytes_per_request(method)
    if not _within(values, floor):
        _check(values, "bytes")
        if floor > 0:
            values = np.where(values < floor, 0.0, values)
    return values if count is None else values * count


def _exec_ms(values: FloatArray | None, count: FloatArray | None) -> tuple[FloatArray | None, int]:
    if values is None:
        return None, 0
    without = 0
    if not _within(values, 0.0):
        _check(values, "exec_ms", missing_allowed=True)
        missing = np.isnan(values)
        without = int(np.count_nonzero(missing))
        if without:
            values = np.where(missing, 0.0, values)
    return (values if count is None else values * count), without


def _categorical(values: Any, name: str, label: Callable[[str], str]) -> Categorical:
    array = _arrow_text(values, name)
    if array.null_count:
        row = int(np.argmax(array.is_null().to_numpy(zero_copy_only=False)))
        raise InputError(f"{name}: {array.null_count} null values, the first at row {row}")
    encoded = array if pa.types.is_dictionary(array.type) else array.dictionary_encode()
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    names = tuple(str(n) for n in encoded.dictionary.to_pylist())
    return Categorical(name, codes, names, label)


def _arrow_text(values: Any, name: str) -> Any:
    values = _single(values)
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


def _alpha3_in(column: str) -> Callable[[str], str]:
    def label(name: str) -> str:
        code = name.strip().upper()
        if not _ALPHA3.fullmatch(code):
            raise InputError(f"{column}: {name!r} is not an ISO 3166 alpha-3 country code")
        return code

    return label


def _servers(columns: Columns) -> Categorical:
    country, region = columns.get("server_country"), columns.get("cloud_region")
    if (country is None) == (region is None):
        raise InputError("server_country, cloud_region: give exactly one of these two columns")
    if country is not None:
        return _categorical(country, "server_country", _alpha3_in("server_country"))
    return _categorical(region, "cloud_region", region_country)


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

    return _categorical(values, "device", label)
