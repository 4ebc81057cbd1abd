from __future__ import annotations

from datetime import date

import nats
import pytest

from contracts import factors as c
from kernel.client import ServiceClient
from kernel.process import Wiring
from kernel.settings import Settings
from kernel.store import EventStore
from services.factors.defaults import default_factors, load_defaults
from services.factors.handlers import FactorHandlers
from services.factors.main import definition

from .conftest import VIEWER

pytestmark = pytest.mark.integration


async def test_loading_the_defaults_twice_changes_nothing(
    handlers: FactorHandlers, factors_store: EventStore
) -> None:
    counts = await load_defaults(handlers)
    assert counts == {
        "ademe-base-empreinte": 93, "ademe-impact-co2": 2, "boavizta-2.5.0": 32,
        "desnz-2024": 37,
        "ember-2024": len([f for f in default_factors() if f.release == "ember-2024"]),
    }  # fmt: skip
    head = await factors_store.head_position()
    assert head == sum(counts.values()) + len(counts)
    assert await load_defaults(handlers) == counts
    assert await factors_store.head_position() == head


async def test_the_default_releases_resolve_by_country(
    handlers: FactorHandlers, factors: ServiceClient
) -> None:
    await load_defaults(handlers)
    releases = await factors.call(c.LIST_RELEASES, c.ListReleases(), VIEWER)
    assert {r.name for r in releases.releases} >= {"ademe-base-empreinte", "desnz-2024"}
    ask = c.ResolveFactors(activity_kind="electricity", region="FRA", on=date(2024, 6, 1))
    france = await factors.call(c.RESOLVE, ask, VIEWER)
    by_component = {p.component: p.factor.values for p in france.components}
    assert {k: v.kgco2e_per_unit for k, v in by_component.items()} == {
        "generation": 0.035, "td_losses": 0.0038, "upstream": 0.0131,
    }  # fmt: skip
    assert {v.year for v in by_component.values()} == {2024}
    earlier = await factors.call(c.RESOLVE, ask.model_copy(update={"on": date(2023, 6, 1)}), VIEWER)
    assert {p.factor.values.year for p in earlier.components} == {2023}
    britain = await factors.call(c.RESOLVE, ask.model_copy(update={"region": "GBR"}), VIEWER)
    assert len(britain.components) == 4
    london = ask.model_copy(update={"region": "GBR-LND", "allow_fallback": True})
    assert {p.region_used for p in (await factors.call(c.RESOLVE, london, VIEWER)).components} == {
        "GBR"
    }
    antarctica = ask.model_copy(update={"region": "ATA", "allow_fallback": True})
    [world] = (await factors.call(c.RESOLVE, antarctica, VIEWER)).components
    assert (world.region_used, world.fallback, world.factor.values.kgco2e_per_unit) == (
        "WORLD", True, 0.47294,
    )  # fmt: skip


async def test_search_finds_the_defaults_by_release_and_text(
    handlers: FactorHandlers, factors: ServiceClient
) -> None:
    await load_defaults(handlers)
    found = await factors.call(
        c.SEARCH, c.SearchFactors(release="desnz-2024", text="hotel"), VIEWER
    )
    assert found.total == 11
    sources = found.possible_filters["source"]
    assert sources == [c.FacetCount(value="UK DESNZ 2024", count=11)]


async def test_the_service_startup_loads_the_defaults(
    factors_store: EventStore, nats_url: str
) -> None:
    nc = await nats.connect(nats_url)
    try:
        assert definition.startup is not None
        await definition.startup(Wiring(Settings(), factors_store.engine, nc, factors_store))
    finally:
        await nc.drain()
    # Every default factor, one event per release (5), and the Boavizta cloud release.
    assert await factors_store.head_position() == len(default_factors()) + 5 + 1
    [cloud] = await factors_store.read_all(types=["CloudReleasePublished"])
    assert cloud.payload["name"] == "boavizta-2.5.0-cloud"
