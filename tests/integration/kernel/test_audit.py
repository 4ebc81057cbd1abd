"""The audit endpoints every service gets: paged history of its tenant's events, and the chain."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa
from nats.aio.client import Client as NatsClient

from contracts.audit import History, Verify, history_spec, verify_spec
from kernel.audit import audit_routes
from kernel.client import ServiceClient
from kernel.endpoints import CallContext
from kernel.envelope import NewEvent
from kernel.errors import RemoteError
from kernel.runtime import MicroService
from kernel.store import EventStore

AUDITOR = CallContext(tenant_id="acme", role="auditor")


@pytest.fixture
async def audited(
    store: EventStore, nats_client: NatsClient, namespace: str, service_name: str
) -> AsyncIterator[ServiceClient]:
    async def health() -> dict[str, object]:
        return {"status": "ok"}

    specs = (history_spec(service_name), verify_spec(service_name))
    service = MicroService(
        nats_client,
        namespace=namespace,
        name=service_name,
        version="0.1.0",
        routes=audit_routes(store, *specs),
        health=health,
    )
    await service.start()
    yield ServiceClient(nats_client, namespace)
    await service.stop()


async def test_history_pages_through_the_tenants_events_only(
    audited: ServiceClient, store: EventStore, service_name: str
) -> None:
    for n in range(5):
        await store.append(
            [
                NewEvent("s", "Counted", {"n": n}, tenant_id="acme"),
                NewEvent("t", "Counted", {"n": n}, tenant_id="globex"),
            ]
        )
    spec = history_spec(service_name)
    first = await audited.call(spec, History(limit=3), AUDITOR)
    assert [e.payload["n"] for e in first.events] == [0, 1, 2]
    assert first.next_after_position is not None
    rest = await audited.call(spec, History(after_position=first.next_after_position), AUDITOR)
    assert [e.payload["n"] for e in rest.events] == [3, 4] and rest.next_after_position is None
    assert {e.stream_id for e in first.events + rest.events} == {"s"}
    other = await audited.call(spec, History(stream_id="t"), AUDITOR)
    assert other.events == []
    with pytest.raises(RemoteError) as refused:
        await audited.call(spec, History(), CallContext(tenant_id="acme", role="viewer"))
    assert refused.value.code == "forbidden"


async def test_verify_reports_the_first_broken_link(
    audited: ServiceClient, store: EventStore, service_name: str
) -> None:
    for n in range(3):
        await store.append([NewEvent("s", "Counted", {"n": n}, tenant_id="acme")])
    spec = verify_spec(service_name)
    assert (await audited.call(spec, Verify(), AUDITOR)).ok
    async with store.engine.begin() as conn:
        await conn.execute(sa.text(f"ALTER TABLE {store.schema}.events DISABLE TRIGGER USER"))
        await conn.execute(
            sa.text(f"UPDATE {store.schema}.events SET actor = 'x' WHERE global_position = 2")
        )
        await conn.execute(sa.text(f"ALTER TABLE {store.schema}.events ENABLE TRIGGER USER"))
    broken = await audited.call(spec, Verify(), AUDITOR)
    assert (broken.ok, broken.first_broken_position, broken.checked) == (False, 2, 1)
