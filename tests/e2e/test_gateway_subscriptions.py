"""`footprintChanged` over graphql-transport-ws, fed by the real inventory→compute→reporting."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from contracts import reporting as r
from tests.e2e.conftest import Stack, organisation

SUBSCRIBE = "subscription { footprintChanged { sourceId status computePosition } }"
RECORD = """mutation($items: [ActivityInput!]!) {
  recordActivities(idempotencyKey: "s", activities: $items) { activityIds } }"""
ITEM = {
    "kind": "electricity",
    "quantity": 42.0,
    "unit": "kWh",
    "periodStart": "2024-05-01",
    "periodEnd": "2024-06-01",
    "site": "nantes",
    "region": "FRA",
}
PROTOCOL = "graphql-transport-ws"


async def receive(ws: ClientConnection) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 120))
    return message


@asynccontextmanager
async def socket(
    url: str, init: dict[str, Any], headers: dict[str, str] | None = None
) -> AsyncIterator[ClientConnection]:
    async with connect(url, subprotocols=[PROTOCOL], additional_headers=headers) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": init}))
        yield ws


async def subscribed(ws: ClientConnection, stack: Stack, tenant: str) -> None:
    """Subscribe, then wait until the subscription hears its subject (a probe notice)."""
    assert (await receive(ws))["type"] == "connection_ack"
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}}))
    probe = r.FootprintChanged(
        tenant_id=tenant, source_id=uuid.uuid4(), status="probe", compute_position=0
    )
    subject = r.changes_subject(stack.settings.namespace, tenant)
    while True:  # the server subscribes to NATS asynchronously: probe until it hears
        await stack.nc.publish(subject, probe.model_dump_json().encode())
        try:
            message = json.loads(await asyncio.wait_for(ws.recv(), 0.2))
        except TimeoutError:
            continue
        if message["payload"]["data"]["footprintChanged"]["status"] == "probe":
            return  # (changes of the caller's own earlier writes may come first)


async def changes_until(ws: ClientConnection, source_id: str) -> list[dict[str, Any]]:
    heard: list[dict[str, Any]] = []
    while not heard or heard[-1]["sourceId"] != source_id:
        message = await receive(ws)
        assert message["type"] == "next", message
        heard.append(message["payload"]["data"]["footprintChanged"])
    return heard


async def test_a_subscriber_hears_the_change_a_mutation_causes(
    stack: Stack, live_gateway: str
) -> None:
    tenant = organisation()
    viewer, writer = await stack.key(tenant, "viewer"), await stack.key(tenant, "integrator")
    async with socket(live_gateway, {"X-API-Key": viewer}) as ws:
        await subscribed(ws, stack, tenant)
        answer = await stack.data(RECORD, writer, items=[ITEM])
        [aid] = answer["recordActivities"]["activityIds"]
        heard = await changes_until(ws, aid)
        assert heard[-1]["status"] == "calculated" and heard[-1]["computePosition"] > 0


async def test_the_key_may_come_in_headers(stack: Stack, live_gateway: str) -> None:
    tenant = organisation()
    viewer = await stack.key(tenant, "viewer")
    async with socket(live_gateway, {}, {"X-API-Key": viewer}) as ws:
        await subscribed(ws, stack, tenant)


@pytest.mark.parametrize("init", [{}, {"X-API-Key": "emp_nope_nope"}])
async def test_a_socket_without_a_valid_key_is_closed(
    live_gateway: str, init: dict[str, Any]
) -> None:
    async with socket(live_gateway, init) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await receive(ws)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
