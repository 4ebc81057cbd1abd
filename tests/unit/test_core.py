"""The per-request core: calibration values, methods, breakdowns, constants, bad input."""

from __future__ import annotations

import math
import subprocess
import sys
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from services.compute import grouping
from services.compute.core import EmissionAccumulator, InputError, compute_emissions
from services.compute.grid import (
    EMBER_CO2JS_0_19,
    REGION_COUNTRY,
    GridIntensities,
    UnknownCountryError,
    UnknownRegionError,
    region_country,
)
from services.compute.methods import MODEL_DEFAULT, EmissionResult, Method, SegmentGrid
from services.compute.methods.device import BOAVIZTA_TERMINALS

GLOBAL = SegmentGrid(MODEL_DEFAULT, MODEL_DEFAULT, MODEL_DEFAULT)
GB = 1e9


def one_gb(method: Method, client: str = "FRA", server: str = "FRA", **extra: Any) -> float:
    columns = {"bytes": [GB], "client_country": [client], "server_country": [server], **extra}
    return compute_emissions(columns, method, EMBER_CO2JS_0_19).total.value


def approx(value: float) -> Any:
    return pytest.approx(value, rel=1e-12)


# --- calibration values of METHODS §1 (co2.js 0.19.0) -------------------------------------


def test_swd_v4_defaults_give_148_2_g_per_gb() -> None:
    assert one_gb(Method("swd-v4", grid=GLOBAL)) == approx(148.2)


def test_swd_v4_green_hosting_gives_121_03_g_per_gb() -> None:
    assert one_gb(Method("swd-v4", green_hosting_factor=1.0, grid=GLOBAL)) == approx(121.03)


def test_swd_v3_defaults_give_383_0814_g_per_gb() -> None:
    assert one_gb(Method("swd-v3", grid=GLOBAL)) == approx(383.0814)


def test_swd_v4_device_ind_data_centre_fra_gives_140_6567_g() -> None:
    by_code = SegmentGrid(user_device="IND", network=MODEL_DEFAULT, data_centre="FRA")
    by_number = SegmentGrid(user_device=708.96, network=MODEL_DEFAULT, data_centre=44.18)
    assert one_gb(Method(grid=by_code)) == approx(140.6567)
    assert one_gb(Method(grid=by_number)) == approx(140.6567)


def test_piano_grid_takes_device_from_client_and_data_centre_from_server() -> None:
    method = Method(grid=SegmentGrid(network=MODEL_DEFAULT))
    assert one_gb(method, client="IND", server="FRA") == approx(140.6567)


def test_onebyte_grey_and_green() -> None:
    network = (4.29e-10 + 1.52e-10 + 8.84e-10) / 3
    assert one_gb(Method("onebyte")) == approx(GB * (7.2e-11 + network) * 519)
    assert one_gb(Method("onebyte", green_hosting_factor=1)) == approx(GB * network * 475)


def test_swd_v4_segments_at_global_intensity() -> None:
    result = compute_emissions(
        {"bytes": [GB], "client_country": ["FRA"], "server_country": ["FRA"]},
        Method(grid=GLOBAL),
        EMBER_CO2JS_0_19,
    )
    expected = {"data_centre": (27.17, 5.928), "network": (29.146, 6.422)}
    expected["user_device"] = (39.52, 40.014)
    for segment, (operational, embodied) in expected.items():
        assert result.segments[segment].operational.value == approx(operational)
        assert result.segments[segment].embodied.value == approx(embodied)


def test_swd_v4_embodied_stays_at_494_whatever_the_grid() -> None:
    clean = Method(grid=SegmentGrid(0.0, 0.0, 0.0))
    assert one_gb(clean) == approx(0.106 * 494)


def test_partial_green_hosting_scales_data_centre_operational_only() -> None:
    assert one_gb(Method(grid=GLOBAL, green_hosting_factor=0.25)) == approx(148.2 - 0.25 * 27.17)


# --- count and the one-byte floor ---------------------------------------------------------


def test_count_multiplies_a_request() -> None:
    columns = {"bytes": [GB, 0.5], "count": [3, 1000], "client_country": ["FRA", "FRA"]}
    result = compute_emissions(
        columns | {"server_country": ["FRA", "FRA"]}, Method(grid=GLOBAL), EMBER_CO2JS_0_19
    )
    assert result.total.value == approx(3 * 148.2)  # 1000 requests of half a byte emit nothing
    assert result.requests == 1003
    assert result.rows == 2


def test_swd_v3_per_visit_has_no_one_byte_floor_like_co2js() -> None:
    from services.compute.methods import SWD_V3_VISIT

    method = Method("swd-v3", grid=GLOBAL, visit=SWD_V3_VISIT)
    result = compute_emissions(
        {"bytes": [0.5], "client_country": ["FRA"], "server_country": ["FRA"]},
        method,
        EMBER_CO2JS_0_19,
    )
    assert result.total.value == approx(0.5 / GB * 383.0814 * 0.755)


# --- grid intensities -----------------------------------------------------------------------


def test_a_missing_country_is_an_error_naming_it() -> None:
    with pytest.raises(UnknownCountryError, match="'BRA'"):
        one_gb(Method(), client="BRA")


def test_a_missing_country_falls_back_to_the_model_global_intensity_when_allowed() -> None:
    grid = GridIntensities(EMBER_CO2JS_0_19.by_country, "test", allow_fallback=True)
    columns = {"bytes": [GB], "client_country": ["BRA"], "server_country": ["BRA"]}
    v4 = compute_emissions(columns, Method(), grid)
    v3 = compute_emissions(columns, Method("swd-v3"), grid)
    assert v4.total.value == approx(148.2)
    assert v3.total.value == approx(383.0814)
    assert v4.fallback_countries == ("BRA",)
    assert v4.constants["fallback_grid_intensity"] == 494.0
    assert "BRA" not in v4.constants["grid_intensity"]


def test_green_swd_v3_does_not_need_the_server_country_intensity() -> None:
    green = Method("swd-v3", green_hosting_factor=1, grid=SegmentGrid(MODEL_DEFAULT, MODEL_DEFAULT))
    assert one_gb(green, server="BRA") == approx(GB / GB * 0.81 * (0.85 * 472.94 + 0.15 * 50))


def test_cloud_regions_map_to_countries() -> None:
    assert region_country("eu-west-3") == "FRA"
    assert region_country("West Europe") == "NLD"
    assert region_country("GRA11") == "FRA"
    assert region_country("europe-west9") == "FRA"
    assert region_country("fr-par-2") == "FRA"
    assert len(REGION_COUNTRY) > 150
    with pytest.raises(UnknownRegionError, match="'mars-north-1'"):
        region_country("mars-north-1")


def test_cloud_region_column_gives_the_server_country() -> None:
    columns = {"bytes": [GB, GB], "client_country": ["FRA", "FRA"]}
    columns["cloud_region"] = ["eu-west-3", "francecentral"]
    result = compute_emissions(columns, Method(), EMBER_CO2JS_0_19)
    assert list(result.by_server_country) == ["FRA"]
    assert result.constants["segment_grid_intensity"]["data_centre"] == "server_country"


# --- measured-device --------------------------------------------------------------------------


def test_measured_device_laptop_by_hand() -> None:
    columns = {
        "bytes": [GB],
        "client_country": ["FRA"],
        "server_country": ["DEU"],
        "device": ["laptop"],
        "exec_ms": [3_600_000.0],  # one hour
    }
    result = compute_emissions(columns, Method("measured-device"), EMBER_CO2JS_0_19)
    device = result.segments["user_device"]
    assert device.operational.value == approx(0.075 * 44.18)
    assert device.operational.min == approx(0.050 * 44.18)
    assert device.operational.max == approx(0.100 * 44.18)
    assert device.embodied.value == approx(181_000 / 35_040)
    swd = compute_emissions(columns, Method(), EMBER_CO2JS_0_19)
    for segment in ("network", "data_centre"):
        assert result.segments[segment] == swd.segments[segment]
    assert result.total.min < result.total.value < result.total.max


def test_measured_device_rows_without_exec_ms_have_no_device_segment_and_are_counted() -> None:
    columns = {
        "bytes": [0.0, 0.0],
        "client_country": ["FRA", "FRA"],
        "server_country": ["FRA", "FRA"],
        "device": ["smartphone", "desktop"],
        "exec_ms": pa.array([1000.0, None]),
    }
    result = compute_emissions(columns, Method("measured-device"), EMBER_CO2JS_0_19)
    assert result.rows_without_exec_ms == 1
    assert set(result.by_device) == {"smartphone", "desktop"}
    assert result.by_device["desktop"].value == 0
    phone = BOAVIZTA_TERMINALS["smartphone"]
    hour = 1000 / 3.6e6
    expected = hour * (phone.power_w / 1000 * 44.18 + phone.embodied_g_per_hour)
    assert result.total.value == approx(expected)


@pytest.mark.parametrize("missing", ["device", "exec_ms"])
def test_measured_device_needs_device_and_exec_ms(missing: str) -> None:
    columns = {"bytes": [1.0], "client_country": ["FRA"], "server_country": ["FRA"]}
    columns |= {"device": ["laptop"], "exec_ms": [1.0]}
    del columns[missing]
    with pytest.raises(InputError, match=f"{missing}: missing column"):
        compute_emissions(columns, Method("measured-device"), EMBER_CO2JS_0_19)


def test_tablets_break_swd_down_but_measured_device_needs_their_figures() -> None:
    columns = {"bytes": [GB, GB], "client_country": ["FRA"] * 2, "server_country": ["FRA"] * 2}
    columns |= {"device": ["tablet", "laptop"], "exec_ms": [1000.0, 1000.0]}
    swd = compute_emissions(columns, Method(grid=GLOBAL), EMBER_CO2JS_0_19)
    assert swd.by_device["tablet"].value == approx(148.2)
    with pytest.raises(InputError, match="device: unknown device 'tablet'"):
        compute_emissions(columns, Method("measured-device"), EMBER_CO2JS_0_19)


# --- the result ----------------------------------------------------------------------------------


def sample(method: Method) -> EmissionResult:
    columns = {
        "bytes": [1e6, 2.5e5, 7e7, 3e3],
        "client_country": ["FRA", "usa", "IND", "FRA"],
        "server_country": ["DEU", "USA", "USA", "CHN"],
        "device": ["laptop", "smartphone", "desktop", "Laptop "],
        "exec_ms": [100.0, 2000.0, 50.0, 10.0],
        "count": [1, 10, 2, 5],
    }
    return compute_emissions(columns, method, EMBER_CO2JS_0_19)


@pytest.mark.parametrize("model", ["swd-v4", "swd-v3", "onebyte", "measured-device"])
def test_breakdowns_add_up_to_the_total(model: str) -> None:
    result = sample(Method(model))  # type: ignore[arg-type]
    for part in (result.segments, result.by_client_country, result.by_server_country):
        for bound in ("value", "min", "max"):
            total = sum(getattr(getattr(g, "total", g), bound) for g in part.values())
            assert total == approx(getattr(result.total, bound))
    assert set(result.by_client_country) == {"FRA", "USA", "IND"}
    assert set(result.by_device) == {"laptop", "smartphone", "desktop"}


def test_swd_totals_carry_an_exact_range() -> None:
    total = sample(Method()).total
    assert total.min == total.value == total.max


def test_constants_name_everything_used() -> None:
    constants = sample(Method()).constants
    assert constants["model"] == "swd-v4"
    assert "co2.js 0.19.0" in constants["model_version"]
    assert constants["kwh_per_gb"]["network"] == {"operational": 0.059, "embodied": 0.013}
    assert constants["embodied_grid_intensity"] == 494.0
    assert constants["green_hosting_factor"] == 0.0
    assert constants["grid_intensity"] == {
        "CHN": 557.5, "DEU": 342.06, "FRA": 44.18, "IND": 708.96, "USA": 383.55,
    }  # fmt: skip
    assert constants["grid_intensity_source"] == "Ember via co2.js 0.19, CC BY-SA 4.0"


def test_swd_v3_reports_production_as_embodied() -> None:
    result = sample(Method("swd-v3"))
    assert set(result.segments) == {"data_centre", "network", "user_device", "production"}
    assert result.segments["production"].operational.value == 0
    assert result.segments["network"].embodied.value == 0


def test_no_device_column_reports_unspecified() -> None:
    columns = {"bytes": [GB], "client_country": ["FRA"], "server_country": ["FRA"]}
    assert list(compute_emissions(columns, Method(), EMBER_CO2JS_0_19).by_device) == ["unspecified"]


def test_arrow_table_with_dictionary_and_chunked_columns() -> None:
    chunks = [pa.array(["FRA", "IND"]).dictionary_encode(), pa.array(["usa"]).dictionary_encode()]
    table = pa.table(
        {
            "bytes": pa.chunked_array([[GB, GB], [GB]], pa.int64()),
            "client_country": pa.chunked_array(chunks),
            "server_country": pa.array(["FRA", "FRA", "FRA"], pa.large_string()),
        }
    )
    result = compute_emissions(table, Method(), EMBER_CO2JS_0_19)
    plain = {
        "bytes": [GB] * 3,
        "client_country": ["FRA", "IND", "USA"],
        "server_country": ["FRA"] * 3,
    }
    assert result == compute_emissions(plain, Method(), EMBER_CO2JS_0_19)


def test_unused_dictionary_values_are_ignored() -> None:
    countries = pa.DictionaryArray.from_arrays(pa.array([0, 0]), pa.array(["FRA", "ZZZ"]))
    columns = {"bytes": [GB, GB], "client_country": countries, "server_country": ["FRA"] * 2}
    assert list(compute_emissions(columns, Method(), EMBER_CO2JS_0_19).by_client_country) == ["FRA"]


def test_an_empty_accumulator_gives_zero() -> None:
    result = EmissionAccumulator(Method("measured-device"), EMBER_CO2JS_0_19).result()
    assert result.total.value == 0 and result.rows == 0 and result.by_client_country == {}


# --- bad input ---------------------------------------------------------------------------------

GOOD = {"bytes": [1.0, 2.0], "client_country": ["FRA", "FRA"], "server_country": ["FRA", "FRA"]}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"bytes": [1.0, -2.0]}, "bytes: negative value -2.0 at row 1"),
        ({"bytes": [float("nan"), 1.0]}, "bytes: NaN or null value nan at row 0"),
        ({"bytes": pa.array([1, None])}, "bytes: NaN or null"),
        ({"bytes": [1.0, math.inf]}, "bytes: infinite"),
        ({"bytes": ["a", "b"]}, "bytes: not numeric"),
        ({"bytes": [1.0]}, "client_country: 2 values but bytes has 1"),
        ({"client_country": ["FRA", "France"]}, "client_country: 'France' is not an ISO"),
        ({"client_country": ["FRA", None]}, "client_country: 1 null values, the first at row 1"),
        ({"client_country": [1, 2]}, "client_country: expected text"),
        ({"count": [1, -1]}, "count: negative"),
        ({"device": ["laptop", "fridge"]}, "device: unknown device 'fridge'"),
        ({"cloud_region": ["eu-west-3", "eu-west-3"]}, "give exactly one of these two columns"),
    ],
)
def test_bad_input_names_the_column_and_the_reason(change: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=message.replace("(", r"\(")):
        compute_emissions(GOOD | change, Method(), EMBER_CO2JS_0_19)


@pytest.mark.parametrize("path", ["full", "eco"])
@pytest.mark.parametrize(
    ("column", "values", "row"),
    [("bytes", [1.0, math.inf], 1), ("count", [math.inf, 1], 0), ("exec_ms", [1.0, math.inf], 1)],
)
def test_an_infinite_value_is_named_by_either_path(
    path: str, column: str, values: list[float], row: int
) -> None:
    columns = GOOD | {"device": ["laptop"] * 2, "exec_ms": [1.0, 1.0], column: values}
    with pytest.raises(InputError, match=f"{column}: infinite value inf at row {row}"):
        compute_emissions(columns, Method("measured-device"), EMBER_CO2JS_0_19, path=path)  # type: ignore[arg-type]


@pytest.mark.parametrize("missing", ["bytes", "client_country", "server_country"])
def test_a_missing_column_is_named(missing: str) -> None:
    columns = {k: v for k, v in GOOD.items() if k != missing}
    with pytest.raises(InputError, match=missing):
        compute_emissions(columns, Method(), EMBER_CO2JS_0_19)


def test_an_unknown_cloud_region_is_named() -> None:
    columns = {k: v for k, v in GOOD.items() if k != "server_country"}
    with pytest.raises(UnknownRegionError, match="'nowhere-1'"):
        compute_emissions(columns | {"cloud_region": ["nowhere-1"] * 2}, Method(), EMBER_CO2JS_0_19)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"green_hosting_factor": 1.5},
        {"model": "swd-v3", "green_hosting_factor": 0.5},
        {"model": "onebyte", "grid": SegmentGrid(network=100.0)},
        {"model": "swd-v5"},
        {"grid": SegmentGrid(network=-1.0)},
    ],
)
def test_invalid_methods_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="method: "):
        Method(**kwargs)


def test_the_core_imports_no_io() -> None:
    code = (
        "import sys, services.compute.core; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'sqlalchemy', 'asyncpg', 'nats', 'fastapi', 'httpx', 'kernel'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_numpy_inputs_work_too() -> None:
    columns = {
        "bytes": np.array([GB, GB]),
        "client_country": np.array(["FRA", "DEU"]),
        "server_country": np.array(["FRA", "FRA"], dtype=object),
    }
    assert compute_emissions(columns, Method(), EMBER_CO2JS_0_19).rows == 2


def test_dictionaries_too_wide_to_group_are_refused_by_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(grouping, "_MAX_KEY_SPACE", 100)  # 2**63 takes millions of values
    codes = pa.array(np.zeros(2, dtype=np.int32))
    spellings = pa.array(["FRA", *(str(i) for i in range(1, 30))])  # only FRA is used
    columns: dict[str, Any] = {
        "bytes": [1.0, 2.0],
        "client_country": pa.DictionaryArray.from_arrays(codes, spellings),
        "server_country": pa.DictionaryArray.from_arrays(codes, pa.array(["FRA", "DEU"])),
        "device": pa.DictionaryArray.from_arrays(codes, pa.array(["laptop", "desktop"])),
    }
    with pytest.raises(InputError, match="client_country: 30 distinct values"):
        compute_emissions(columns, Method(), EMBER_CO2JS_0_19)
