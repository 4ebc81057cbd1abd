"""A request log's emission follows the grid factors it was computed with.

A log computed before its grid release existed took co2.js's global intensity for every
country; when the release arrives the log is computed again and restated, naming the
factor versions behind each intensity. A factor change the release does not hold changes
nothing, and nothing is recorded.
"""

from __future__ import annotations

import hashlib
import io
import uuid
from datetime import date

import pytest

from contracts import compute as c
from contracts import factors as f
from services.compute.core import GridIntensities, Method, compute_emissions
from services.compute.request_logs import batches
from tests.integration.compute.conftest import CATALOGUE, LOG_CSV, Stack, received, upload


def grid_values(kg_per_kwh: float, region: str) -> f.FactorValues:
    return f.FactorValues(
        unit="kWh",
        kgco2e_per_unit=kg_per_kwh,
        region=region,
        scope=2,
        valid_from=date(2024, 1, 1),
        source="Ember",
        licence="CC BY-SA 4.0",
        year=2024,
    )


def grams(grid: GridIntensities) -> float:
    rows = next(iter(batches(io.BytesIO(LOG_CSV), "csv")))
    return compute_emissions(rows, Method(), grid).total.value


async def test_a_log_is_restated_when_its_grid_release_arrives_and_only_then(
    stack: Stack,
) -> None:
    bucket, name = await upload(stack, LOG_CSV)
    sha, log_id = hashlib.sha256(LOG_CSV).hexdigest(), uuid.uuid4()
    await stack.record(received(log_id, bucket, name, sha, len(LOG_CSV)), f"log-{log_id}")
    first = await stack.until(log_id, lambda s: s.status == "calculated")
    assert first.emission is not None
    assert first.emission.breakdown["fallback_countries"] == ["DEU", "FRA"]
    no_grid = GridIntensities({}, source="none", allow_fallback=True)
    assert first.emission.total.value == pytest.approx(grams(no_grid) / 1000, rel=1e-9)

    factor = f.FactorPublished(
        factor_id="ember-fra",
        activity_kind="electricity_grid_average",
        component="generation",
        values=grid_values(0.04418, "FRA"),
    )
    await stack.record(factor, "f-ember-fra", CATALOGUE)
    member = f.ReleaseMember(factor_id="ember-fra", version=1)
    release = f.ReleasePublished(
        release_id="e", name="ember-2024", description="", members=[member]
    )
    await stack.record(release, "r-ember", CATALOGUE)

    restated = await stack.until(log_id, lambda s: s.version == 2)
    assert restated.emission is not None
    fra_only = GridIntensities({"FRA": 44.18}, source="test", allow_fallback=True)
    assert restated.emission.total.value == pytest.approx(grams(fra_only) / 1000, rel=1e-9)
    assert restated.emission.breakdown["fallback_countries"] == ["DEU"]
    assert restated.emission.total.value < first.emission.total.value  # FRA's grid is clean
    constants = restated.emission.method.constants
    assert constants["grid_factors"] == {"FRA": {"factor_id": "ember-fra", "version": 1}}

    # A revision the release does not hold (it pins version 1) changes no intensity.
    revised = f.FactorRevised(
        factor_id="ember-fra", version=2, values=grid_values(0.5, "FRA"), reason="test"
    )
    await stack.record(revised, "f-ember-fra", CATALOGUE)
    await stack.until_factor("ember-fra", 2)  # committed with the recomputation it caused

    events = await stack.compute.read_stream(f"emission-log-{log_id}")
    assert [e.type for e in events] == ["EmissionCalculated", "EmissionRestated"]
    payload = c.EVENTS.decode(events[1])
    assert isinstance(payload, c.EmissionRestated)
    assert payload.previous_total == first.emission.total
    assert payload.cause.kind == "release_published"
