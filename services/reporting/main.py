"""Composition root of the reporting service process: `empreinte service run reporting`."""

from __future__ import annotations

from pathlib import Path

from kernel.process import ServiceDefinition

definition = ServiceDefinition(
    name="reporting",
    version="0.1.0",
    migrations=Path(__file__).parent / "migrations",
)
