"""Measured device time: the user-device segment from client execution time (METHODS §2).

The device segment is the measured execution time times the terminal's power at the client
country's grid intensity, plus the terminal's embodied emissions for that time (manufacture
emissions spread evenly over its lifetime hours). Network and data centre stay SWD v4's; the
SWD device segment is never added as well (that would count the device twice).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from services.compute.methods import (
    CO2JS,
    EMBODIED,
    OPERATIONAL,
    Activity,
    Bounded,
    Emissions,
    FloatArray,
    Method,
    Model,
)
from services.compute.methods.swd import (
    V4_GLOBAL_GRID_INTENSITY,
    data_centre,
    v4_constants,
    v4_segment,
)

MS_PER_HOUR = 3.6e6


@dataclass(frozen=True)
class Terminal:
    """A terminal archetype: power in W (value, min, max), manufacture kgCO2e, lifetime h."""

    power_w: float
    power_w_min: float
    power_w_max: float
    manufacture_kg: float
    lifetime_h: float

    @property
    def embodied_g_per_hour(self) -> float:
        return self.manufacture_kg * 1000.0 / self.lifetime_h


# Boavizta terminal archetypes (METHODS §2). Boavizta gives no range for manufacture
# emissions, so embodied device emissions are exact (min = max = value).
BOAVIZTA_TERMINALS: Mapping[str, Terminal] = {
    "smartphone": Terminal(1.0, 0.5, 3.0, 84.0, 21_900.0),
    "laptop": Terminal(75.0, 50.0, 100.0, 181.0, 35_040.0),
    "desktop": Terminal(175.0, 100.0, 450.0, 277.0, 52_560.0),
}
# Devices a request log may name. SWD methods only break results down by device, so they take
# tablets too; measured-device needs a terminal's figures, so tablets need `Method.terminals`.
DEVICES = (*BOAVIZTA_TERMINALS, "tablet")


def terminals_of(method: Method) -> Mapping[str, Terminal]:
    """The terminal figures a measured-device method uses."""
    return BOAVIZTA_TERMINALS if method.terminals is None else method.terminals


def _per_group(activity: Activity, figures: Mapping[str, float]) -> FloatArray:
    by_device = np.array([figures[name] for name in activity.device_names], dtype=np.float64)
    gathered: FloatArray = by_device[activity.device]
    return gathered


def _device_segment(method: Method, activity: Activity) -> Emissions:
    terminals = terminals_of(method)
    names = activity.device_names
    hours = activity.exec_ms / MS_PER_HOUR
    energy_h = hours * activity.intensity["user_device"] / 1000.0  # kWh per W, times g/kWh
    op = [
        energy_h * _per_group(activity, {n: getattr(terminals[n], attr) for n in names})
        for attr in ("power_w", "power_w_min", "power_w_max")
    ]
    embodied_rate = {n: terminals[n].embodied_g_per_hour for n in names}
    return {
        ("user_device", OPERATIONAL): Bounded(op[0], op[1], op[2]),
        ("user_device", EMBODIED): Bounded.exact(hours * _per_group(activity, embodied_rate)),
    }


def measured_device(method: Method, activity: Activity) -> Emissions:
    """Measured device time for the device segment, SWD v4 for network and data centre."""
    emissions = _device_segment(method, activity)
    emissions |= v4_segment(activity, "network")
    emissions |= data_centre(method, activity)
    return emissions


def measured_device_constants(method: Method) -> dict[str, object]:
    """The constants ``measured_device`` used (SWD v4's for network and data centre)."""
    swd = v4_constants(method)
    kwh_per_gb = swd["kwh_per_gb"]
    assert isinstance(kwh_per_gb, dict)
    swd["kwh_per_gb"] = {s: v for s, v in kwh_per_gb.items() if s != "user_device"}
    terminals = {
        name: {
            "power_w": {"value": t.power_w, "min": t.power_w_min, "max": t.power_w_max},
            "manufacture_kgco2e": t.manufacture_kg,
            "lifetime_h": t.lifetime_h,
        }
        for name, t in terminals_of(method).items()
    }
    source = "Boavizta terminal archetypes" if method.terminals is None else "caller"
    return swd | {"terminals": terminals, "terminals_source": source, "ms_per_hour": MS_PER_HOUR}


MEASURED_DEVICE = Model(
    "measured-device",
    f"Boavizta terminal archetypes; SWD v4 network and data centre ({CO2JS})",
    V4_GLOBAL_GRID_INTENSITY,
    measured_device,
    measured_device_constants,
)
