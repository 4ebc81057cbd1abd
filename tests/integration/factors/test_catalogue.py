from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from contracts import factors as c
from kernel.client import ServiceClient
from kernel.endpoints import CallContext
from kernel.errors import RemoteError

from .conftest import ACME_ADMIN, ADMIN, VIEWER, electricity

pytestmark = pytest.mark.integration


async def publish(svc: ServiceClient, ctx: CallContext = ADMIN, **changes: Any) -> str:
    accepted = await svc.call(c.PUBLISH, c.PublishFactor(factor=electricity(**changes)), ctx)
    assert accepted.version == 1
    return accepted.factor_id


async def test_publish_get_revise_retire_keeps_every_version_readable(
    factors: ServiceClient,
) -> None:
    factor_id = await publish(factors)
    first = await factors.call(c.GET, c.GetFactor(factor_id=factor_id), VIEWER)
    assert (first.version, first.values.kgco2e_per_unit) == (1, 0.035)
    assert first.values.min_kgco2e_per_unit == pytest.approx(0.0315)
    values = electricity(kgco2e_per_unit=0.036).model_dump(exclude={"activity_kind", "component"})
    revise = c.ReviseFactor(
        factor_id=factor_id, expected_version=1, values=c.FactorValues(**values), reason="erratum"
    )
    assert (await factors.call(c.REVISE, revise, ADMIN)).version == 2
    latest = await factors.call(c.GET, c.GetFactor(factor_id=factor_id), VIEWER)
    old = await factors.call(c.GET, c.GetFactor(factor_id=factor_id, version=1), VIEWER)
    assert (latest.version, latest.values.kgco2e_per_unit, latest.latest_version) == (2, 0.036, 2)
    assert (old.version, old.values.kgco2e_per_unit) == (1, 0.035)
    retire = c.RetireFactor(
        factor_id=factor_id, expected_version=2, retired_from=date(2025, 1, 1), reason="old"
    )
    await factors.call(c.RETIRE, retire, ADMIN)
    gone = await factors.call(c.GET, c.GetFactor(factor_id=factor_id), VIEWER)
    assert gone.retired_from == date(2025, 1, 1)
    with pytest.raises(RemoteError) as refused:
        await factors.call(c.RETIRE, retire, ADMIN)
    assert (refused.value.code, refused.value.field) == ("factor_retired", "factor_id")


async def test_as_of_answers_with_the_catalogue_known_then(factors: ServiceClient) -> None:
    factor_id = await publish(factors)
    between = datetime.now(UTC)
    values = electricity(kgco2e_per_unit=0.04).model_dump(exclude={"activity_kind", "component"})
    revise = c.ReviseFactor(
        factor_id=factor_id, expected_version=1, values=c.FactorValues(**values), reason="new"
    )
    await factors.call(c.REVISE, revise, ADMIN)
    then = await factors.call(c.GET, c.GetFactor(factor_id=factor_id, as_of=between), VIEWER)
    assert (then.version, then.latest_version) == (1, 1)
    before = datetime(2000, 1, 1, tzinfo=UTC)
    with pytest.raises(RemoteError) as refused:
        await factors.call(c.GET, c.GetFactor(factor_id=factor_id, as_of=before), VIEWER)
    assert (refused.value.code, refused.value.field) == ("not_found", "factor_id")
    ask = c.ResolveFactors(activity_kind="electricity", region="FRA", on=date(2024, 5, 1))
    at_between = await factors.call(c.RESOLVE, ask.model_copy(update={"as_of": between}), VIEWER)
    assert at_between.components[0].factor.version == 1
    assert (await factors.call(c.RESOLVE, ask, VIEWER)).components[0].factor.version == 2


async def test_resolve_with_and_without_fallback(factors: ServiceClient) -> None:
    await publish(factors, component="generation", region="EU", kgco2e_per_unit=0.2)
    await publish(
        factors, component="upstream", scope=3, category=3, region="FRA", kgco2e_per_unit=0.01
    )
    ask = c.ResolveFactors(activity_kind="electricity", region="DEU", on=date(2024, 5, 1))
    strict = await factors.call(c.RESOLVE, ask, VIEWER)
    assert strict.components == [] and "fallback not allowed" in (strict.unresolved or "")
    wide = await factors.call(c.RESOLVE, ask.model_copy(update={"allow_fallback": True}), VIEWER)
    [generation] = wide.components
    assert (generation.region_used, generation.fallback) == ("EU", True)
    france = await factors.call(c.RESOLVE, ask.model_copy(update={"region": "FRA"}), VIEWER)
    assert [p.component for p in france.components] == ["upstream"]


async def test_a_tenants_own_factor_wins_for_that_tenant_only(factors: ServiceClient) -> None:
    await publish(factors)
    own = await publish(factors, ACME_ADMIN, kgco2e_per_unit=0.05)
    ask = c.ResolveFactors(activity_kind="electricity", region="FRA", on=date(2024, 5, 1))
    assert (await factors.call(c.RESOLVE, ask, VIEWER)).components[0].factor.factor_id == own
    other = CallContext(tenant_id="other", role="viewer")
    assert (await factors.call(c.RESOLVE, ask, other)).components[0].factor.factor_id != own
    with pytest.raises(RemoteError) as refused:
        await factors.call(c.GET, c.GetFactor(factor_id=own), other)
    assert refused.value.code == "not_found"


async def test_releases_pin_versions_and_resolution_can_use_them(factors: ServiceClient) -> None:
    factor_id = await publish(factors)
    release = c.PublishRelease(
        name="test-2024", members=[c.ReleaseMember(factor_id=factor_id, version=1)]
    )
    view = await factors.call(c.PUBLISH_RELEASE, release, ADMIN)
    assert (view.name, len(view.members)) == ("test-2024", 1)
    listed = await factors.call(c.LIST_RELEASES, c.ListReleases(), VIEWER)
    assert [r.name for r in listed.releases] == ["test-2024"]
    with pytest.raises(RemoteError) as refused:
        await factors.call(c.PUBLISH_RELEASE, release, ADMIN)
    assert (refused.value.code, refused.value.field) == ("release_exists", "name")
    ask = c.ResolveFactors(
        activity_kind="electricity", region="FRA", on=date(2024, 5, 1), releases=["test-2024"]
    )
    assert (await factors.call(c.RESOLVE, ask, VIEWER)).components[0].factor.factor_id == factor_id
    with pytest.raises(RemoteError) as refused:
        await factors.call(c.RESOLVE, ask.model_copy(update={"releases": ["nope"]}), VIEWER)
    assert (refused.value.code, refused.value.field) == ("unknown_release", "releases.0")


async def test_search_filters_pages_and_counts_facets(factors: ServiceClient) -> None:
    await publish(factors)
    await publish(factors, region="DEU", source="Ember", kgco2e_per_unit=0.34)
    await publish(factors, component="upstream", scope=3, category=3)
    everything = await factors.call(c.SEARCH, c.SearchFactors(page_size=2), VIEWER)
    assert (everything.total, len(everything.results)) == (3, 2)
    regions = {f.value: f.count for f in everything.possible_filters["region"]}
    assert regions == {"FRA": 2, "DEU": 1}
    by_text = await factors.call(c.SEARCH, c.SearchFactors(text="ember"), VIEWER)
    assert [r.values.region for r in by_text.results] == ["DEU"]
    scoped = await factors.call(c.SEARCH, c.SearchFactors(scope=3, region="FRA"), VIEWER)
    assert [r.component for r in scoped.results] == ["upstream"]
    assert scoped.possible_filters["scope"] == [c.FacetCount(value="3", count=1)]


@pytest.mark.parametrize(
    ("spec", "request_"),
    [
        (c.PUBLISH, c.PublishFactor(factor=electricity())),
        (
            c.PUBLISH_RELEASE,
            c.PublishRelease(name="x-1", members=[c.ReleaseMember(factor_id="f", version=1)]),
        ),
    ],
)
async def test_only_admins_write(factors: ServiceClient, spec: Any, request_: Any) -> None:
    with pytest.raises(RemoteError) as refused:
        await factors.call(spec, request_, VIEWER)
    assert (refused.value.code, refused.value.field) == ("forbidden", "Empreinte-Role")


@pytest.mark.parametrize(
    ("factor", "code", "field"),
    [
        ({"unit": "km"}, "unit_mismatch", "factor.unit"),
        ({"region": "France"}, "invalid_region", "factor.region"),
        ({"activity_kind": "teleport"}, "unknown_activity_kind", "factor.activity_kind"),
        ({"scope": 3}, "invalid_category", "factor.category"),
        ({"kgco2e_per_unit": -1}, "invalid_request", "factor.kgco2e_per_unit"),
    ],
)
async def test_bad_input_names_the_field(
    factors: ServiceClient, factor: dict[str, Any], code: str, field: str
) -> None:
    body = electricity().model_dump() | factor
    bad = c.PublishFactor.model_construct(factor=c.FactorDraft.model_construct(**body))
    with pytest.raises(RemoteError) as refused:
        await factors.call(c.PUBLISH, bad, ADMIN)
    assert (refused.value.code, refused.value.field) == (code, field)
    assert refused.value.message


async def test_stale_revisions_and_unknown_factors_are_refused(factors: ServiceClient) -> None:
    factor_id = await publish(factors)
    values = c.FactorValues(**electricity().model_dump(exclude={"activity_kind", "component"}))
    stale = c.ReviseFactor(factor_id=factor_id, expected_version=3, values=values, reason="x")
    with pytest.raises(RemoteError) as refused:
        await factors.call(c.REVISE, stale, ADMIN)
    assert (refused.value.code, refused.value.field) == ("version_conflict", "expected_version")
    with pytest.raises(RemoteError) as refused:
        await factors.call(c.REVISE, stale.model_copy(update={"factor_id": "factor-x"}), ADMIN)
    assert (refused.value.code, refused.value.field) == ("not_found", "factor_id")
    with pytest.raises(RemoteError) as refused:
        await factors.call(c.REVISE, stale.model_copy(update={"expected_version": 1}), ACME_ADMIN)
    assert (refused.value.code, refused.value.field) == ("not_owner", "factor_id")


async def test_a_retried_publish_returns_the_first_factor(factors: ServiceClient) -> None:
    request = c.PublishFactor(factor=electricity(), idempotency_key="pub-1")
    first = await factors.call(c.PUBLISH, request, ADMIN)
    assert await factors.call(c.PUBLISH, request, ADMIN) == first
    reused = request.model_copy(update={"factor": electricity(kgco2e_per_unit=1.0)})
    with pytest.raises(RemoteError) as refused:
        await factors.call(c.PUBLISH, reused, ADMIN)
    assert (refused.value.code, refused.value.field) == (
        "idempotency_key_reused",
        "idempotency_key",
    )
    page = await factors.call(c.SEARCH, c.SearchFactors(), VIEWER)
    assert page.total == 1
