"""Full and eco paths, and chunked streaming, give one result (property tests)."""

from __future__ import annotations

import math
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.compute import grouping
from services.compute.core import (
    EmissionAccumulator,
    InputError,
    ServerAllocation,
    compute_emissions,
)
from services.compute.grid import EMBER_CO2JS_0_19, GridIntensities
from services.compute.methods import (
    MODEL_DEFAULT,
    SWD_V3_VISIT,
    ZERO,
    EmissionResult,
    Grams,
    Method,
    SegmentEmission,
    SegmentGrid,
    VisitAssumptions,
)

REL = 1e-9
# GBR and BRA are not in the table: they fall back to the model's global intensity.
GRID = GridIntensities(EMBER_CO2JS_0_19.by_country, "test", allow_fallback=True)
COUNTRIES = ["FRA", "DEU", "USA", "IND", "CHN", "GBR", "bra", "fra "]
REGIONS = ["eu-west-3", "us-east-1", "europe-west3", "westeurope", "GRA11", "pl-waw"]
DEVICES = ["smartphone", "laptop", "desktop"]
METHODS = [
    Method(),
    Method(green_hosting_factor=0.3, grid=SegmentGrid(network=250.0, data_centre="DEU")),
    Method(visit=VisitAssumptions(0.6, 0.4, 0.1), grid=SegmentGrid(user_device=MODEL_DEFAULT)),
    Method("swd-v3"),
    Method("swd-v3", green_hosting_factor=1, visit=SWD_V3_VISIT),
    Method("onebyte"),
    Method("onebyte", green_hosting_factor=1),
    Method("measured-device"),
    Method("measured-device", green_hosting_factor=1, grid=SegmentGrid(user_device="IND")),
    Method(server=ServerAllocation(Grams(5e3, 4e3, 7e3), Grams(1e3, 1e3, 1e3), 1e6)),
    Method("measured-device", server=ServerAllocation(Grams(2.0, 1.0, 3.0), ZERO, 1e12, "bytes")),
]

byte_counts = st.one_of(
    st.sampled_from([0.0, 0.5, 1.0, 1.5]),
    st.floats(0, 1e12, allow_nan=False),
    st.integers(0, 10**9).map(float),
)
exec_times = st.one_of(st.just(math.nan), st.floats(0, 1e6, allow_nan=False))


@st.composite
def request_logs(draw: st.DrawFn) -> tuple[dict[str, list[Any]], Method]:
    method = draw(st.sampled_from(METHODS))
    rows = draw(st.integers(1, 80))

    def column(values: st.SearchStrategy[Any]) -> list[Any]:
        drawn: list[Any] = draw(st.lists(values, min_size=rows, max_size=rows))
        return drawn

    log: dict[str, list[Any]] = {
        "bytes": column(byte_counts),
        "client_country": column(st.sampled_from(COUNTRIES)),
    }
    if draw(st.booleans()):
        log["server_country"] = column(st.sampled_from(COUNTRIES))
    else:
        log["cloud_region"] = column(st.sampled_from(REGIONS))
    if method.model == "measured-device" or draw(st.booleans()):
        log["device"] = column(st.sampled_from(DEVICES))
        log["exec_ms"] = column(exec_times)
    if draw(st.booleans()):
        log["count"] = column(st.one_of(st.integers(0, 10**6), st.floats(0, 1e4)))
    return log, method


def assert_same(ours: EmissionResult, theirs: EmissionResult) -> None:
    assert_close(ours.total, theirs.total)
    for name in ("segments", "by_client_country", "by_server_country", "by_device"):
        mine, other = getattr(ours, name), getattr(theirs, name)
        assert mine.keys() == other.keys(), name
        for key in mine:
            assert_close(mine[key], other[key])
    for name in ("lines_by_country", "lines_by_device"):
        mine, other = getattr(ours, name), getattr(theirs, name)
        assert mine.keys() == other.keys(), name
        for line in mine:
            assert mine[line].keys() == other[line].keys(), (name, line)
            for member in mine[line]:
                assert_close(mine[line][member], other[line][member])
    assert (ours.rows, ours.rows_without_exec_ms) == (theirs.rows, theirs.rows_without_exec_ms)
    assert math.isclose(ours.requests, theirs.requests, rel_tol=REL)
    assert ours.fallback_countries == theirs.fallback_countries
    assert ours.constants == theirs.constants


def assert_close(ours: Grams | SegmentEmission, theirs: Grams | SegmentEmission) -> None:
    if isinstance(ours, SegmentEmission) and isinstance(theirs, SegmentEmission):
        assert_close(ours.operational, theirs.operational)
        assert_close(ours.embodied, theirs.embodied)
        return
    for bound in ("value", "min", "max"):
        a, b = getattr(ours, bound), getattr(theirs, bound)
        assert math.isclose(a, b, rel_tol=REL, abs_tol=1e-300), (bound, a, b)


@settings(max_examples=300, deadline=None)
@given(request_logs())
def test_full_and_eco_agree(case: tuple[dict[str, list[Any]], Method]) -> None:
    log, method = case
    full = compute_emissions(log, method, GRID, path="full")
    eco = compute_emissions(log, method, GRID, path="eco")
    assert_same(eco, full)


@settings(max_examples=60, deadline=None)
@given(request_logs())
def test_full_and_eco_agree_when_keys_are_sorted_not_counted(
    case: tuple[dict[str, list[Any]], Method],
) -> None:
    log, method = case
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(grouping, "_DENSE_KEYS", 0)  # forces the np.unique branch of the eco path
        patch.setattr(grouping, "_DENSE_KEYS_PER_ROW", 0)
        eco = compute_emissions(log, method, GRID, path="eco")
    assert_same(eco, compute_emissions(log, method, GRID, path="full"))


@settings(max_examples=60, deadline=None)
@given(request_logs(), st.integers(1, 9))
def test_full_and_eco_agree_when_eco_sums_rows_in_small_chunks(
    case: tuple[dict[str, list[Any]], Method], chunk_rows: int
) -> None:
    log, method = case
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(grouping, "_CHUNK_ROWS", chunk_rows)
        eco = compute_emissions(log, method, GRID, path="eco")
    assert_same(eco, compute_emissions(log, method, GRID, path="full"))


@settings(max_examples=150, deadline=None)
@given(request_logs(), st.integers(1, 30), st.sampled_from(["full", "eco"]))
def test_chunked_equals_whole(
    case: tuple[dict[str, list[Any]], Method], chunk_rows: int, path: str
) -> None:
    log, method = case
    table = pa.table(log)
    accumulator = EmissionAccumulator(method, GRID, path=path)  # type: ignore[arg-type]
    for batch in table.to_batches(max_chunksize=chunk_rows):
        accumulator.add(batch)
    whole = compute_emissions(table, method, GRID, path=path)  # type: ignore[arg-type]
    assert_same(accumulator.result(), whole)


@pytest.mark.parametrize("path", ["full", "eco"])
@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("bytes", -2.0, "bytes: negative value -2.0 at row 3"),
        ("bytes", math.nan, "bytes: NaN or null value nan at row 3"),
        ("exec_ms", -2.0, "exec_ms: negative value -2.0 at row 3"),
    ],
)
def test_a_bad_value_past_the_first_chunk_is_named_at_its_row(
    path: str, column: str, value: float, message: str
) -> None:
    log: dict[str, list[Any]] = {"bytes": [1.0] * 5, "exec_ms": [1.0] * 5}
    log[column][3] = value
    log |= {"client_country": ["FRA"] * 5, "server_country": ["FRA"] * 5, "device": ["laptop"] * 5}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(grouping, "_CHUNK_ROWS", 2)  # the eco path checks rows two at a time
        with pytest.raises(InputError, match=message):
            compute_emissions(log, Method("measured-device"), GRID, path=path)  # type: ignore[arg-type]
