"""compute.estimate for what-if requests, over real NATS and PostgreSQL: the per-request core
with a measured server footprint shared among the requests, its constants in the lineage."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from nats.aio.client import Client as NatsClient
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts import compute as c
from contracts.server_footprint import FootprintKg, ServerFootprint
from kernel.client import ServiceClient
from kernel.endpoints import CallContext
from kernel.errors import RemoteError
from kernel.migrations import upgrade
from kernel.runtime import MicroService
from services.compute.core import GridIntensities, Method, ServerAllocation, compute_emissions
from services.compute.handlers import ComputeHandlers
from services.compute.methods import Grams
from services.compute.projections import ReadModels
from services.compute.tables import compute_tables

MIGRATIONS = Path(__file__).resolve().parents[3] / "services" / "compute" / "migrations"
VIEWER = CallContext(tenant_id="acme", role="viewer")
ROWS = {
    "bytes": [2_000_000.0, 500_000.0, 0.5, 1_000_000.0],
    "client_country": ["FRA", "DEU", "FRA", "USA"],
    "server_country": ["FRA", "FRA", "DEU", "USA"],
    "device": ["laptop", "smartphone", "desktop", "laptop"],
    "exec_ms": [120.0, None, 80.0, 300.0],
    "count": [3.0, 1.0, 2.0, 4.0],
}
FOOTPRINT = ServerFootprint(
    use_kg=FootprintKg(value=2.0, min=1.5, max=3.0),
    embedded_kg=FootprintKg.exact(0.5),
    source="cloud usage, January",
)
# No grid factor is published for this organisation: every country takes the global one.
FALLBACK = GridIntensities({}, source="test", allow_fallback=True)


@pytest.fixture
async def client(
    engine: AsyncEngine, nats_client: NatsClient, namespace: str
) -> AsyncIterator[ServiceClient]:
    suffix = uuid.uuid4().hex[:8]
    schema, ns = f"com_{suffix}", f"{namespace}_{suffix}"
    await upgrade(engine, schema, MIGRATIONS)
    handlers = ComputeHandlers(
        engine, ReadModels(compute_tables(schema)), ["ember-2024"], allow_fallback=False
    )
    service = MicroService(
        nats_client, namespace=ns, name="compute", version="0.1.0", routes=handlers.routes(),
        health=_healthy,
    )  # fmt: skip
    await service.start()
    yield ServiceClient(nats_client, ns, timeout=30)
    await service.stop()


async def _healthy() -> dict[str, object]:
    return {"status": "ok"}


def ask(model: str = "measured-device", **server: Any) -> c.Estimate:
    footprint = FOOTPRINT.model_copy(update=server)
    requests = c.EstimateRequests(
        rows=c.RequestRows(**ROWS),  # type: ignore[arg-type]
        period_start=date(2024, 1, 1),
        period_end=date(2024, 2, 1),
        model=model,  # type: ignore[arg-type]
        server=footprint,
    )
    return c.Estimate(requests=requests)


def line(emission: c.Emission, component: str) -> c.Kg:
    return next(x.kg for x in emission.lines if x.component == component)


async def test_requests_owning_the_whole_period_get_the_whole_server_footprint(
    client: ServiceClient,
) -> None:
    answer = await client.call(c.ESTIMATE, ask(), VIEWER)

    emission = answer.requests
    assert emission is not None and answer.items == []
    assert line(emission, "data_centre_operational") == c.Kg(value=2.0, min=1.5, max=3.0)
    assert line(emission, "data_centre_embodied") == c.Kg(value=0.5, min=0.5, max=0.5)
    allocation = emission.method.constants["server_allocation"]
    assert allocation["period_total"] == 10.0  # the rows' requests: their counts summed
    assert allocation["basis"] == "requests"
    assert allocation["source"] == "cloud usage, January"
    assert "data_centre" not in emission.method.constants["kwh_per_gb"]
    assert emission.source.sha256 is not None and len(emission.source.sha256) == 64
    expected = _core("measured-device", 10.0, "requests")
    assert emission.total.value == pytest.approx(expected.total.value / 1000, rel=1e-12)
    assert answer.total == emission.total


async def test_a_period_total_gives_the_requests_their_share_by_bytes(
    client: ServiceClient,
) -> None:
    answer = await client.call(
        c.ESTIMATE, ask("swd-v4", allocation="bytes", period_total=4e7), VIEWER
    )

    emission = answer.requests
    assert emission is not None
    counted = 2_000_000.0 * 3 + 500_000.0 + 1_000_000.0 * 4  # the 0.5-byte requests count 0
    share = counted / 4e7
    assert line(emission, "data_centre_operational").value == pytest.approx(2.0 * share)
    assert line(emission, "data_centre_operational").max == pytest.approx(3.0 * share)
    expected = _core("swd-v4", 4e7, "bytes")
    assert emission.total.value == pytest.approx(expected.total.value / 1000, rel=1e-12)


async def test_without_a_footprint_swd_keeps_its_data_centre_and_bad_requests_are_refused(
    client: ServiceClient,
) -> None:
    requests = ask("swd-v4").requests
    assert requests is not None
    without_server = requests.model_copy(update={"server": None})
    answer = await client.call(c.ESTIMATE, c.Estimate(requests=without_server), VIEWER)
    assert answer.requests is not None
    assert "server_allocation" not in answer.requests.method.constants
    expected = compute_emissions(ROWS, Method("swd-v4"), FALLBACK)
    assert answer.total.value == pytest.approx(expected.total.value / 1000, rel=1e-12)
    assert answer.requests.breakdown["fallback_countries"] == ["DEU", "FRA", "USA"]

    with pytest.raises(RemoteError) as refused:
        await client.call(c.ESTIMATE, ask("onebyte"), VIEWER)
    assert refused.value.code == "invalid_requests" and "onebyte" in refused.value.message
    rows = ROWS | {"client_country": ["FRA", "DEU", "FRA", "XX1"]}
    bad = without_server.model_copy(update={"rows": c.RequestRows(**rows)})  # type: ignore[arg-type]
    with pytest.raises(RemoteError) as unknown:
        await client.call(c.ESTIMATE, c.Estimate(requests=bad), VIEWER)
    assert "client_country" in unknown.value.message


def _core(model: str, period_total: float, basis: str) -> Any:
    allocation = ServerAllocation(
        Grams(2000.0, 1500.0, 3000.0),
        Grams(500.0, 500.0, 500.0),
        period_total,
        basis,  # type: ignore[arg-type]
    )
    method = Method(model, server=allocation)  # type: ignore[arg-type]
    return compute_emissions(ROWS, method, FALLBACK)
