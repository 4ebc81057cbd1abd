"""Cloud instances by the Boavizta method (METHODS §3), from a Boavizta cloud release.

Pure: the release is a plain mapping (the JSON written by `empreinte factors
import-boavizta`), so the compute service can feed it from the factors it received. Every
value carries (value, min, max) (METHODS §7).
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Boavizta floors a CPU's modelled power at 1 W, where a fitted curve dips below it at low load.
CPU_MIN_POWER_W = 1.0
METHOD = "boavizta-cloud"


class CloudError(ValueError):
    """A usage the release cannot compute: unknown provider, instance or country, bad input."""


@dataclass(frozen=True)
class Bounds:
    """A value with its range; ``min`` and ``max`` are ``value`` when exact."""

    value: float
    min: float
    max: float

    @classmethod
    def of(cls, triple: Any) -> Bounds:
        if isinstance(triple, Mapping):
            return cls(float(triple["value"]), float(triple["min"]), float(triple["max"]))
        value, low, high = (float(x) for x in triple)
        return cls(value, low, high)

    def scaled(self, factor: float) -> Bounds:
        return Bounds(self.value * factor, self.min * factor, self.max * factor)

    def times(self, other: Bounds) -> Bounds:
        """Product of independent positive quantities: bounds multiply (METHODS §7)."""
        return Bounds(self.value * other.value, self.min * other.min, self.max * other.max)


@dataclass(frozen=True)
class CloudUsage:
    """Hours of one instance type at an average CPU load, in a country or on a given grid.

    ``grid_factor`` (kgCO2e/kWh) wins over ``country`` (ISO alpha-3, as Boavizta); with
    neither, the release's default location is used, with its wide range.
    """

    provider: str
    instance_type: str
    hours: float
    load_percent: float
    country: str | None = None
    grid_factor: float | None = None


@dataclass(frozen=True)
class CloudFootprint:
    """Instance power (W), use-phase and embedded emissions (kgCO2e), and the constants used."""

    power_w: Bounds
    use_kg: Bounds
    embedded_kg: Bounds
    constants: Mapping[str, Any]


def cloud_footprint(usage: CloudUsage, release: Mapping[str, Any]) -> CloudFootprint:
    """The footprint of ``usage`` by Boavizta's cloud method, with lineage in ``constants``."""
    _check_usage(usage)
    instance = find_instance(release, usage.provider, usage.instance_type)
    host = release["hosts"][instance["host"]]
    power = instance_power(host, instance, usage.load_percent)
    grid, grid_origin = grid_factor(release["electricity"], usage)
    use = grid.times(power).scaled(usage.hours / 1000.0)
    embedded = Bounds.of(instance["embedded"]).scaled(usage.hours)
    constants = {
        "method": METHOD,
        "release": release["release"],
        "source": {k: release["source"][k] for k in ("name", "version", "retrieved_at")},
        "instance": {"provider": usage.provider, "type": usage.instance_type, **instance},
        "host": host,
        "grid_factor": {"kgco2e_per_kwh": _triple(grid), "origin": grid_origin},
        "cpu_min_power_w": CPU_MIN_POWER_W,
    }
    return CloudFootprint(power, use, embedded, constants)


def instance_power(host: Mapping[str, Any], instance: Mapping[str, Any], load: float) -> Bounds:
    """P_instance = (P_cpu·share_cpu + P_ram·share_ram)·(1 + other ratio) + local disks."""
    compute = cpu_power(host, instance, load) + ram_power(host, instance, load)
    ratio = Bounds.of(host["other_ratio"])
    disk = Bounds.of(instance.get("disk_w", (0.0, 0.0, 0.0)))
    return Bounds(
        compute * (1 + ratio.value) + disk.value,
        compute * (1 + ratio.min) + disk.min,
        compute * (1 + ratio.max) + disk.max,
    )


def cpu_power(host: Mapping[str, Any], instance: Mapping[str, Any], load: float) -> float:
    """The instance's share of the host CPUs' power: a·ln(b·(load + c)) + d per CPU."""
    cpu = host["cpu"]
    per_cpu = cpu["a"] * math.log(cpu["b"] * (load + cpu["c"])) + cpu["d"]
    share = instance["vcpu"] / (cpu["threads"] * cpu["units"])
    return float(max(per_cpu, CPU_MIN_POWER_W) * cpu["units"] * share)


def ram_power(host: Mapping[str, Any], instance: Mapping[str, Any], load: float) -> float:
    """The instance's share of the host DIMMs' power: (3 + 0.055·GB)·(0.7 + 0.3·load) each."""
    ram = host["ram"]
    idle = ram["idle_ratio"]
    per_dimm = ram["dimm_w"] * (idle + (1 - idle) * load / 100.0)
    dimms = ram["host_gb"] / ram["dimm_gb"]
    share = instance["memory_gb"] / ram["host_gb"]
    return float(per_dimm * dimms * share)


def grid_factor(electricity: Mapping[str, Any], usage: CloudUsage) -> tuple[Bounds, str]:
    """kgCO2e/kWh (value, min, max) and where it came from."""
    if usage.grid_factor is not None:
        return Bounds(usage.grid_factor, usage.grid_factor, usage.grid_factor), "given"
    if usage.country is None:
        location = electricity["default_location"]
        return Bounds.of(electricity["default"]), f"default location {location}"
    countries: Mapping[str, float] = electricity["countries"]
    if usage.country not in countries:
        raise CloudError(f"cloud: no grid factor for country {usage.country!r} in the release")
    value = float(countries[usage.country])
    low, high = electricity.get("ranges", {}).get(usage.country, (value, value))
    return Bounds(value, float(low), float(high)), f"country {usage.country}"


def find_instance(
    release: Mapping[str, Any], provider: str, instance_type: str
) -> Mapping[str, Any]:
    """The release's figures for one instance, or a CloudError naming what is unknown."""
    providers: Mapping[str, Mapping[str, Any]] = release["instances"]
    if provider not in providers:
        raise CloudError(f"cloud: unknown provider {provider!r}; known: {sorted(providers)}")
    instances = providers[provider]
    if instance_type not in instances:
        lowered = {name.lower(): name for name in instances}
        close = [lowered[n] for n in difflib.get_close_matches(instance_type.lower(), lowered, n=3)]
        hint = f"; did you mean {close}?" if close else ""
        raise CloudError(f"cloud: unknown instance type {instance_type!r} at {provider}{hint}")
    found: Mapping[str, Any] = instances[instance_type]
    return found


def _check_usage(usage: CloudUsage) -> None:
    load = usage.load_percent
    if not (math.isfinite(load) and 0.0 <= load <= 100.0):
        raise CloudError(f"cloud: load must be a percentage in [0, 100], got {load}")
    if not (math.isfinite(usage.hours) and usage.hours >= 0.0):
        raise CloudError(f"cloud: hours must be >= 0, got {usage.hours}")
    factor = usage.grid_factor
    if factor is not None and not (math.isfinite(factor) and factor >= 0.0):
        raise CloudError(f"cloud: grid factor must be >= 0 kgCO2e/kWh, got {factor}")


def _triple(bounds: Bounds) -> list[float]:
    return [bounds.value, bounds.min, bounds.max]
