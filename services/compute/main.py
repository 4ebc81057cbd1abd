"""Composition root of the compute service process: `empreinte service run compute`."""

from __future__ import annotations

from pathlib import Path

from kernel.process import ServiceDefinition

definition = ServiceDefinition(
    name="compute",
    version="0.1.0",
    migrations=Path(__file__).parent / "migrations",
)
