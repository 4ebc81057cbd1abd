"""A measured server footprint, as a request or an event carries it, made the core's
server allocation (`services.compute.methods.server`). Pure.

Left without ``period_total``, the footprint is the period's and the log is the whole
period: the log's own requests (or bytes) are counted first, as the core counts them, so
the log gets exactly the footprint.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from contracts.server_footprint import FootprintKg, ServerFootprint
from services.compute.core import EmissionResult, Grams, Method, ServerAllocation

# Counts a log with a method (the core's result without a server allocation).
Count = Callable[[Method], EmissionResult]


def with_server(
    method: Method, footprint: ServerFootprint | None, count: Count, source: str
) -> Method:
    """``method`` sharing ``footprint`` among the requests; ValueError saying why it cannot."""
    if footprint is None:
        return method
    use, embodied = _grams(footprint.use_kg), _grams(footprint.embedded_kg)
    basis = footprint.allocation
    # Refuse a model that takes no server allocation before counting anything.
    replace(method, server=ServerAllocation(use, embodied, 1.0, basis))
    total = footprint.period_total
    if total is None:
        counted = count(method)
        total = counted.requests if basis == "requests" else counted.bytes
    allocation = ServerAllocation(use, embodied, total, basis, footprint.source or source)
    return replace(method, server=allocation)


def _grams(kg: FootprintKg) -> Grams:
    return Grams(kg.value * 1000.0, kg.min * 1000.0, kg.max * 1000.0)
