"""Composition root of the reporting service process: `empreinte service run reporting`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from contracts.audit import history_spec, verify_spec
from kernel.consumer import Batched, Consumer, Subscription
from kernel.naming import events_stream, events_subject
from kernel.process import ServiceDefinition, Wiring
from kernel.runtime import Route
from services.reporting.handlers import Reporting
from services.reporting.projections import EmissionVersions
from services.reporting.tables import reporting_tables

NAME = "reporting"


def _reporting(wiring: Wiring) -> Reporting:
    versions = EmissionVersions(reporting_tables(NAME))
    return Reporting(wiring.engine, NAME, versions, wiring.nc, wiring.settings.namespace)


def routes(wiring: Wiring) -> list[Route[Any, Any]]:
    return _reporting(wiring).routes()


def consumers(wiring: Wiring) -> list[Consumer]:
    ns = wiring.settings.namespace
    subscription = Subscription(
        durable="reporting_compute",
        stream=events_stream(ns, "compute"),
        subjects=[events_subject(ns, "compute")],
    )
    handler = Batched(_reporting(wiring).on_compute_events)
    return [
        Consumer(
            wiring.engine,
            NAME,
            wiring.nc,
            subscription,
            handler,
            namespace=ns,
            batch=wiring.settings.consumer_batch,
            markers=False,  # versions are keyed on their compute position (projections.py)
        )
    ]


definition = ServiceDefinition(
    name=NAME,
    version="0.1.0",
    migrations=Path(__file__).parent / "migrations",
    routes=routes,
    consumers=consumers,
    audit=(history_spec("reporting"), verify_spec("reporting")),
)
