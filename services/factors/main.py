"""Composition root of the factors service process: `empreinte service run factors`."""

from __future__ import annotations

from pathlib import Path

from kernel.process import ServiceDefinition

definition = ServiceDefinition(
    name="factors",
    version="0.1.0",
    migrations=Path(__file__).parent / "migrations",
)
