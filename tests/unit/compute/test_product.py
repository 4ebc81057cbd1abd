"""The request log's grid: which factor version gave each country's intensity."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pyarrow as pa

from contracts.compute import EstimateRequests, RequestRows
from contracts.factors import FactorView
from services.compute.core import Method, compute_emissions
from services.compute.product import grid_factors, grid_from_factors, grid_lineage
from services.compute.request_estimate import requests_emission
from tests.unit.compute.test_domain import factor


def grid(kg: float, region: str, version: int, releases: tuple[str, ...]) -> FactorView:
    view = factor("generation", kg, region=region, version=version, releases=releases)
    kind = {"activity_kind": "electricity_grid_average", "factor_id": f"ember-{region}"}
    return view.model_copy(update=kind)


def test_the_release_latest_version_per_country_feeds_the_grid_and_its_lineage() -> None:
    views = [
        grid(0.05, "FRA", 1, ("ember-2024",)),
        grid(0.04, "FRA", 2, ("ember-2024",)),
        grid(0.90, "FRA", 3, ("ember-2025",)),  # another release: not this grid's
        grid(0.30, "DEU", 1, ("ember-2024",)),
        factor("generation", 9.0, region="ESP", releases=("ember-2024",)),  # another kind
    ]
    chosen = grid_factors(views, "ember-2024")
    assert {c: v.version for c, v in chosen.items()} == {"FRA": 2, "DEU": 1}
    intensities = grid_from_factors(chosen, "ember-2024")
    assert intensities.by_country == {"FRA": 40.0, "DEU": 300.0}

    rows = pa.table({"bytes": [1e9], "client_country": ["FRA"], "server_country": ["FRA"],
                     "device": ["laptop"]}).to_batches()[0]  # fmt: skip
    result = compute_emissions(rows, Method(), intensities)
    # Only the countries the log used are named, each with the version that gave its figure.
    assert grid_lineage(result, chosen) == {"FRA": {"factor_id": "ember-FRA", "version": 2}}


def test_what_if_requests_name_the_grid_factor_versions_as_a_log_does() -> None:
    chosen = grid_factors([grid(0.04, "FRA", 2, ("ember-2024",))], "ember-2024")
    rows = RequestRows(bytes=[1e9, 5e8], client_country=["FRA", "DEU"],
                       server_country=["FRA", "FRA"])  # fmt: skip
    what = EstimateRequests(rows=rows, period_start=date(2024, 1, 1), period_end=date(2024, 2, 1))
    emission = requests_emission(what, chosen, "ember-2024", source_id=uuid4(), event_id=uuid4())
    lineage = emission.method.constants["grid_factors"]
    assert lineage == {"FRA": {"factor_id": "ember-FRA", "version": 2}}  # DEU fell back
    assert emission.breakdown["fallback_countries"] == ["DEU"]
