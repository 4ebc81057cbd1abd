from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from nats.aio.client import Client as NatsClient
from pydantic import BaseModel, Field

from kernel.client import ServiceClient
from kernel.endpoints import CallContext, EndpointSpec
from kernel.errors import RemoteError, RequestRefused
from kernel.naming import endpoint_subject
from kernel.runtime import MicroService, Route


class Convert(BaseModel):
    quantity: float = Field(ge=0)
    unit: str


class Converted(BaseModel):
    kwh: float
    tenant: str


async def convert(ctx: CallContext, req: Convert) -> Converted:
    if req.unit == "boom":
        raise RuntimeError("secret internals")
    if req.unit == "bug":  # the service builds an invalid answer: its fault, not the caller's
        return Converted.model_validate({"kwh": "lots", "tenant": ctx.tenant_id})
    if req.unit != "MWh":
        raise RequestRefused("unknown_unit", f"unit {req.unit!r} is not an energy unit", "unit")
    return Converted(kwh=req.quantity * 1000, tenant=ctx.tenant_id)


@pytest.fixture
async def client(
    nats_client: NatsClient, namespace: str, service_name: str
) -> AsyncIterator[tuple[ServiceClient, EndpointSpec[Convert, Converted]]]:
    spec = EndpointSpec(service_name, "convert", Convert, Converted, frozenset({"integrator"}))
    async with serving(nats_client, namespace, Route(spec, convert)):
        yield ServiceClient(nats_client, namespace, timeout=5), spec


@asynccontextmanager
async def serving(nc: NatsClient, namespace: str, route: Route[Any, Any]) -> AsyncIterator[None]:
    """A service answering `route` (and health) until the block ends."""

    async def health() -> dict[str, object]:
        return {"status": "ok"}

    service = MicroService(
        nc, namespace=namespace, name=route.spec.service, version="0.1.0",
        routes=[route], health=health,
    )  # fmt: skip
    await service.start()
    try:
        yield
    finally:
        await service.stop()


INTEGRATOR = CallContext(tenant_id="acme", role="integrator")


async def test_a_typed_request_gets_a_typed_answer_for_its_tenant(client) -> None:  # type: ignore[no-untyped-def]
    svc, spec = client
    answer = await svc.call(spec, Convert(quantity=2, unit="MWh"), INTEGRATOR)
    assert answer == Converted(kwh=2000, tenant="acme")


@pytest.mark.parametrize(
    ("ctx", "code", "field"),
    [
        (CallContext(tenant_id="", role="integrator"), "missing_tenant", "Empreinte-Tenant"),
        (CallContext(tenant_id="acme", role=""), "missing_role", "Empreinte-Role"),
        (CallContext(tenant_id="acme", role="viewer"), "forbidden", "Empreinte-Role"),
    ],
)
async def test_callers_without_tenant_or_role_are_refused(client, ctx, code, field) -> None:  # type: ignore[no-untyped-def]
    svc, spec = client
    with pytest.raises(RemoteError) as refused:
        await svc.call(spec, Convert(quantity=1, unit="MWh"), ctx)
    assert (refused.value.code, refused.value.field) == (code, field)


async def test_invalid_input_names_the_field_and_the_reason(
    client, nats_client: NatsClient, namespace: str, service_name: str
) -> None:  # type: ignore[no-untyped-def]
    reply = await nats_client.request(
        endpoint_subject(namespace, service_name, "convert"),
        json.dumps({"quantity": -3, "unit": "MWh"}).encode(),
        headers=INTEGRATOR.headers(),
        timeout=5,
    )
    body = json.loads(reply.data)
    assert (
        reply.headers is not None and reply.headers["Nats-Service-Error-Code"] == "invalid_request"
    )
    assert body["field"] == "quantity"
    assert "greater than or equal to 0" in body["message"]


async def test_refusals_keep_their_code_and_internal_errors_are_masked(client) -> None:  # type: ignore[no-untyped-def]
    svc, spec = client
    with pytest.raises(RemoteError) as refused:
        await svc.call(spec, Convert(quantity=1, unit="km"), INTEGRATOR)
    assert (refused.value.code, refused.value.field) == ("unknown_unit", "unit")
    with pytest.raises(RemoteError) as failed:
        await svc.call(spec, Convert(quantity=1, unit="boom"), INTEGRATOR)
    assert failed.value.code == "internal"
    assert "secret" not in str(failed.value)
    with pytest.raises(RemoteError) as bug:
        await svc.call(spec, Convert(quantity=1, unit="bug"), INTEGRATOR)
    assert (bug.value.code, bug.value.field) == ("internal", None)


async def test_health_answers_without_a_tenant(
    client, nats_client: NatsClient, namespace: str, service_name: str
) -> None:  # type: ignore[no-untyped-def]
    reply = await nats_client.request(
        endpoint_subject(namespace, service_name, "health"), b"", timeout=5
    )
    assert json.loads(reply.data) == {"status": "ok"}


async def test_a_service_that_does_not_answer_is_a_typed_retryable_error(
    nats_client: NatsClient, namespace: str
) -> None:
    spec = EndpointSpec("nobody", "convert", Convert, Converted, frozenset({"integrator"}))
    caller = ServiceClient(nats_client, namespace, timeout=2)

    with pytest.raises(RemoteError) as refused:
        await caller.call(spec, Convert(quantity=1, unit="MWh"), INTEGRATOR)

    assert refused.value.code == "unavailable"
    assert "nobody" in refused.value.message


class Meet(BaseModel):
    who: str


class Met(BaseModel):
    who: str


async def test_requests_to_one_endpoint_are_answered_side_by_side(
    nats_client: NatsClient, namespace: str, service_name: str
) -> None:
    # The first request is answered only once the second has arrived: answered one after
    # the other, the first would wait forever and both would time out.
    first_arrived, second_arrived = asyncio.Event(), asyncio.Event()

    async def meet(ctx: CallContext, req: Meet) -> Met:
        if req.who == "first":
            first_arrived.set()
            await second_arrived.wait()
        else:
            second_arrived.set()
        return Met(who=req.who)

    spec = EndpointSpec(service_name, "meet", Meet, Met, frozenset({"integrator"}))
    svc = ServiceClient(nats_client, namespace, timeout=5)
    async with serving(nats_client, namespace, Route(spec, meet)):
        first = asyncio.create_task(svc.call(spec, Meet(who="first"), INTEGRATOR))
        await first_arrived.wait()  # the first is being answered: now the second
        second = await svc.call(spec, Meet(who="second"), INTEGRATOR)
        assert (await first, second) == (Met(who="first"), Met(who="second"))
