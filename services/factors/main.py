"""Composition root of the factors service process: `empreinte service run factors`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from contracts.audit import history_spec, verify_spec
from kernel.process import ServiceDefinition, Wiring
from kernel.runtime import Route
from services.factors.defaults import load_cloud_release, load_defaults
from services.factors.handlers import FactorHandlers


def routes(wiring: Wiring) -> list[Route[Any, Any]]:
    return FactorHandlers(wiring.store).routes()


async def load_default_releases(wiring: Wiring) -> None:
    """Startup: publish the default releases (a no-op once they are in the log)."""
    handlers = FactorHandlers(wiring.store)
    await load_defaults(handlers)
    await load_cloud_release(handlers)


definition = ServiceDefinition(
    name="factors",
    version="0.1.0",
    migrations=Path(__file__).parent / "migrations",
    routes=routes,
    startup=load_default_releases,
    audit=(history_spec("factors"), verify_spec("factors")),
)
