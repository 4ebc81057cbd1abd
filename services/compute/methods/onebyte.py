"""The Shift Project's OneByte model, giving co2.js 0.19's numbers (METHODS §1).

co2.js applies fixed grid intensities here and ignores any gridIntensity option, so this
model takes no grid intensity by country. co2.js reports OneByte as one total; the split
into data centre and network below is ours and adds up to co2.js's total.
"""

from __future__ import annotations

import numpy as np

from services.compute.methods import (
    CO2JS,
    EMBODIED,
    OPERATIONAL,
    Activity,
    Bounded,
    Emissions,
    Method,
    Model,
)

KWH_PER_BYTE_DATA_CENTRE = 7.2e-11
# Mean of fixed wired 4.29e-10, wifi 1.52e-10 and 4G mobile 8.84e-10 kWh/byte; unrounded,
# as co2.js computes it (METHODS §1 prints it rounded to 4.8833e-10).
KWH_PER_BYTE_NETWORK = (4.29e-10 + 1.52e-10 + 8.84e-10) / 3
GREY_GRID_INTENSITY = 519.0  # data centre and network when not green
GREEN_NETWORK_GRID_INTENSITY = 475.0  # network when the data centre is green (then 0)


def onebyte(method: Method, activity: Activity) -> Emissions:
    """OneByte emissions: data centre and network operational energy only."""
    zero = np.zeros_like(activity.bytes)
    if method.green_hosting_factor == 1:
        data_centre = zero
        network = activity.bytes * (KWH_PER_BYTE_NETWORK * GREEN_NETWORK_GRID_INTENSITY)
    else:
        data_centre = activity.bytes * (KWH_PER_BYTE_DATA_CENTRE * GREY_GRID_INTENSITY)
        network = activity.bytes * (KWH_PER_BYTE_NETWORK * GREY_GRID_INTENSITY)
    return {
        ("data_centre", OPERATIONAL): Bounded.exact(data_centre),
        ("data_centre", EMBODIED): Bounded.exact(zero),
        ("network", OPERATIONAL): Bounded.exact(network),
        ("network", EMBODIED): Bounded.exact(zero),
        ("user_device", OPERATIONAL): Bounded.exact(zero),
        ("user_device", EMBODIED): Bounded.exact(zero),
    }


def onebyte_constants(method: Method) -> dict[str, object]:
    """The OneByte constants ``onebyte`` used."""
    return {
        "kwh_per_byte": {"data_centre": KWH_PER_BYTE_DATA_CENTRE, "network": KWH_PER_BYTE_NETWORK},
        "grey_grid_intensity": GREY_GRID_INTENSITY,
        "green_network_grid_intensity": GREEN_NETWORK_GRID_INTENSITY,
        "green": method.green_hosting_factor == 1,
    }


# No grid intensity by country: 0.0 is never used as a fallback.
ONEBYTE = Model("onebyte", f"OneByte, The Shift Project ({CO2JS})", 0.0, onebyte, onebyte_constants)
