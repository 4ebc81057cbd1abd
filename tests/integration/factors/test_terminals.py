"""The default load publishes Boavizta's terminal archetypes in release boavizta-2.5.0."""

from __future__ import annotations

from datetime import date

import pytest

from contracts import factors as c
from kernel.client import ServiceClient
from kernel.store import EventStore
from services.factors.defaults import load_defaults
from services.factors.handlers import FactorHandlers

from .conftest import VIEWER

pytestmark = pytest.mark.integration
RELEASE = "boavizta-2.5.0"


async def test_the_default_load_publishes_the_terminal_release_once(
    handlers: FactorHandlers, factors: ServiceClient, factors_store: EventStore
) -> None:
    assert (await load_defaults(handlers))[RELEASE] == 32
    head = await factors_store.head_position()
    await load_defaults(handlers)
    assert await factors_store.head_position() == head
    releases = (await factors.call(c.LIST_RELEASES, c.ListReleases(), VIEWER)).releases
    [terminals] = [r for r in releases if r.name == RELEASE]
    assert len(terminals.members) == 32
    assert "Boavizta API 2.5.0 (AGPL-3.0" in terminals.description


async def test_terminal_factors_are_found_by_release_and_text_with_their_provenance(
    handlers: FactorHandlers, factors: ServiceClient
) -> None:
    await load_defaults(handlers)
    laptops = await factors.call(c.SEARCH, c.SearchFactors(release=RELEASE, text="laptop"), VIEWER)
    assert {v.activity_kind for v in laptops.results} == {
        "device_embedded_laptop_pro", "device_embedded_laptop_pro_per_hour",
        "device_embedded_laptop_perso", "device_embedded_laptop_perso_per_hour",
    }  # fmt: skip
    assert laptops.possible_filters["source"] == [c.FacetCount(value="Boavizta API 2.5.0", count=4)]
    for view in laptops.results:
        assert view.releases == [RELEASE]
        assert "GET /v1/terminal/laptop?archetype=laptop-p" in view.values.source_detail
        assert "boavizta-2.5.0-terminals.json" in view.values.source_detail
        assert view.values.licence.startswith("AGPL-3.0")


async def test_a_terminal_factor_resolves_worldwide_from_any_site(
    handlers: FactorHandlers, factors: ServiceClient
) -> None:
    await load_defaults(handlers)
    year = (await factors.call(c.SEARCH, c.SearchFactors(release=RELEASE), VIEWER)).results[0]
    on = date(year.values.year, 6, 1)
    ask = c.ResolveFactors(
        activity_kind="device_embedded_smartphone_default", region="WORLD", on=on,
        releases=[RELEASE],
    )  # fmt: skip
    [world] = (await factors.call(c.RESOLVE, ask, VIEWER)).components
    assert (world.component, world.factor.values.kgco2e_per_unit, world.fallback) == (
        "total", 84.0, False,
    )  # fmt: skip
    # Region-independent: a French site gets the worldwide factor without asking for a
    # fallback, and it is not reported as one.
    france = ask.model_copy(update={"region": "FRA"})
    [anywhere] = (await factors.call(c.RESOLVE, france, VIEWER)).components
    assert (anywhere.region_used, anywhere.fallback) == ("WORLD", False)
    hourly = ask.model_copy(update={"activity_kind": "device_embedded_smartphone_default_per_hour"})
    [hour] = (await factors.call(c.RESOLVE, hourly, VIEWER)).components
    assert hour.factor.values.unit == "hour"
    assert hour.factor.values.kgco2e_per_unit * 21900 == pytest.approx(84.0, rel=1e-12)
