"""Running one service as a process: NATS, database, migrations, relay, consumers, endpoints.

A service describes itself with a `ServiceDefinition`; `run_service` wires the kernel's parts
around it and drains gracefully on SIGTERM or Ctrl-C: stop taking requests, let consumers and
the relay finish their current message, drain NATS, close the pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import nats
from nats.aio.client import Client as NatsClient
from prometheus_client import start_http_server
from sqlalchemy.ext.asyncio import AsyncEngine

from kernel.aio import wait_for_stop
from kernel.audit import audit_routes
from kernel.consumer import Consumer, is_outage
from kernel.db import create_engine
from kernel.endpoints import EndpointSpec
from kernel.logs import configure_logging
from kernel.migrations import upgrade
from kernel.relay import Relay
from kernel.runtime import MicroService, Route
from kernel.settings import Settings
from kernel.store import EventStore
from kernel.upcasting import Upcasters

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class Wiring:
    """What a running service process holds; handed to a service's factories."""

    settings: Settings
    engine: AsyncEngine
    nc: NatsClient
    store: EventStore


@dataclass(frozen=True)
class ServiceDefinition:
    """A service as the kernel runs it: names, migrations, and factories for its parts."""

    name: str
    version: str
    migrations: Path | None = None
    upcasters: Upcasters = field(default_factory=Upcasters)
    routes: Callable[[Wiring], Sequence[Route[Any, Any]]] = lambda _: ()
    consumers: Callable[[Wiring], Sequence[Consumer]] = lambda _: ()
    startup: Callable[[Wiring], Awaitable[None]] | None = None
    # The audit endpoints' specs (history, verify), from the contracts: the kernel serves them.
    audit: tuple[EndpointSpec[Any, Any], EndpointSpec[Any, Any]] | None = None


async def connect_nats(url: str, name: str) -> NatsClient:
    """A NATS connection that reconnects forever (outages are waited out, never fatal)."""
    return await nats.connect(
        url,
        name=name,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,
        allow_reconnect=True,
    )


async def run_service(
    definition: ServiceDefinition, settings: Settings, stop: asyncio.Event | None = None
) -> None:
    """Run `definition` until `stop` is set (or SIGTERM/SIGINT arrives)."""
    if not settings.database_url or not settings.nats_url:
        raise RuntimeError("a service process needs DATABASE_URL and NATS_URL")
    stop = stop or stop_on_signals()
    engine = create_engine(settings.database_url, name=f"empreinte-{definition.name}")
    name, url = definition.name, settings.nats_url
    await _until_up(lambda: upgrade(engine, name, definition.migrations), "PostgreSQL", stop)
    nc = await _until_up(lambda: connect_nats(url, f"empreinte-{name}"), "NATS", stop)
    wiring = Wiring(settings, engine, nc, EventStore(engine, definition.name, definition.upcasters))
    try:
        await _serve(definition, wiring, stop)
    finally:
        await nc.drain()
        await engine.dispose()


async def _until_up(start: Callable[[], Awaitable[T]], what: str, stop: asyncio.Event) -> T:
    """`start()`, retried while the infrastructure is away: a service starting during an
    outage waits for it instead of dying (its supervisor would only restart it again)."""
    delay = 0.2
    while True:
        try:
            return await start()
        except Exception as error:
            if stop.is_set() or not is_outage(error):
                raise
            log.warning("%s unavailable (%r); retrying in %.1fs", what, error, delay)
            await wait_for_stop(stop, delay)
            delay = min(delay * 2, 5.0)


async def _serve(definition: ServiceDefinition, wiring: Wiring, stop: asyncio.Event) -> None:
    ns = wiring.settings.namespace
    if definition.startup is not None:
        await definition.startup(wiring)
    micro = MicroService(
        wiring.nc,
        namespace=ns,
        name=definition.name,
        version=definition.version,
        routes=[*definition.routes(wiring), *_audit(definition, wiring)],
        health=_health(definition, wiring),
    )
    relay = Relay(wiring.store, wiring.nc, namespace=ns, service=definition.name)
    workers = [relay.run(stop), *(c.run(stop) for c in definition.consumers(wiring))]
    tasks = [asyncio.create_task(w) for w in workers]
    await micro.start()
    if wiring.settings.metrics_port:
        start_http_server(wiring.settings.metrics_port, addr="127.0.0.1")
    log.info("service %s ready", definition.name)
    await stop.wait()
    await micro.stop()
    await asyncio.gather(*tasks, return_exceptions=True)


def _audit(definition: ServiceDefinition, wiring: Wiring) -> list[Route[Any, Any]]:
    if definition.audit is None:
        return []
    return audit_routes(wiring.store, *definition.audit)


def _health(
    definition: ServiceDefinition, wiring: Wiring
) -> Callable[[], Awaitable[dict[str, Any]]]:
    async def check() -> dict[str, Any]:
        try:
            head = await wiring.store.head_position()
        except Exception as error:  # health reports problems, it does not raise them
            return {"service": definition.name, "status": "degraded", "database": repr(error)}
        nats_ok = wiring.nc.is_connected
        status = "ok" if nats_ok else "degraded"
        return {
            "service": definition.name,
            "status": status,
            "head_position": head,
            "nats": nats_ok,
        }

    return check


def stop_on_signals() -> asyncio.Event:
    """An event set by SIGTERM or SIGINT (Ctrl-C): the signal to drain and stop."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    return stop


def run(definition: ServiceDefinition, settings: Settings) -> None:
    """Blocking entry point for `empreinte service run NAME`."""
    configure_logging(definition.name, settings.log_level)
    tune_garbage_collector()
    asyncio.run(run_service(definition, settings))


def tune_garbage_collector() -> None:
    """Keep the cyclic garbage collector off the hot path. Call it once, in a process's
    entry point, when the modules are loaded.

    * What the process holds for its whole life (the modules, the GraphQL schema, the
      pydantic and SQLAlchemy models: hundreds of thousands of objects) is frozen, never
      walked again. Every full collection walked it: in the gateway under load, a pause of
      100 to 200 ms every few seconds, every request in flight waiting it out.
    * A young collection runs after 50,000 more container objects than were freed, not
      700. A consumer's batch keeps thousands of objects alive (events, rows, pydantic
      models) until it commits, so at 700 each batch set off dozens of young collections
      and promoted its objects to be walked again by older ones: 3.4 s of compute's CPU in
      an 80,000-activity bench.e2e stage, some 12% of it (gc.callbacks), and 0.9 s of
      reporting's; then 0.2 s and none. What survives is still collected, later.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION_AFTER, *gc.get_threshold()[1:])


YOUNG_COLLECTION_AFTER = 50_000
