"""Sustainable Web Design v4 and v3, giving co2.js 0.19's numbers (METHODS §1)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from services.compute.methods import (
    CO2JS,
    EMBODIED,
    OPERATIONAL,
    SEGMENTS,
    Activity,
    Bounded,
    Emissions,
    Method,
    Model,
)
from services.compute.methods.server import allocated_data_centre

BYTES_PER_GB = 1e9

# SWD v4 energy intensity, kWh/GB, (operational, embodied) by segment: co2.js 0.19 constants.
V4_KWH_PER_GB: Mapping[str, tuple[float, float]] = {
    "data_centre": (0.055, 0.012),
    "network": (0.059, 0.013),
    "user_device": (0.080, 0.081),
}
# SWD v4 global grid intensity: the default of every operational segment, and always the
# intensity of embodied energy whatever the options.
V4_GLOBAL_GRID_INTENSITY = 494.0

# SWD v3: 0.81 kWh/GB shared between segments; "production" (hardware) energy has no
# segment of its own in SWD v3, so it is reported as embodied emissions of "production".
V3_KWH_PER_GB = 0.81
V3_SHARES: Mapping[str, float] = {
    "user_device": 0.52,
    "network": 0.14,
    "data_centre": 0.15,
    "production": 0.19,
}
V3_GLOBAL_GRID_INTENSITY = 472.94  # Ember WORLD average in co2.js 0.19
V3_GREEN_DATA_CENTRE_INTENSITY = 50.0  # co2.js RENEWABLES_GRID_INTENSITY


def _visit_multiplier(method: Method) -> float:
    return 1.0 if method.visit is None else method.visit.multiplier


def v4_segment(activity: Activity, segment: str, green_hosting_factor: float = 0.0) -> Emissions:
    """Operational and embodied grams of one SWD v4 segment (no per-visit caching)."""
    gb = activity.bytes / BYTES_PER_GB
    op_kwh, emb_kwh = V4_KWH_PER_GB[segment]
    if segment == "data_centre":
        op_kwh *= 1.0 - green_hosting_factor
    return {
        (segment, OPERATIONAL): Bounded.exact(gb * op_kwh * activity.intensity[segment]),
        (segment, EMBODIED): Bounded.exact(gb * (emb_kwh * V4_GLOBAL_GRID_INTENSITY)),
    }


def data_centre(method: Method, activity: Activity) -> Emissions:
    """SWD v4's data-centre segment, or the method's share of a measured server footprint."""
    if method.server is not None:
        return allocated_data_centre(method.server, activity)
    return v4_segment(activity, "data_centre", method.green_hosting_factor)


def swd_v4(method: Method, activity: Activity) -> Emissions:
    """SWD v4 emissions by segment, as co2.js perByte (or perVisit with ``method.visit``)."""
    emissions = data_centre(method, activity)
    for segment in ("network", "user_device"):
        emissions |= v4_segment(activity, segment)
    multiplier = _visit_multiplier(method)
    if multiplier != 1.0:
        emissions = {k: Bounded.exact(v.value * multiplier) for k, v in emissions.items()}
    return emissions


def swd_v3(method: Method, activity: Activity) -> Emissions:
    """SWD v3 emissions by segment, as co2.js perByte (or perVisit with ``method.visit``)."""
    kwh = activity.bytes * (V3_KWH_PER_GB * _visit_multiplier(method) / BYTES_PER_GB)
    emissions: Emissions = {}
    for segment in SEGMENTS:
        intensity = activity.intensity[segment]
        if segment == "data_centre" and method.green_hosting_factor == 1:
            intensity = np.full_like(kwh, V3_GREEN_DATA_CENTRE_INTENSITY)
        grams = kwh * V3_SHARES[segment] * intensity
        emissions[(segment, OPERATIONAL)] = Bounded.exact(grams)
        emissions[(segment, EMBODIED)] = Bounded.exact(np.zeros_like(kwh))
    production = kwh * (V3_SHARES["production"] * V3_GLOBAL_GRID_INTENSITY)
    emissions[("production", OPERATIONAL)] = Bounded.exact(np.zeros_like(kwh))
    emissions[("production", EMBODIED)] = Bounded.exact(production)
    return emissions


def v4_constants(method: Method) -> dict[str, object]:
    """The SWD v4 constants ``swd_v4`` used."""
    return {
        "kwh_per_gb": {s: {OPERATIONAL: o, EMBODIED: e} for s, (o, e) in V4_KWH_PER_GB.items()},
        "bytes_per_gb": BYTES_PER_GB,
        "global_grid_intensity": V4_GLOBAL_GRID_INTENSITY,
        "embodied_grid_intensity": V4_GLOBAL_GRID_INTENSITY,
        "green_hosting_factor": method.green_hosting_factor,
    }


def v3_constants(method: Method) -> dict[str, object]:
    """The SWD v3 constants ``swd_v3`` used."""
    return {
        "kwh_per_gb": V3_KWH_PER_GB,
        "segment_shares": dict(V3_SHARES),
        "bytes_per_gb": BYTES_PER_GB,
        "global_grid_intensity": V3_GLOBAL_GRID_INTENSITY,
        "production_grid_intensity": V3_GLOBAL_GRID_INTENSITY,
        "green": method.green_hosting_factor == 1,
        "green_data_centre_grid_intensity": V3_GREEN_DATA_CENTRE_INTENSITY,
    }


SWD_V4 = Model(
    "swd-v4", f"Sustainable Web Design v4 ({CO2JS})", V4_GLOBAL_GRID_INTENSITY, swd_v4, v4_constants
)
SWD_V3 = Model(
    "swd-v3", f"Sustainable Web Design v3 ({CO2JS})", V3_GLOBAL_GRID_INTENSITY, swd_v3, v3_constants
)
