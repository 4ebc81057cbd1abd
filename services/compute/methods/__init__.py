"""The emission methods of the per-request core and the vocabulary they share."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeVar, get_args

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from services.compute.methods.device import Terminal
    from services.compute.methods.server import ServerAllocation

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
Codes = npt.NDArray[np.integer[Any]]  # dictionary codes of any integer width

ModelName = Literal["swd-v4", "swd-v3", "onebyte", "measured-device"]
MODELS: tuple[str, ...] = get_args(ModelName)
SEGMENTS = ("data_centre", "network", "user_device")
OPERATIONAL, EMBODIED = "operational", "embodied"
# A segment grid intensity given as this string takes the model's global intensity
# (co2.js's behaviour when a segment has no gridIntensity option).
MODEL_DEFAULT = "default"
SegmentIntensity = float | str | None


@dataclass(frozen=True)
class SegmentGrid:
    """Grid intensity of each segment.

    ``None`` follows the request, as Piano did: user device and network from the client
    country, data centre from the server country. A number is gCO2e/kWh; a string is an ISO
    alpha-3 country code, or ``MODEL_DEFAULT`` for the model's global grid intensity.
    """

    user_device: SegmentIntensity = None
    network: SegmentIntensity = None
    data_centre: SegmentIntensity = None

    def choice(self, segment: str) -> SegmentIntensity:
        value: SegmentIntensity = getattr(self, segment)
        return value

    def is_default(self) -> bool:
        return all(self.choice(s) is None for s in SEGMENTS)


@dataclass(frozen=True)
class VisitAssumptions:
    """co2.js perVisit caching: first visits load everything, return visits a share of it."""

    first_visit_share: float
    return_visit_share: float
    data_reload_ratio: float

    @property
    def multiplier(self) -> float:
        return self.first_visit_share + self.return_visit_share * self.data_reload_ratio


# co2.js 0.19 perVisit defaults: SWD v3 0.75 / 0.25 / 0.02; SWD v4 1 / 0 / 0 (= perByte).
SWD_V3_VISIT = VisitAssumptions(0.75, 0.25, 0.02)
SWD_V4_VISIT = VisitAssumptions(1.0, 0.0, 0.0)


@dataclass(frozen=True)
class Method:
    """An emission method and its parameters.

    ``green_hosting_factor`` is the share of data-centre operational energy that is green
    (SWD v4 and measured-device accept any value in [0, 1]; SWD v3 and OneByte only know
    green (1) or not (0)). ``visit`` applies co2.js's perVisit caching to every request.
    ``terminals`` replaces the Boavizta terminal archetypes of measured-device.
    ``server`` replaces the SWD data-centre segment by a share of a measured server footprint
    (SWD v4 and measured-device).
    """

    model: ModelName = "swd-v4"
    green_hosting_factor: float = 0.0
    grid: SegmentGrid = SegmentGrid()
    visit: VisitAssumptions | None = None
    terminals: Mapping[str, Terminal] | None = None
    server: ServerAllocation | None = None

    def __post_init__(self) -> None:
        if self.model not in MODELS:
            raise ValueError(f"method: unknown model {self.model!r}; use one of {MODELS}")
        factor = self.green_hosting_factor
        if not (math.isfinite(factor) and 0 <= factor <= 1):
            raise ValueError(f"method: green_hosting_factor must be in [0, 1], got {factor}")
        if self.model in ("swd-v3", "onebyte") and factor not in (0, 1):
            raise ValueError(f"method: {self.model} knows green hosting as 0 or 1, got {factor}")
        self._check_options()

    def _check_options(self) -> None:
        if self.model == "onebyte" and not self.grid.is_default():
            raise ValueError("method: onebyte uses fixed intensities; segment grid not allowed")
        if self.visit is not None and self.model in ("onebyte", "measured-device"):
            raise ValueError(f"method: {self.model} has no per-visit variant")
        if self.terminals is not None and self.model != "measured-device":
            raise ValueError("method: terminals apply to measured-device only")
        if self.server is not None:
            self._check_server()
        if self.visit is not None:
            shares = (self.visit.first_visit_share, self.visit.return_visit_share)
            if not all(0 <= v <= 1 for v in (*shares, self.visit.data_reload_ratio)):
                raise ValueError(f"method: visit shares and ratio must be in [0, 1]: {self.visit}")
        for segment in SEGMENTS:
            choice = self.grid.choice(segment)
            if isinstance(choice, int | float) and not (math.isfinite(choice) and choice >= 0):
                raise ValueError(f"method: {segment} grid intensity must be >= 0, got {choice}")

    def _check_server(self) -> None:
        if self.model not in ("swd-v4", "measured-device"):
            raise ValueError(f"method: {self.model} has no server allocation (swd-v4 and "
                             "measured-device have)")  # fmt: skip
        if self.green_hosting_factor != 0 or self.visit is not None:
            raise ValueError("method: a server allocation replaces the data-centre segment; "
                             "green_hosting_factor and visit do not apply to it")  # fmt: skip


@dataclass(frozen=True)
class Bounded:
    """Grams per group with their range; ``min`` and ``max`` are ``value`` when exact."""

    value: FloatArray
    min: FloatArray
    max: FloatArray

    @classmethod
    def exact(cls, value: FloatArray) -> Bounded:
        return cls(value, value, value)

    @property
    def is_exact(self) -> bool:
        return self.min is self.value and self.max is self.value

    @classmethod
    def sum(cls, parts: Sequence[Bounded]) -> Bounded:
        """Element-wise sum of grams per group."""
        value = _add([p.value for p in parts])
        if all(p.is_exact for p in parts):
            return cls.exact(value)
        return cls(value, _add([p.min for p in parts]), _add([p.max for p in parts]))

    def grams(self) -> Grams:
        """Grams summed over every group."""
        value = float(np.sum(self.value))
        if self.is_exact:
            return Grams(value, value, value)
        return Grams(value, float(np.sum(self.min)), float(np.sum(self.max)))


def _add(arrays: Sequence[FloatArray]) -> FloatArray:
    total = arrays[0].copy()
    for array in arrays[1:]:
        total += array
    return total


@dataclass(frozen=True)
class Activity:
    """What each group (a row, or a distinct key) did, already multiplied by its request count.

    ``bytes`` follows co2.js's rule that a request under one byte emits nothing;
    ``intensity`` is gCO2e/kWh per group for each segment; ``requests`` is only there when a
    server allocation shares by requests.
    """

    bytes: FloatArray
    exec_ms: FloatArray
    device: Codes
    device_names: tuple[str, ...]
    intensity: Mapping[str, FloatArray]
    requests: FloatArray | None = None


# (segment, operational | embodied) -> grams per group
Emissions = dict[tuple[str, str], Bounded]


@dataclass(frozen=True)
class Model:
    """How a method computes: its emissions, the constants it reports, its global intensity."""

    name: ModelName
    version: str
    global_grid_intensity: float
    emissions: Callable[[Method, Activity], Emissions]
    constants: Callable[[Method], dict[str, object]]


CO2JS = "co2.js 0.19.0"


@dataclass(frozen=True)
class Grams:
    """Grams CO2e with their range (METHODS §7)."""

    value: float
    min: float
    max: float

    def __add__(self, other: Grams) -> Grams:
        return Grams(self.value + other.value, self.min + other.min, self.max + other.max)


ZERO = Grams(0.0, 0.0, 0.0)


@dataclass(frozen=True)
class SegmentEmission:
    """Operational and embodied grams of one segment."""

    operational: Grams
    embodied: Grams

    @property
    def total(self) -> Grams:
        return self.operational + self.embodied

    def __add__(self, other: SegmentEmission) -> SegmentEmission:
        return SegmentEmission(self.operational + other.operational, self.embodied + other.embodied)


@dataclass(frozen=True)
class EmissionResult:
    """Grams CO2e of a request log, broken down, with every constant used (for lineage).

    ``segments``: data_centre, network, user_device (and production for SWD v3).
    ``fallback_countries``: countries without a grid intensity that took the global one.
    ``rows_without_exec_ms``: measured-device rows with no execution time (no device segment).
    """

    total: Grams
    segments: Mapping[str, SegmentEmission]
    by_client_country: Mapping[str, Grams]
    by_server_country: Mapping[str, Grams]
    by_device: Mapping[str, Grams]
    rows: int
    requests: float
    rows_without_exec_ms: int
    fallback_countries: tuple[str, ...]
    constants: Mapping[str, Any]
    bytes: float = 0.0  # bytes counted: after the one-byte floor, times count
    # Each line ("<segment>_<phase>") split by the country whose grid it used (data centre:
    # server country; the others: client country) and by device: the joint figures reporting
    # needs to group a log's lines by country or device exactly, not in proportion.
    lines_by_country: Mapping[str, Mapping[str, Grams]] = field(default_factory=dict)
    lines_by_device: Mapping[str, Mapping[str, Grams]] = field(default_factory=dict)


def merge_results(first: EmissionResult, second: EmissionResult) -> EmissionResult:
    """One result for two parts of a request log computed with the same method and grid."""
    rest = [
        {k: v for k, v in r.constants.items() if k != "grid_intensity"} for r in (first, second)
    ]
    if rest[0] != rest[1]:
        raise ValueError("merge_results: the two results used different methods or grids")
    intensities = dict(first.constants.get("grid_intensity", {}))
    intensities |= second.constants.get("grid_intensity", {})
    constants = dict(first.constants)
    if "grid_intensity" in constants:
        constants["grid_intensity"] = dict(sorted(intensities.items()))
    return EmissionResult(
        total=first.total + second.total,
        segments=_merged(first.segments, second.segments),
        by_client_country=_merged(first.by_client_country, second.by_client_country),
        by_server_country=_merged(first.by_server_country, second.by_server_country),
        by_device=_merged(first.by_device, second.by_device),
        rows=first.rows + second.rows,
        requests=first.requests + second.requests,
        rows_without_exec_ms=first.rows_without_exec_ms + second.rows_without_exec_ms,
        fallback_countries=tuple(sorted({*first.fallback_countries, *second.fallback_countries})),
        constants=constants,
        bytes=first.bytes + second.bytes,
        lines_by_country=_merged_lines(first.lines_by_country, second.lines_by_country),
        lines_by_device=_merged_lines(first.lines_by_device, second.lines_by_device),
    )


def _merged_lines(
    first: Mapping[str, Mapping[str, Grams]], second: Mapping[str, Mapping[str, Grams]]
) -> dict[str, Mapping[str, Grams]]:
    lines = sorted({*first, *second})
    return {line: _merged(first.get(line, {}), second.get(line, {})) for line in lines}


_Summable = TypeVar("_Summable", Grams, SegmentEmission)


def _merged(
    first: Mapping[str, _Summable], second: Mapping[str, _Summable]
) -> dict[str, _Summable]:
    merged = dict(first)
    for key, value in second.items():
        merged[key] = merged[key] + value if key in merged else value
    return dict(sorted(merged.items()))
