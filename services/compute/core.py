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
(client country, server country, device) key after summing bytes and time per key
(`services.compute.grouping`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, replace
from functools import reduce
from typing import Any, Literal

import numpy as np

from services.compute import grid
from services.compute.categorical import InputError
from services.compute.columns import Columns, Groups, min_bytes_per_request, read_log
from services.compute.grid import (
    Countries,
    CountryLookup,
    GridIntensities,
    UnknownCountryError,
    UnknownRegionError,
)
from services.compute.grouping import Names, distinct_keys, every_row, in_blocks
from services.compute.methods import (
    EMBODIED,
    MODEL_DEFAULT,
    OPERATIONAL,
    ZERO,
    Activity,
    Bounded,
    Codes,
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
from services.compute.methods.server import ServerAllocation
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
    "ServerAllocation",
    "UnknownCountryError",
    "UnknownRegionError",
    "VisitAssumptions",
    "compute_emissions",
    "merge_results",
]

Path = Literal["full", "eco"]
_MODELS: Mapping[str, Model] = {m.name: m for m in (SWD_V4, SWD_V3, ONEBYTE, MEASURED_DEVICE)}
# Full path: rows are computed this many at a time, so its temporaries stay a few megabytes.
_BLOCK_ROWS = 1 << 18


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
    log = read_log(Columns(data), method, by_chunk=path == "eco")
    with_requests = method.server is not None and method.server.basis == "requests"
    grouping = every_row if path == "full" else distinct_keys
    groups, names = grouping(log, with_requests)
    lookup = CountryLookup(grid_intensities, _MODELS[method.model].global_grid_intensity)
    blocks = in_blocks(groups, _BLOCK_ROWS) if path == "full" else [groups]
    parts = [_part(method, lookup, names, block) for block in blocks]
    result = reduce(merge_results, parts)
    return replace(
        result,
        rows=len(log.bytes),
        requests=log.requests,
        rows_without_exec_ms=groups.rows_without_exec_ms,
        bytes=float(np.sum(groups.bytes)),
    )


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


def _part(method: Method, lookup: CountryLookup, names: Names, groups: Groups) -> EmissionResult:
    model = _MODELS[method.model]
    clients = Countries("client_country", names.client, groups.client)
    servers = Countries(names.server_column, names.server, groups.server)
    intensity = grid.segment_intensities(method, lookup, clients, servers)
    exec_ms = groups.exec_ms if groups.exec_ms is not None else np.zeros(len(groups.bytes))
    activity = Activity(
        groups.bytes, exec_ms, groups.device, names.device, intensity, groups.requests
    )
    emissions = model.emissions(method, activity)
    return _summarise(names, groups, emissions, _constants(method, lookup), lookup.fallen_back())


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
    if method.server is not None:
        kwh_per_gb = constants.get("kwh_per_gb")
        if isinstance(kwh_per_gb, dict):  # the data-centre energy is no longer used
            constants["kwh_per_gb"] = {k: v for k, v in kwh_per_gb.items() if k != "data_centre"}
        constants["server_allocation"] = method.server.describe()
    if method.visit is not None:
        constants["visit"] = {"multiplier": method.visit.multiplier} | vars(method.visit)
    return constants


def _summarise(
    names: Names,
    groups: Groups,
    emissions: Emissions,
    constants: dict[str, Any],
    fallback_countries: tuple[str, ...],
) -> EmissionResult:
    """One block's result; the caller sets the log's row, request and byte counts."""
    segments = {
        s: SegmentEmission(emissions[s, OPERATIONAL].grams(), emissions[s, EMBODIED].grams())
        for s in sorted({segment for segment, _ in emissions})
    }
    per_group = Bounded.sum(list(emissions.values()))
    return EmissionResult(
        total=sum((s.total for s in segments.values()), ZERO),
        segments=segments,
        by_client_country=_by(groups.client, names.client, per_group),
        by_server_country=_by(groups.server, names.server, per_group),
        by_device=_by(groups.device, names.device, per_group),
        rows=0,
        requests=0.0,
        rows_without_exec_ms=0,
        fallback_countries=fallback_countries,
        constants=constants,
        lines_by_country=_lines_by(emissions, names, groups, country=True),
        lines_by_device=_lines_by(emissions, names, groups, country=False),
    )


def _lines_by(
    emissions: Emissions, names: Names, groups: Groups, *, country: bool
) -> dict[str, dict[str, Grams]]:
    """Each line's grams by the country whose grid it used (METHODS §1: the data centre's is
    the server's, the others' the client's), or by device."""
    # bincount wants intp codes: convert each dimension once, not once per line.
    client = np.asarray(groups.client, dtype=np.intp)
    server = np.asarray(groups.server, dtype=np.intp) if country else client
    device = np.asarray(groups.device, dtype=np.intp)
    found: dict[str, dict[str, Grams]] = {}
    for (segment, phase), grams in sorted(emissions.items()):
        if not country:
            codes, members = device, names.device
        elif segment == "data_centre":
            codes, members = server, names.server
        else:
            codes, members = client, names.client
        found[f"{segment}_{phase}"] = _summed_by(codes, members, grams)
    return found


def _summed_by(codes: IntArray, names: tuple[str, ...], grams: Bounded) -> dict[str, Grams]:
    def per_name(weights: FloatArray) -> list[float]:
        summed: list[float] = np.bincount(codes, weights, minlength=len(names)).tolist()
        return summed

    value = per_name(grams.value)
    low, high = (value, value) if grams.is_exact else (per_name(grams.min), per_name(grams.max))
    return {names[i]: Grams(value[i], low[i], high[i]) for i in np.argsort(names, kind="stable")}


def _by(codes: Codes, names: tuple[str, ...], total: Bounded) -> dict[str, Grams]:
    def per_name(weights: FloatArray) -> list[float]:
        summed = np.zeros(len(names))
        np.add.at(summed, codes, weights)  # any code width; bincount would convert to intp
        listed: list[float] = summed.tolist()
        return listed

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
        "bytes": result.bytes,
        "fallback_countries": list(result.fallback_countries),
        "lines_by_country": _nested_json(result.lines_by_country),
        "lines_by_device": _nested_json(result.lines_by_device),
        "constants": dict(result.constants),
    }


def _nested_json(lines: Mapping[str, Mapping[str, Grams]]) -> dict[str, dict[str, Any]]:
    return {line: {m: asdict(g) for m, g in by.items()} for line, by in lines.items()}
