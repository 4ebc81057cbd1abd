"""Server footprint per request: a measured server footprint shared among the requests.

SWD's data-centre segment estimates server energy from bytes. When the servers' own footprint
over a period is known (cloud usage by the Boavizta method, METHODS §3), it replaces that
segment: each group gets ``units / period_total`` of the period's operational (use) and
embodied grams, where the units are its requests (default) or its bytes.

Requests are the default basis because a request is what the servers answered: the fixed
cost of keeping them up is spread evenly. Bytes suit services whose load follows volume
(media, downloads). Client execution time is not offered: it measures the user's device, so
it would move server emissions towards slow phones rather than towards busy servers.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Literal, get_args

from services.compute.methods import (
    EMBODIED,
    OPERATIONAL,
    Activity,
    Bounded,
    Emissions,
    FloatArray,
    Grams,
)

AllocationBasis = Literal["requests", "bytes"]
BASES: tuple[str, ...] = get_args(AllocationBasis)


@dataclass(frozen=True)
class ServerAllocation:
    """A server footprint for a period, in grams, and how to share it among its requests.

    ``period_total`` is the period's requests (basis ``requests``) or bytes (``bytes``),
    counted as the core counts them (bytes after the one-byte floor, times ``count``): a log
    covering the whole period gets exactly the footprint; a part of it, its share.
    ``source`` says where the footprint came from, for the result's lineage.
    """

    operational_g: Grams
    embodied_g: Grams
    period_total: float
    basis: AllocationBasis = "requests"
    source: str = ""

    def __post_init__(self) -> None:
        if self.basis not in BASES:
            raise ValueError(f"server allocation: basis must be one of {BASES}, got {self.basis!r}")
        if not (math.isfinite(self.period_total) and self.period_total > 0):
            raise ValueError(
                f"server allocation: period_total must be a number > 0, got {self.period_total}"
            )
        for name in ("operational_g", "embodied_g"):
            grams: Grams = getattr(self, name)
            bounds = (grams.min, grams.value, grams.max)
            if not all(math.isfinite(b) and b >= 0 for b in bounds) or sorted(bounds) != list(
                bounds
            ):
                raise ValueError(f"server allocation: {name} must be 0 <= min <= value <= max, "
                                 f"got {grams}")  # fmt: skip

    def describe(self) -> dict[str, object]:
        """The allocation as constants for the result's lineage."""
        return {
            "operational_g": asdict(self.operational_g),
            "embodied_g": asdict(self.embodied_g),
            "period_total": self.period_total,
            "basis": self.basis,
            "source": self.source,
        }


def allocated_data_centre(allocation: ServerAllocation, activity: Activity) -> Emissions:
    """The data-centre segment as each group's share of the server footprint."""
    units = activity.requests if allocation.basis == "requests" else activity.bytes
    if units is None:
        raise ValueError("server allocation by requests: the activity has no request counts")
    share = units / allocation.period_total
    return {
        ("data_centre", OPERATIONAL): _shared(share, allocation.operational_g),
        ("data_centre", EMBODIED): _shared(share, allocation.embodied_g),
    }


def _shared(share: FloatArray, grams: Grams) -> Bounded:
    value = share * grams.value
    if grams.min == grams.value == grams.max:
        return Bounded.exact(value)
    return Bounded(value, share * grams.min, share * grams.max)
