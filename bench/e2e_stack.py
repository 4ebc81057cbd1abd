"""What bench/e2e.py asks of the stack it loads (bench/processes.py starts it): the consumer
lag on the activity's way to the dashboard, an API key, and the namespace's cleanup."""

from __future__ import annotations

import nats
from nats.aio.client import Client as NatsClient

from gateway.keys import ApiKeys
from kernel.db import create_engine
from kernel.namespaces import delete_namespace_streams
from kernel.naming import events_stream
from kernel.settings import Settings

# (stream's service, durable consumer) pairs on the activity's way to the dashboard.
CONSUMERS = (("inventory", "compute_inventory"), ("compute", "reporting_compute"))


async def consumer_lag(nc: NatsClient, namespace: str) -> dict[str, int]:
    """Messages each consumer on the way to the dashboard has not yet acknowledged."""
    js, lag = nc.jetstream(), {}
    for service, durable in CONSUMERS:
        info = await js.consumer_info(events_stream(namespace, service), durable)
        lag[durable] = info.num_pending + info.num_ack_pending
    return lag


async def api_key(settings: Settings, tenant: str) -> str:
    """An integrator and viewer key of `tenant` (the gateway has made its table by now)."""
    assert settings.database_url
    engine = create_engine(settings.database_url, pool_size=1)
    try:
        keys = ApiKeys(engine)
        issued = await keys.create(tenant, ["integrator", "viewer"], "bench", actor="bench")
    finally:
        await engine.dispose()
    return issued.secret


async def forget_namespace(nats_url: str, namespace: str) -> None:
    """Delete the streams (KV and object buckets included) the run left under `namespace`."""
    nc = await nats.connect(nats_url, name="bench-e2e-cleanup")
    try:
        await delete_namespace_streams(nc.jsm(), namespace)
    finally:
        await nc.close()
