"""A request log registered with a server footprint: compute shares it among the log's
requests in place of SWD's data-centre segment, its figures in the emission's lineage."""

from __future__ import annotations

import hashlib
import io
import uuid

import pytest

from contracts.compute import Emission, Kg
from contracts.server_footprint import FootprintKg, ServerFootprint
from services.compute.core import (
    EmissionResult,
    GridIntensities,
    Method,
    ServerAllocation,
    compute_emissions,
)
from services.compute.methods import Grams
from services.compute.request_logs import batches
from tests.integration.compute.conftest import LOG_CSV, Stack, received, upload

FOOTPRINT = ServerFootprint(
    use_kg=FootprintKg(value=0.3, min=0.2, max=0.5),
    embedded_kg=FootprintKg.exact(0.1),
    source="cloud usage, January",
)
REQUESTS = 4  # LOG_CSV's rows, one request each


def line(emission: Emission, component: str) -> Kg:
    return next(x.kg for x in emission.lines if x.component == component)


async def test_a_log_with_a_server_footprint_gets_its_share_in_place_of_swd_data_centre(
    stack: Stack,
) -> None:
    bucket, name = await upload(stack, LOG_CSV)
    sha = hashlib.sha256(LOG_CSV).hexdigest()
    whole, half = uuid.uuid4(), uuid.uuid4()
    halved = FOOTPRINT.model_copy(update={"period_total": 2.0 * REQUESTS})
    for log_id, footprint in ((whole, FOOTPRINT), (half, halved)):
        event = received(log_id, bucket, name, sha, len(LOG_CSV))
        await stack.record(event.model_copy(update={"server": footprint}), f"log-{log_id}")

    got = [
        (await stack.until(i, lambda s: s.status == "calculated")).emission for i in (whole, half)
    ]

    assert got[0] is not None and got[1] is not None
    assert line(got[0], "data_centre_operational") == Kg(value=0.3, min=0.2, max=0.5)
    assert line(got[0], "data_centre_embodied") == Kg(value=0.1, min=0.1, max=0.1)
    assert line(got[1], "data_centre_operational").value == pytest.approx(0.15)
    allocation = got[0].method.constants["server_allocation"]
    assert allocation == {
        "operational_g": {"value": 300.0, "min": 200.0, "max": 500.0},
        "embodied_g": {"value": 100.0, "min": 100.0, "max": 100.0},
        "period_total": float(REQUESTS),
        "basis": "requests",
        "source": "cloud usage, January",
    }
    assert got[0].source.sha256 == sha
    expected = _core(float(REQUESTS))
    assert got[0].total.value == pytest.approx(expected.total.value / 1000, rel=1e-9)
    assert got[0].total.max == pytest.approx(expected.total.max / 1000, rel=1e-9)


async def test_a_footprint_a_log_cannot_share_leaves_it_unresolved_with_the_reason(
    stack: Stack,
) -> None:
    empty = b"bytes,client_country,server_country,device\n0,FRA,FRA,laptop\n"
    bucket, name = await upload(stack, empty)
    log_id = uuid.uuid4()
    event = received(log_id, bucket, name, hashlib.sha256(empty).hexdigest(), len(empty))
    bytes_basis = FOOTPRINT.model_copy(update={"allocation": "bytes"})
    await stack.record(event.model_copy(update={"server": bytes_basis}), f"log-{log_id}")

    status = await stack.until(log_id, lambda s: s.status == "unresolved")

    assert status.reason is not None and "server footprint cannot be shared" in status.reason


def _core(period_total: float) -> EmissionResult:
    allocation = ServerAllocation(Grams(300.0, 200.0, 500.0), Grams(100.0, 100.0, 100.0),
                                  period_total)  # fmt: skip
    rows = next(iter(batches(io.BytesIO(LOG_CSV), "csv")))
    grid = GridIntensities({}, source="no grid factor published", allow_fallback=True)
    return compute_emissions(rows, Method(server=allocation), grid)
