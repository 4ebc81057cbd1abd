"""Cloud usage activities by the Boavizta method: the activity's attributes name the instance.

Pure. An activity of kind `cloud_instance_usage` gives hours (any time unit) and, in its
attributes, `provider`, `instance_type` and `load_percent`; its region's country picks the
grid factor of the release (Boavizta's own, as its method does). Both lines are scope 3
category 1: cloud services are purchased.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pint import DimensionalityError

from contracts.compute import EmissionLine, FactorRef, Kg, Method
from contracts.units import convert
from services.compute.domain import ActivityState, Outcome, emission_of
from services.compute.methods.cloud import Bounds, CloudError, CloudUsage, cloud_footprint

CLOUD_KIND = "cloud_instance_usage"
_REQUIRED = ("provider", "instance_type", "load_percent")


def cloud_outcome(activity: ActivityState, release: Mapping[str, Any] | None) -> Outcome:
    """The emission of a cloud usage, or why it cannot be computed (yet)."""
    if release is None:
        return "no Boavizta cloud release received yet"
    usage = _usage(activity)
    if isinstance(usage, str):
        return usage
    try:
        footprint = cloud_footprint(usage, release)
    except CloudError as error:
        return str(error)
    ref = _ref(release, usage, footprint.constants)
    lines = [
        _line("use", footprint.use_kg, ref, usage.hours),
        _line("embedded", footprint.embedded_kg, ref, usage.hours),
    ]
    method = Method(
        name="boavizta-cloud",
        version=str(release["source"]["version"]),
        constants={**footprint.constants, "power_w": _bounds(footprint.power_w)},
    )
    return emission_of(activity, lines, method)


def _usage(activity: ActivityState) -> CloudUsage | str:
    missing = [name for name in _REQUIRED if name not in activity.attributes]
    if missing:
        return f"cloud usage needs attributes {', '.join(missing)}"
    try:
        hours = convert(activity.quantity, activity.unit, "hour")
        load = float(activity.attributes["load_percent"])
    except (DimensionalityError, TypeError, ValueError) as error:
        return f"cloud usage: {error}"
    return CloudUsage(
        provider=str(activity.attributes["provider"]),
        instance_type=str(activity.attributes["instance_type"]),
        hours=hours,
        load_percent=load,
        country=activity.region.split("-", 1)[0],
    )


def _line(phase: str, kg: Bounds, ref: FactorRef, hours: float) -> EmissionLine:
    return EmissionLine(
        component=phase,
        scope=3,
        category=1,
        kg=Kg(value=kg.value, min=kg.min, max=kg.max),
        factor=ref,
        quantity=hours,
        unit="hour",
    )


def _ref(release: Mapping[str, Any], usage: CloudUsage, constants: Mapping[str, Any]) -> FactorRef:
    origin = str(constants["grid_factor"]["origin"])
    return FactorRef(
        factor_id=f"{release['release']}:{usage.provider}:{usage.instance_type}",
        version=1,
        releases=[str(release["release"])],
        source=f"Boavizta API {release['source']['version']}",
        region_used=usage.country or "default",
        fallback="default" in origin,
        out_of_validity=False,
    )


def _bounds(b: Bounds) -> dict[str, float]:
    return {"value": b.value, "min": b.min, "max": b.max}
