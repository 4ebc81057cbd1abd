"""Composition root of the inventory service process: `empreinte service run inventory`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from contracts.audit import history_spec, verify_spec
from contracts.inventory import UPCASTERS
from kernel.process import ServiceDefinition, Wiring
from kernel.runtime import Route
from services.inventory.handlers import Inventory


def routes(wiring: Wiring) -> Sequence[Route[Any, Any]]:
    nc = wiring.nc
    inventory = Inventory(wiring.store, nc.jetstream(), wiring.settings.namespace, nc.max_payload)
    return inventory.routes()


definition = ServiceDefinition(
    name="inventory",
    version="0.1.0",
    migrations=Path(__file__).parent / "migrations",
    upcasters=UPCASTERS,
    routes=routes,
    audit=(history_spec("inventory"), verify_spec("inventory")),
)
