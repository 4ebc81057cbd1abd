"""Composition root of the inventory service process: `empreinte service run inventory`."""

from __future__ import annotations

from pathlib import Path

from kernel.process import ServiceDefinition

definition = ServiceDefinition(
    name="inventory",
    version="0.1.0",
    migrations=Path(__file__).parent / "migrations",
)
