"""The per-request core: grams CO2e of a request log by segment, country and device.

Pure: numpy and pyarrow columns in, a frozen result out; no I/O. Columns:

* ``bytes`` bytes per request; ``count`` (optional, default 1) requests the row stands for,
  so a row emits ``count`` times what one request of ``bytes`` emits. As in co2.js, a request
  under one byte emits nothing (except SWD v3 per visit, where co2.js has no such floor).
* ``client_country`` ISO alpha-3; ``server_country`` ISO alpha-3 or else ``cloud_region``.
* ``device`` smartphone | laptop | desktop (optional; required by measured-device).
* ``exec_ms`` client execution time per request (measured-device only). A missing value
  (null or NaN) gives that row no device segment; the result counts such rows.

Two paths give one result: ``full`` computes every row; ``eco`` computes once per distinct
(client country, server country, device) key after summing bytes and time per key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pyarrow as pa

from services.compute import grid
from services.compute.grid import (
    Countries,
    CountryLookup,
    GridIntensities,
    UnknownCountryError,
    UnknownRegionError,
)
from services.compute.methods import (
    EMBODIED,
    MODEL_DEFAULT,
    OPERATIONAL,
    ZERO,
    Activity,
    Bounded,
    EmissionResult,
    Emissions,
    FloatArray,
    Grams,
    IntArray,
    Method,
    Model,
    SegmentEmission,
    SegmentGrid,
    VisitAssumptions,
    merge_results,
)
from services.compute.methods.device import DEVICES, MEASURED_DEVICE, terminals_of
from services.compute.methods.onebyte import ONEBYTE
from services.compute.methods.swd import SWD_V3, SWD_V4

__all__ = [
    "MODEL_DEFAULT",
    "EmissionAccumulator",
    "EmissionResult",
    "Grams",
    "GridIntensities",
    "InputError",
    "Method",
    "SegmentEmission",
    "SegmentGrid",
    "UnknownCountryError",
    "UnknownRegionError",
    "VisitAssumptions",
    "compute_emissions",
    "merge_results",
]

Path = Literal["full", "eco"]
_MODELS: Mapping[str, Model] = {m.name: m for m in (SWD_V4, SWD_V3, ONEBYTE, MEASURED_DEVICE)}
_ALPHA3 = re.compile("[A-Z]{3}")
_DENSE_KEYS = 1 << 20  # eco path: up to this many possible keys, sum with a dense bincount


class InputError(ValueError):
    """A request log the core cannot compute; the message names the column and the reason."""


@dataclass(frozen=True)
class _Groups:
    """Rows (full path) or distinct keys (eco path), with their activity summed."""

    client: IntArray
    server: IntArray
    device: IntArray
    bytes: FloatArray  # per request (after the one-byte floor) times count
    exec_ms: FloatArray | None  # per request times count; None unless measured-device


@dataclass(frozen=True)
class _Log:
    rows: _Groups
    client_names: tuple[str, ...]
    server_names: tuple[str, ...]
    server_column: str
    devices: tuple[str, ...]
    requests: float
    rows_without_exec_ms: int


def compute_emissions(
    data: Mapping[str, Any] | Any,
    method: Method,
    grid_intensities: GridIntensities,
    *,
    path: Path = "eco",
) -> EmissionResult:
    """Grams CO2e of a request log: a pyarrow Table or RecordBatch, or a mapping of columns."""
    if path not in ("full", "eco"):
        raise ValueError(f"path must be 'full' or 'eco', got {path!r}")
    log = _read(_Columns(data), method)
    groups = log.rows if path == "full" else _key_groups(log)
    model = _MODELS[method.model]
    lookup = CountryLookup(grid_intensities, model.global_grid_intensity)
    clients = Countries("client_country", log.client_names, groups.client)
    servers = Countries(log.server_column, log.server_names, groups.server)
    intensity = grid.segment_intensities(method, lookup, clients, servers)
    exec_ms = groups.exec_ms if groups.exec_ms is not None else np.zeros(len(groups.bytes))
    activity = Activity(groups.bytes, exec_ms, groups.device, log.devices, intensity)
    emissions = model.emissions(method, activity)
    return _summarise(log, groups, emissions, _constants(method, lookup), lookup.fallen_back())


class EmissionAccumulator:
    """Adds up a request log chunk by chunk (pyarrow RecordBatches), in bounded memory.

    ``result()`` equals ``compute_emissions`` on the whole log, to floating-point rounding.
    """

    def __init__(
        self, method: Method, grid_intensities: GridIntensities, *, path: Path = "eco"
    ) -> None:
        self._method, self._grid, self._path = method, grid_intensities, path
        self._result: EmissionResult | None = None

    def add(self, chunk: Mapping[str, Any] | Any) -> None:
        part = compute_emissions(chunk, self._method, self._grid, path=self._path)
        self._result = part if self._result is None else merge_results(self._result, part)

    def result(self) -> EmissionResult:
        if self._result is not None:
            return self._result
        columns = ("bytes", "client_country", "server_country", "device", "exec_ms")
        empty: dict[str, list[object]] = {c: [] for c in columns}
        return compute_emissions(empty, self._method, self._grid, path=self._path)


def min_bytes_per_request(method: Method) -> float:
    """co2.js counts a request under one byte as zero, except SWD v3 per visit."""
    return 0.0 if method.model == "swd-v3" and method.visit is not None else 1.0


# --- reading and checking columns -------------------------------------------------------


class _Columns:
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


def _read(columns: _Columns, method: Method) -> _Log:
    count = _optional_numeric(columns, "count")
    client, client_names = _countries(columns.required("client_country"), "client_country")
    server, server_names, server_column = _servers(columns)
    device, devices = _devices(columns, method)
    exec_ms, without = _exec_ms(columns, method, count)
    rows = _Groups(client, server, device, _bytes(columns, method, count), exec_ms)
    requests = float(columns.size if count is None else np.sum(count))
    return _Log(rows, client_names, server_names, server_column, devices, requests, without)


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


def _optional_numeric(columns: _Columns, name: str) -> FloatArray | None:
    values = columns.get(name)
    if values is None:
        return None
    array = _numeric(values, name)
    _check(array, name)
    return array


def _bytes(columns: _Columns, method: Method, count: FloatArray | None) -> FloatArray:
    values = _numeric(columns.required("bytes"), "bytes")
    _check(values, "bytes")
    floor = min_bytes_per_request(method)
    if floor > 0:
        values = np.where(values < floor, 0.0, values)
    return values if count is None else values * count


def _exec_ms(
    columns: _Columns, method: Method, count: FloatArray | None
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


def _servers(columns: _Columns) -> tuple[IntArray, tuple[str, ...], str]:
    country, region = columns.get("server_country"), columns.get("cloud_region")
    if (country is None) == (region is None):
        raise InputError("server_country, cloud_region: give exactly one of these two columns")
    if country is not None:
        return *_countries(country, "server_country"), "server_country"
    codes, names = _categorical(region, "cloud_region")
    return *_relabel(codes, [grid.region_country(n) for n in names]), "cloud_region"


def _devices(columns: _Columns, method: Method) -> tuple[IntArray, tuple[str, ...]]:
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


def _key_groups(log: _Log) -> _Groups:
    rows = log.rows
    servers, devices = len(log.server_names), len(log.devices)
    key = rows.client.astype(np.intp)  # in place from here: this runs over every row
    key *= servers
    key += rows.server
    key *= devices
    key += rows.device
    space = len(log.client_names) * servers * devices
    dense = space <= max(2 * len(key), _DENSE_KEYS)  # few possible keys: bincount, no sort
    if dense:
        keys: IntArray = np.flatnonzero(np.bincount(key, minlength=space))
        index, size = key, space
    else:
        keys, index = np.unique(key, return_inverse=True)
        size = len(keys)

    def per_key(weights: FloatArray) -> FloatArray:
        summed = np.asarray(np.bincount(index, weights=weights, minlength=size), np.float64)
        return summed[keys] if dense else summed

    client, rest = np.divmod(keys, servers * devices)
    server, device = np.divmod(rest, devices)
    exec_ms = None if rows.exec_ms is None else per_key(rows.exec_ms)
    return _Groups(client, server, device, per_key(rows.bytes), exec_ms)


def _constants(method: Method, lookup: CountryLookup) -> dict[str, Any]:
    model = _MODELS[method.model]
    constants: dict[str, Any] = {"model": method.model, "model_version": model.version}
    constants |= model.constants(method)
    if method.model != "onebyte":
        constants["segment_grid_intensity"] = grid.describe_segments(
            method, model.global_grid_intensity
        )
        constants["grid_intensity"] = dict(sorted(lookup.used.items()))
        constants["grid_intensity_source"] = lookup.grid.source
        allowed = lookup.grid.allow_fallback
        constants["fallback_grid_intensity"] = model.global_grid_intensity if allowed else None
    constants["min_bytes_per_request"] = min_bytes_per_request(method)
    if method.visit is not None:
        constants["visit"] = {"multiplier": method.visit.multiplier} | vars(method.visit)
    return constants


def _summarise(
    log: _Log,
    groups: _Groups,
    emissions: Emissions,
    constants: dict[str, Any],
    fallback_countries: tuple[str, ...],
) -> EmissionResult:
    segments = {
        s: SegmentEmission(emissions[s, OPERATIONAL].grams(), emissions[s, EMBODIED].grams())
        for s in sorted({segment for segment, _ in emissions})
    }
    per_group = Bounded.sum(list(emissions.values()))
    return EmissionResult(
        total=sum((s.total for s in segments.values()), ZERO),
        segments=segments,
        by_client_country=_by(groups.client, log.client_names, per_group),
        by_server_country=_by(groups.server, log.server_names, per_group),
        by_device=_by(groups.device, log.devices, per_group),
        rows=len(log.rows.bytes),
        requests=log.requests,
        rows_without_exec_ms=log.rows_without_exec_ms,
        fallback_countries=fallback_countries,
        constants=constants,
    )


def _by(codes: IntArray, names: tuple[str, ...], total: Bounded) -> dict[str, Grams]:
    def per_name(weights: FloatArray) -> list[float]:
        summed: list[float] = np.bincount(codes, weights, minlength=len(names)).tolist()
        return summed

    value = per_name(total.value)
    low, high = (value, value) if total.is_exact else (per_name(total.min), per_name(total.max))
    return {names[i]: Grams(value[i], low[i], high[i]) for i in np.argsort(names, kind="stable")}
