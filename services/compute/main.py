"""Composition root of the compute service process: `empreinte service run compute`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from contracts.audit import history_spec, verify_spec
from contracts.inventory import UPCASTERS
from kernel.consumer import Batched, Consumer, Subscription
from kernel.naming import events_stream, events_subject
from kernel.process import ServiceDefinition, Wiring
from kernel.runtime import Route
from services.compute.consumers import EmissionWorkflow
from services.compute.handlers import ComputeHandlers
from services.compute.projections import ReadModels
from services.compute.tables import compute_tables

NAME = "compute"
# Releases tried in this order for every activity (METHODS §4: ADEME first for France);
# the whole catalogue is the last resort. Region fallback stays off: a missing factor is
# an unresolved activity, never a silent guess.
RELEASES = ("ademe-base-empreinte", "desnz-2024", "ember-2024", "ademe-impact-co2")
ALLOW_FALLBACK = False


def _models(factor_cache: bool = True) -> ReadModels:
    return ReadModels(compute_tables(NAME), factor_cache=factor_cache)


def routes(wiring: Wiring) -> list[Route[Any, Any]]:
    handlers = ComputeHandlers(wiring.engine, _models(), RELEASES, allow_fallback=ALLOW_FALLBACK)
    return handlers.routes()


def consumers(
    wiring: Wiring, *, factor_cache: bool = True, together: bool = True
) -> list[Consumer]:
    js = wiring.nc.jetstream()
    workflow = EmissionWorkflow(
        wiring.store, _models(factor_cache), RELEASES, allow_fallback=ALLOW_FALLBACK, js=js
    )
    return [
        _consumer(
            wiring,
            "inventory",
            ["ActivityRecorded", "ActivityCorrected", "ActivityRetracted", "RequestLogReceived"],
            Batched(workflow.on_inventory_events),
            together,
        ),
        _consumer(wiring, "factors", [">"], workflow.on_factor_event, together),
    ]


def _consumer(
    wiring: Wiring, service: str, types: list[str], handler: Any, together: bool
) -> Consumer:
    ns = wiring.settings.namespace
    subscription = Subscription(
        durable=f"{NAME}_{service}",
        stream=events_stream(ns, service),
        subjects=[events_subject(ns, service, t) for t in types],
    )
    return Consumer(
        wiring.engine, NAME, wiring.nc, subscription, handler,
        namespace=ns, upcasters=UPCASTERS, one_per_transaction=not together,
        batch=wiring.settings.consumer_batch,
    )  # fmt: skip


def service(*, factor_cache: bool = True, together: bool = True) -> ServiceDefinition:
    """The compute service; `factor_cache=False` or `together=False` (one message
    per transaction) only to measure what the cache and batching save."""
    return ServiceDefinition(
        name=NAME,
        version="0.1.0",
        migrations=Path(__file__).parent / "migrations",
        routes=routes,
        consumers=lambda wiring: consumers(wiring, factor_cache=factor_cache, together=together),
        audit=(history_spec("compute"), verify_spec("compute")),
    )


definition = service()
