from datetime import UTC, date, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from contracts.factors import FactorValues, FactorView
from services.factors.resolution import region_chain, resolve

ON = date(2024, 6, 1)


def view(
    factor_id: str = "f1",
    *,
    component: Any = "generation",
    region: str = "FRA",
    valid_from: date = date(2024, 1, 1),
    valid_until: date | None = None,
    version: int = 1,
    latest: int | None = None,
    tenant: str = "global",
    releases: tuple[str, ...] = (),
    retired_from: date | None = None,
    kind: str = "electricity",
) -> FactorView:
    values = FactorValues(
        unit="kWh", kgco2e_per_unit=0.1, region=region, valid_from=valid_from,
        valid_until=valid_until, scope=2, source="test", licence="test", year=2024,
    )  # fmt: skip
    return FactorView(
        factor_id=factor_id, version=version, latest_version=latest or version,
        tenant_id=tenant, activity_kind=kind, component=component, values=values,
        retired_from=retired_from, recorded_at=datetime(2024, 1, 1, tzinfo=UTC),
        releases=list(releases),
    )  # fmt: skip


def run(candidates: list[FactorView], **options: Any) -> Any:
    arguments: dict[str, Any] = {
        "activity_kind": "electricity", "region": "FRA", "on": ON, "tenant_id": "acme",
    }  # fmt: skip
    return resolve(candidates, **(arguments | options))


def picked(resolution: Any) -> dict[str, str]:
    return {c.component: c.factor.factor_id for c in resolution.components}


def test_one_version_per_component_at_the_exact_region() -> None:
    found = run([view("gen"), view("up", component="upstream"), view("de", region="DEU")])
    assert picked(found) == {"generation": "gen", "upstream": "up"}
    assert not any(c.fallback or c.out_of_validity for c in found.components)
    assert found.unresolved is None


def test_no_region_match_without_fallback_is_unresolved_with_a_reason() -> None:
    found = run([view(region="WORLD")])
    assert found.components == []
    assert (
        found.unresolved
        and "FRA" in found.unresolved
        and "fallback not allowed" in found.unresolved
    )


def test_fallback_goes_sub_national_country_eu_world_int_and_is_reported() -> None:
    assert region_chain("GBR-LND", True) == ["GBR-LND", "GBR", "WORLD", "INT"]
    assert region_chain("DEU", True) == ["DEU", "EU", "WORLD", "INT"]
    assert region_chain("DEU", False) == ["DEU"]
    found = run([view("w", region="WORLD"), view("eu", region="EU")], allow_fallback=True)
    only = found.components[0]
    assert (only.factor.factor_id, only.region_used, only.fallback) == ("eu", "EU", True)


def test_the_tenants_own_factor_replaces_the_global_one_per_component() -> None:
    found = run([view("g"), view("mine", tenant="acme"), view("up", component="upstream")])
    assert picked(found) == {"generation": "mine", "upstream": "up"}


def test_other_tenants_factors_are_invisible() -> None:
    assert run([view(tenant="other")]).unresolved


def test_the_latest_validity_start_covering_the_date_wins() -> None:
    old, new = view("2023", valid_from=date(2023, 1, 1)), view("2024")
    assert picked(run([old, new])) == {"generation": "2024"}
    assert picked(run([old, new], on=date(2023, 6, 1))) == {"generation": "2023"}


def test_without_cover_the_most_recent_ended_one_is_flagged_out_of_validity() -> None:
    ended = view("ended", valid_from=date(2020, 1, 1), valid_until=date(2021, 1, 1))
    older = view("older", valid_from=date(2019, 1, 1), valid_until=date(2020, 1, 1))
    later = view("later", valid_from=date(2030, 1, 1))
    found = run([older, ended, later])
    assert picked(found) == {"generation": "ended"}
    assert found.components[0].out_of_validity


def test_with_nothing_before_the_date_the_earliest_later_one_is_flagged() -> None:
    found = run([view("a", valid_from=date(2025, 1, 1)), view("b", valid_from=date(2026, 1, 1))])
    assert picked(found) == {"generation": "a"} and found.components[0].out_of_validity


def test_retired_factors_stop_applying_from_their_retirement() -> None:
    gone = view("gone", retired_from=ON)
    assert run([gone]).unresolved
    assert picked(run([gone], on=date(2024, 5, 31))) == {"generation": "gone"}


def test_without_releases_only_latest_versions_count() -> None:
    v1, v2 = view("f", version=1, latest=2), view("f", version=2)
    assert run([v1, v2]).components[0].factor.version == 2


def test_releases_select_the_versions_they_hold() -> None:
    v1 = view("f", version=1, latest=2, releases=("r1",))
    v2 = view("f", version=2, releases=("r2",))
    assert run([v1, v2], releases=["r1"]).components[0].factor.version == 1
    assert run([v1, v2], releases=["r1", "r2"]).components[0].factor.version == 2
    assert "r3" in run([v1, v2], releases=["r3"]).unresolved


def test_ties_go_to_the_highest_version_then_the_factor_id() -> None:
    a, b = view("a", version=1), view("b", version=3)
    assert picked(run([a, b])) == {"generation": "b"}
    assert picked(run([view("a"), view("b")])) == {"generation": "b"}


regions = st.sampled_from(["FRA", "DEU", "GBR", "GBR-LND", "EU", "WORLD", "INT"])
days = st.dates(min_value=date(2018, 1, 1), max_value=date(2030, 1, 1))
candidate = st.builds(
    view,
    factor_id=st.sampled_from(["a", "b", "c", "d"]),
    component=st.sampled_from(["generation", "upstream", "td_losses"]),
    region=regions,
    valid_from=days,
    version=st.integers(1, 3),
    tenant=st.sampled_from(["global", "acme", "other"]),
    retired_from=st.none() | days,
)


# A catalogue holds each (factor id, version) once: draw candidates unique on that identity.
catalogue = st.lists(candidate, max_size=12, unique_by=lambda v: (v.factor_id, v.version))


@given(catalogue, regions, days, st.booleans(), st.randoms())
def test_resolution_is_deterministic_and_well_formed(
    candidates: list[FactorView], region: str, on: date, fallback: bool, rnd: Any
) -> None:
    first = run(candidates, region=region, on=on, allow_fallback=fallback)
    shuffled = list(candidates)
    rnd.shuffle(shuffled)
    assert run(shuffled, region=region, on=on, allow_fallback=fallback) == first
    components = [c.component for c in first.components]
    assert len(components) == len(set(components))
    assert bool(first.components) != bool(first.unresolved)
    chain = region_chain(region, fallback)
    for c in first.components:
        assert c.region_used in chain and c.fallback == (c.region_used != region)
        assert c.factor.tenant_id in ("global", "acme")
        assert c.factor.retired_from is None or on < c.factor.retired_from
        assert c.out_of_validity != (c.factor.values.valid_from <= on)


def test_a_region_independent_kind_finds_its_worldwide_factor_without_fallback() -> None:
    kind = "device_embedded_laptop_pro"
    world = view("world", region="WORLD", kind=kind)
    found = run([world], activity_kind=kind)
    assert picked(found) == {"generation": "world"}
    assert [(c.region_used, c.fallback) for c in found.components] == [("WORLD", False)]
    local = view("local", region="FRA", kind=kind)  # a country's own factor still comes first
    assert picked(run([world, local], activity_kind=kind)) == {"generation": "local"}
