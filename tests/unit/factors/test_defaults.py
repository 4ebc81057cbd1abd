import csv
from collections import Counter

import pytest

from services.factors.defaults import (
    DATA,
    GRID_KIND,
    catalogue_rows,
    default_factors,
    ember_rows,
    kind_and_component,
)
from services.factors.domain import check_draft


@pytest.mark.parametrize(
    ("csv_kind", "source", "expected"),
    [
        ("natural_gas_gross_cv_combustion", "ADEME", ("natural_gas_gross_cv", "combustion")),
        ("electricity_td_upstream", "UK DESNZ 2024", ("electricity", "td_upstream")),
        ("electricity_td_losses", "ADEME", ("electricity", "td_losses")),
        ("electricity_location_generation", "ADEME", ("electricity", "generation")),
        ("district_heating_default", "ADEME", ("district_heating", "total")),
        ("car_average_per_vehicle_km", "UK DESNZ 2024", ("car_average_per_vehicle_km", "direct")),
        ("car_average_per_vehicle_km", "ADEME", ("car_average_per_vehicle_km", "total")),
    ],
)
def test_csv_kinds_map_to_an_activity_kind_and_a_component(
    csv_kind: str, source: str, expected: tuple[str, str]
) -> None:
    assert kind_and_component(csv_kind, source) == expected


def test_every_default_factor_passes_the_catalogue_rules() -> None:
    for factor in default_factors():
        check_draft(factor.draft)


def test_every_csv_row_is_kept_with_its_source_in_its_release() -> None:
    with (DATA / "default-factors.csv").open(newline="") as file:
        raw = list(csv.DictReader(file))
    rows = catalogue_rows()
    assert len(rows) == len(raw) == 137
    for line, factor in zip(raw, rows, strict=True):
        assert (factor.draft.source, factor.draft.source_detail) == (
            line["source"], line["source_detail"]
        )  # fmt: skip
    assert Counter(f.release for f in rows) == {
        "ademe-base-empreinte": 93, "desnz-2024": 37, "ember-2024": 5, "ademe-impact-co2": 2,
    }  # fmt: skip


def test_keys_are_unique_so_loading_twice_republishes_nothing() -> None:
    keys = [f.key for f in default_factors()]
    assert len(keys) == len(set(keys))


def test_co2js_values_agree_with_the_sourced_ember_rows() -> None:
    shipped = {f.draft.region: f.draft.kgco2e_per_unit for f in ember_rows()}
    for factor in catalogue_rows():
        if factor.release == "ember-2024":
            assert shipped[factor.draft.region] == factor.draft.kgco2e_per_unit


def test_ember_release_leaves_france_and_britain_to_ademe_and_desnz() -> None:
    released = [f for f in default_factors() if f.release == "ember-2024"]
    ember = [f for f in released if f.draft.activity_kind == "electricity"]
    regions = Counter(f.draft.region for f in ember)
    assert regions["FRA"] == regions["GBR"] == 0
    assert max(regions.values()) == 1 and {"EU", "WORLD", "DEU", "USA"} <= set(regions)
    usa = next(f for f in ember if f.draft.region == "USA").draft
    assert (usa.kgco2e_per_unit, usa.scope, usa.component) == (0.38355, 2, "generation")
    assert usa.licence == "CC BY-SA 4.0" and usa.source == "Ember via @tgwf/co2 0.19.0"


def test_the_request_grid_holds_every_co2js_country_france_and_britain_included() -> None:
    grid = {
        f.draft.region: f.draft.kgco2e_per_unit
        for f in default_factors()
        if f.draft.activity_kind == GRID_KIND
    }
    shipped = {f.draft.region: f.draft.kgco2e_per_unit for f in ember_rows()}
    assert grid == shipped
    assert grid["FRA"] == 0.04418 and "GBR" in grid
