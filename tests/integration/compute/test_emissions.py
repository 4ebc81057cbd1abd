"""Compute against real PostgreSQL and NATS: inventory's and factors' events in, emissions out.

The producers' logs are real event stores relayed to JetStream under their service names;
compute's two durable consumers, its read models and its own log run as in production.
"""

from __future__ import annotations

import hashlib
import io
import uuid
from datetime import date

import pytest

from contracts import factors as f
from contracts import inventory as inv
from contracts.compute import EVENTS as COMPUTE_EVENTS
from services.compute.core import GridIntensities, Method, compute_emissions
from services.compute.request_logs import batches
from services.factors.defaults import cloud_release
from tests.integration.compute.conftest import (
    CATALOGUE,
    LOG_CSV,
    TENANT,
    Stack,
    electricity,
    received,
    upload,
    values,
)


async def test_activities_changed_within_one_batch_are_decided_in_order(
    stack: Stack,
) -> None:
    await published_electricity_factor(stack)
    ids = [uuid.uuid4() for _ in range(3)]
    corrected = inv.ActivityCorrected(activity_id=ids[0], quantity=3, unit="MWh",
        period_start=date(2024, 1, 1), period_end=date(2024, 2, 1), reason="bill")  # fmt: skip
    news = [electricity(a, 2).to_new_event(f"activity-{a}", TENANT) for a in ids]
    news += [corrected.to_new_event(f"activity-{ids[0]}", TENANT),
             inv.ActivityRetracted(activity_id=ids[1], reason="duplicate")
             .to_new_event(f"activity-{ids[1]}", TENANT)]  # fmt: skip
    await stack.inventory.append(news)  # one append: relayed together, fetched together

    await stack.until(ids[1], lambda s: s.status == "withdrawn")
    fixed = await stack.until(ids[0], lambda s: s.version == 2)
    assert fixed.emission is not None and fixed.emission.total.value == pytest.approx(105)
    kinds = {}
    for a in ids:
        logged = await stack.compute.read_stream(f"emission-{a}")
        kinds[a] = [(e.type, COMPUTE_EVENTS.decode(e).cause.kind) for e in logged]  # type: ignore[attr-defined]
    assert kinds == {
        ids[0]: [("EmissionCalculated", "activity_recorded"),
                 ("EmissionRestated", "activity_corrected")],
        ids[1]: [("EmissionCalculated", "activity_recorded"),
                 ("EmissionWithdrawn", "activity_retracted")],
        ids[2]: [("EmissionCalculated", "activity_recorded")],
    }  # fmt: skip


async def test_a_release_restates_every_activity_of_its_kind_in_one_append(
    stack: Stack,
) -> None:
    await published_electricity_factor(stack)
    ids = [uuid.uuid4() for _ in range(5)]
    await stack.inventory.append(
        [electricity(a, 2).to_new_event(f"activity-{a}", TENANT) for a in ids]
    )
    for a in ids:
        await stack.until(a, lambda s: s.status == "calculated")
    await stack.record(
        f.ReleasePublished(release_id="r1", name="ademe-base-empreinte", description="",
                           members=[f.ReleaseMember(factor_id="elec-fra", version=1)]),
        "release-r1", CATALOGUE,
    )  # fmt: skip

    for a in ids:
        restated = await stack.until(a, lambda s: s.version == 2)
        assert restated.emission is not None
        assert restated.emission.lines[0].factor is not None
        assert restated.emission.lines[0].factor.releases == ["ademe-base-empreinte"]
        [_, last] = await stack.compute.read_stream(f"emission-{a}")
        assert (last.type, last.payload["cause"]["kind"]) == (
            "EmissionRestated",
            "release_published",
        )


async def test_an_activity_gets_its_emission_then_restatements_then_withdrawal(
    stack: Stack,
) -> None:
    await stack.record(
        f.FactorPublished(
            factor_id="elec-fra",
            activity_kind="electricity",
            component="generation",
            values=values(0.035),
        ),
        "factor-elec-fra",
        CATALOGUE,
    )
    await stack.record(
        f.ReleasePublished(
            release_id="r1",
            name="ademe-base-empreinte",
            description="",
            members=[f.ReleaseMember(factor_id="elec-fra", version=1)],
        ),
        "release-r1",
        CATALOGUE,
    )
    # The activity and factor consumers are independent: an activity applied before the
    # release would be computed from the catalogue, then restated by the release.
    await stack.until_factor("elec-fra", 1, release="ademe-base-empreinte")
    a = uuid.uuid4()
    await stack.record(electricity(a, 2), f"activity-{a}")
    first = await stack.until(a, lambda s: s.status == "calculated")
    assert first.emission is not None
    assert first.emission.total.value == pytest.approx(70)
    assert first.emission.lines[0].factor is not None
    assert (first.emission.lines[0].factor.factor_id, first.emission.lines[0].factor.version) == (
        "elec-fra",
        1,
    )

    await stack.record(
        inv.ActivityCorrected(
            activity_id=a,
            quantity=3,
            unit="MWh",
            period_start=date(2024, 1, 1),
            period_end=date(2024, 2, 1),
            reason="bill",
        ),
        f"activity-{a}",
    )
    corrected = await stack.until(
        a, lambda s: s.emission is not None and s.emission.total.value > 100
    )
    assert corrected.emission is not None and corrected.emission.total.value == pytest.approx(105)

    await stack.record(
        f.FactorRevised(factor_id="elec-fra", version=2, values=values(0.05), reason="new data"),
        "factor-elec-fra",
        CATALOGUE,
    )
    # The activity is computed from a release, which pins version 1: a revision alone
    # changes nothing until a release holds it.
    await stack.until_factor("elec-fra", 2)
    pinned = await stack.until(a, lambda s: True)
    assert pinned.emission is not None and pinned.emission.total.value == pytest.approx(105)
    await stack.record(
        f.ReleasePublished(
            release_id="r2",
            name="ademe-base-empreinte",
            description="v2",
            members=[f.ReleaseMember(factor_id="elec-fra", version=2)],
        ),
        "release-r2",
        CATALOGUE,
    )
    revised = await stack.until(
        a, lambda s: s.emission is not None and s.emission.total.value > 140
    )
    assert revised.emission is not None
    assert (
        revised.emission.lines[0].factor is not None
        and revised.emission.lines[0].factor.version == 2
    )

    await stack.record(inv.ActivityRetracted(activity_id=a, reason="duplicate"), f"activity-{a}")
    await stack.until(a, lambda s: s.status == "withdrawn")

    logged = await stack.compute.read_stream(f"emission-{a}")
    # Even when a global release caused it, a restatement belongs to the activity's tenant.
    assert {e.tenant_id for e in logged} == {"acme"}
    history = [COMPUTE_EVENTS.decode(e) for e in logged]
    kinds = [(type(e).__name__, e.cause.kind) for e in history]  # type: ignore[attr-defined]
    assert kinds == [
        ("EmissionCalculated", "activity_recorded"),
        ("EmissionRestated", "activity_corrected"),
        ("EmissionRestated", "release_published"),
        ("EmissionWithdrawn", "activity_retracted"),
    ]
    assert history[1].previous_total.value == pytest.approx(70)  # type: ignore[attr-defined]


async def test_an_unresolved_activity_waits_and_is_computed_when_its_factor_arrives(
    stack: Stack,
) -> None:
    a = uuid.uuid4()
    await stack.record(electricity(a, 1, region="DEU"), f"activity-{a}")
    waiting = await stack.until(a, lambda s: s.status == "unresolved")
    assert waiting.reason is not None and "DEU" in waiting.reason

    await stack.record(
        f.FactorPublished(
            factor_id="elec-deu",
            activity_kind="electricity",
            component="generation",
            values=values(0.342, region="DEU"),
        ),
        "factor-elec-deu",
        CATALOGUE,
    )
    done = await stack.until(a, lambda s: s.status == "calculated")
    assert done.emission is not None and done.emission.total.value == pytest.approx(342)
    events = await stack.compute.read_stream(f"emission-{a}")
    assert [e.type for e in events] == ["EmissionUnresolved", "EmissionCalculated"]
    assert events[1].causation_id is not None


async def test_a_request_log_becomes_a_product_emission_with_its_file_hash(stack: Stack) -> None:
    ember = f.FactorValues(
        unit="kWh",
        kgco2e_per_unit=0.04418,
        region="FRA",
        scope=2,
        valid_from=date(2024, 1, 1),
        source="Ember",
        licence="CC BY-SA 4.0",
        year=2024,
    )
    await stack.record(
        f.FactorPublished(
            factor_id="ember-fra",
            activity_kind="electricity_grid_average",
            component="generation",
            values=ember,
        ),
        "f-ember",
        CATALOGUE,
    )
    await stack.record(
        f.ReleasePublished(
            release_id="e",
            name="ember-2024",
            description="",
            members=[f.ReleaseMember(factor_id="ember-fra", version=1)],
        ),
        "r-ember",
        CATALOGUE,
    )
    await stack.until_factor("ember-fra", 1)
    bucket, name = await upload(stack, LOG_CSV)
    sha = hashlib.sha256(LOG_CSV).hexdigest()
    log_id, bad_id = uuid.uuid4(), uuid.uuid4()
    await stack.record(received(log_id, bucket, name, sha, len(LOG_CSV)), f"log-{log_id}")
    await stack.record(received(bad_id, bucket, name, "0" * 64, len(LOG_CSV)), f"log-{bad_id}")

    done = await stack.until(log_id, lambda s: s.status == "calculated")
    refused = await stack.until(bad_id, lambda s: s.status == "unresolved")

    grid = GridIntensities({"FRA": 44.18}, source="test", allow_fallback=True)
    rows = next(iter(batches(io.BytesIO(LOG_CSV), "csv")))
    expected = compute_emissions(rows, Method(), grid)
    assert done.emission is not None
    assert done.emission.total.value == pytest.approx(expected.total.value / 1000, rel=1e-9)
    assert done.emission.source.sha256 == sha
    assert done.emission.post == "product"
    assert set(done.emission.breakdown["by_country"]) == {"FRA", "DEU"}
    assert done.emission.breakdown["fallback_countries"] == ["DEU"]  # no DEU grid in the release
    assert refused.reason is not None and "SHA-256" in refused.reason


async def test_cloud_usage_waits_for_the_cloud_release_then_is_computed(stack: Stack) -> None:
    a = uuid.uuid4()
    cloud = inv.ActivityRecorded(
        activity_id=a,
        kind="cloud_instance_usage",
        quantity=730,
        unit="hour",
        period_start=date(2024, 1, 1),
        period_end=date(2024, 2, 1),
        site="eu-west-3",
        region="FRA",
        attributes={"provider": "aws", "instance_type": "m5.xlarge", "load_percent": 50},
    )
    await stack.record(cloud, f"activity-{a}")
    waiting = await stack.until(a, lambda s: s.status == "unresolved")
    assert waiting.reason is not None and "cloud release" in waiting.reason

    release = cloud_release()
    published = f.CloudReleasePublished(
        name=release["release"], content_sha256="test", release=release
    )
    await stack.record(published, "cloud-release", CATALOGUE)
    done = await stack.until(a, lambda s: s.status == "calculated")
    assert done.emission is not None and done.emission.post == "cloud"
    # 730 instance-hours at the METHODS calibration point: (0.0022140 + 9.134e-4) kg per hour.
    assert done.emission.total.value == pytest.approx(730 * (0.0022140 + 9.134e-4), rel=5e-3)


async def published_electricity_factor(stack: Stack) -> None:
    """Factor elec-fra (0.035 kg/kWh) published, and in compute's copy."""
    await stack.record(
        f.FactorPublished(factor_id="elec-fra", activity_kind="electricity",
                          component="generation", values=values(0.035)),
        "factor-elec-fra", CATALOGUE,
    )  # fmt: skip
    await stack.until_factor("elec-fra", 1)
