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
from dataclasses import asdict
from typing import Any, Literal

import numpy as np

from services.compute import grid
from services.compute.columns import (
    Columns,
    Groups,
    InputError,
    RequestLog,
    min_bytes_per_request,
    read_log,
)
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
from services.compute.methods.device import MEASURED_DEVICE
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
    log = read_log(Columns(data), method)
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


def _key_groups(log: RequestLog) -> Groups:
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
    return Groups(client, server, device, per_key(rows.bytes), exec_ms)


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
    log: RequestLog,
    groups: Groups,
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


def result_as_json(result: EmissionResult) -> dict[str, Any]:
    """The result as plain JSON data: grams with ranges, breakdowns, and every constant."""
    return {
        "model": result.constants.get("model"),
        "total_g": asdict(result.total),
        "segments": {
            name: {"operational": asdict(s.operational), "embodied": asdict(s.embodied)}
            for name, s in result.segments.items()
        },
        "by_country": {c: asdict(g) for c, g in result.by_client_country.items()},
        "by_server_country": {c: asdict(g) for c, g in result.by_server_country.items()},
        "by_device": {d: asdict(g) for d, g in result.by_device.items()},
        "rows": result.rows,
        "requests": result.requests,
        "rows_without_exec_ms": result.rows_without_exec_ms,
        "fallback_countries": list(result.fallback_countries),
        "constants": dict(result.constants),
    }
