"""A server footprint as a request or an event carries it, made the core's allocation."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from contracts import compute as c
from contracts.server_footprint import FootprintKg, ServerFootprint
from services.compute.core import EmissionResult, GridIntensities, Method, compute_emissions
from services.compute.methods import Grams
from services.compute.server_share import with_server

ROWS = {"bytes": [1000.0, 3000.0], "client_country": ["FRA", "FRA"], "server_country": ["FRA"] * 2}
GRID = GridIntensities({"FRA": 50.0}, source="test")
FOOTPRINT = ServerFootprint(use_kg=FootprintKg.exact(1.0), allocation="bytes")


def count(method: Method) -> EmissionResult:
    return compute_emissions(ROWS, method, GRID)


def test_without_a_period_total_the_log_is_the_period_and_gets_the_whole_footprint() -> None:
    method = with_server(Method(), FOOTPRINT, count, "a test")
    assert method.server is not None
    assert method.server.period_total == 4000.0
    assert method.server.operational_g == Grams(1000.0, 1000.0, 1000.0)
    assert method.server.source == "a test"
    result = count(method)
    assert result.segments["data_centre"].operational.value == pytest.approx(1000.0)


def test_a_period_total_is_taken_as_given_and_nothing_is_counted() -> None:
    def never(method: Method) -> EmissionResult:
        raise AssertionError("counted")

    given = FOOTPRINT.model_copy(update={"period_total": 8000.0, "source": "billing"})
    method = with_server(Method("measured-device"), given, never, "a test")
    assert method.server is not None and method.server.period_total == 8000.0
    assert method.server.source == "billing"
    assert with_server(Method(), None, never, "a test") == Method()


def test_a_model_without_server_allocation_or_a_log_without_requests_is_refused() -> None:
    with pytest.raises(ValueError, match="onebyte has no server allocation"):
        with_server(Method("onebyte"), FOOTPRINT, count, "a test")
    empty = {"bytes": [0.2], "client_country": ["FRA"], "server_country": ["FRA"]}
    with pytest.raises(ValueError, match="period_total"):
        with_server(Method(), FOOTPRINT, lambda m: compute_emissions(empty, m, GRID), "a test")


def test_the_contract_refuses_inverted_ranges_and_an_empty_estimate() -> None:
    with pytest.raises(ValidationError, match="min <= value <= max"):
        FootprintKg(value=1.0, min=2.0, max=3.0)
    with pytest.raises(ValidationError):
        ServerFootprint(use_kg=FootprintKg.exact(1.0), period_total=0)
    with pytest.raises(ValidationError, match="at least one activity or the requests"):
        c.Estimate()
