"""The services this distribution runs, by name (imported lazily: one per process)."""

from __future__ import annotations

import importlib

from contracts.services import SERVICES
from kernel.process import ServiceDefinition


def definition(name: str) -> ServiceDefinition:
    """The `ServiceDefinition` of service `name`, from `services/<name>/main.py`."""
    if name not in SERVICES:
        raise ValueError(f"unknown service {name!r}; choose one of: {', '.join(SERVICES)}")
    found: ServiceDefinition = importlib.import_module(f"services.{name}.main").definition
    return found


def all_definitions() -> list[ServiceDefinition]:
    return [definition(name) for name in SERVICES]
