"""Server footprint per request: a measured footprint replaces the SWD data-centre segment."""

from __future__ import annotations

import math
from typing import Any

import pytest

from services.compute.core import ServerAllocation, compute_emissions
from services.compute.grid import EMBER_CO2JS_0_19
from services.compute.methods import EmissionResult, Grams, Method

USE = Grams(120.0, 90.0, 160.0)
EMBEDDED = Grams(30.0, 30.0, 30.0)
LOG: dict[str, list[Any]] = {
    "bytes": [2e6, 0.5, 7e5, 1e9],
    "count": [1, 3, 2, 4],
    "client_country": ["FRA", "DEU", "IND", "FRA"],
    "server_country": ["DEU", "DEU", "USA", "FRA"],
    "device": ["laptop", "smartphone", "desktop", "laptop"],
    "exec_ms": [120.0, 800.0, 40.0, 15.0],
}
REQUESTS = 10.0  # the sum of count
BYTES = 2e6 + 2 * 7e5 + 4 * 1e9  # half a byte counts as nothing


def allocated(
    model: str, period_total: float = REQUESTS, basis: str = "requests", path: str = "eco"
) -> EmissionResult:
    server = ServerAllocation(USE, EMBEDDED, period_total, basis, "test fleet")  # type: ignore[arg-type]
    return compute_emissions(LOG, Method(model, server=server), EMBER_CO2JS_0_19, path=path)  # type: ignore[arg-type]


def close(a: Grams, b: Grams) -> None:
    for bound in ("value", "min", "max"):
        assert math.isclose(getattr(a, bound), getattr(b, bound), rel_tol=1e-12), (a, b)


@pytest.mark.parametrize("path", ["full", "eco"])
@pytest.mark.parametrize("model", ["swd-v4", "measured-device"])
def test_a_whole_period_gets_the_footprint_and_the_other_segments_are_unchanged(
    model: str, path: str
) -> None:
    result = allocated(model, path=path)
    close(result.segments["data_centre"].operational, USE)
    close(result.segments["data_centre"].embodied, EMBEDDED)
    plain = compute_emissions(LOG, Method(model), EMBER_CO2JS_0_19, path=path)  # type: ignore[arg-type]
    for segment in ("network", "user_device"):
        assert result.segments[segment] == plain.segments[segment]
    dc_before = plain.segments["data_centre"].total
    expected = plain.total.value - dc_before.value + USE.value + EMBEDDED.value
    assert math.isclose(result.total.value, expected, rel_tol=1e-12)
    assert math.isclose(result.total.min, plain.total.min - dc_before.min + 90 + 30, rel_tol=1e-12)


@pytest.mark.parametrize("path", ["full", "eco"])
def test_a_part_of_the_period_gets_its_share_by_requests(path: str) -> None:
    result = allocated("swd-v4", period_total=4 * REQUESTS, path=path)
    close(result.segments["data_centre"].operational, Grams(30.0, 22.5, 40.0))
    close(result.segments["data_centre"].embodied, Grams(7.5, 7.5, 7.5))


def test_by_requests_a_request_without_bytes_still_takes_its_share() -> None:
    result = allocated("swd-v4")
    plain = compute_emissions(LOG, Method(), EMBER_CO2JS_0_19)
    # DEU: one 2 MB request and three half-byte requests (no SWD emissions): 4 of 10 shares.
    swd_data_centre = 2e6 / 1e9 * (0.055 * 342.06 + 0.012 * 494)
    expected = plain.by_server_country["DEU"].value - swd_data_centre + 0.4 * 150.0
    assert math.isclose(result.by_server_country["DEU"].value, expected, rel_tol=1e-9)


@pytest.mark.parametrize("path", ["full", "eco"])
def test_by_bytes_shares_follow_the_bytes_counted(path: str) -> None:
    result = allocated("swd-v4", period_total=BYTES, basis="bytes", path=path)
    close(result.segments["data_centre"].operational, USE)
    plain = compute_emissions(LOG, Method(), EMBER_CO2JS_0_19)
    share_usa = 2 * 7e5 / BYTES  # the IND client's rows are served from USA
    swd_dc_usa = 2 * 7e5 / 1e9 * (0.055 * 383.55 + 0.012 * 494)
    expected = plain.by_server_country["USA"].value - swd_dc_usa + share_usa * 150.0
    assert math.isclose(result.by_server_country["USA"].value, expected, rel_tol=1e-9)
    assert result.bytes == BYTES


def test_constants_describe_the_allocation_and_drop_the_swd_data_centre_energy() -> None:
    constants = allocated("measured-device").constants
    assert constants["server_allocation"] == {
        "operational_g": {"value": 120.0, "min": 90.0, "max": 160.0},
        "embodied_g": {"value": 30.0, "min": 30.0, "max": 30.0},
        "period_total": REQUESTS,
        "basis": "requests",
        "source": "test fleet",
    }
    assert "data_centre" not in constants["kwh_per_gb"]
    assert constants["segment_grid_intensity"]["data_centre"] == "server allocation"


def test_the_server_country_needs_no_grid_intensity_when_allocated() -> None:
    log = LOG | {"server_country": ["ATA"] * 4}  # Antarctica: not in the table
    server = ServerAllocation(USE, EMBEDDED, REQUESTS)
    result = compute_emissions(log, Method(server=server), EMBER_CO2JS_0_19)
    assert "ATA" in result.by_server_country
    close(result.segments["data_centre"].operational, USE)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"period_total": 0.0}, "period_total must be a number > 0"),
        ({"period_total": math.nan}, "period_total must be a number > 0"),
        ({"operational_g": Grams(1.0, 2.0, 3.0)}, "operational_g must be 0 <= min <= value"),
        ({"embodied_g": Grams(-1.0, -1.0, -1.0)}, "embodied_g must be 0 <= min"),
        ({"basis": "exec_ms"}, "basis must be one of"),
    ],
)
def test_a_bad_allocation_is_refused(kwargs: dict[str, Any], message: str) -> None:
    given = {"operational_g": USE, "embodied_g": EMBEDDED, "period_total": 1.0} | kwargs
    with pytest.raises(ValueError, match=message):
        ServerAllocation(**given)


@pytest.mark.parametrize(
    "kwargs",
    [{"model": "swd-v3"}, {"model": "onebyte"}, {"green_hosting_factor": 0.5}],
)
def test_methods_without_a_data_centre_segment_to_replace_refuse_it(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="server allocation"):
        Method(server=ServerAllocation(USE, EMBEDDED, 1.0), **kwargs)
