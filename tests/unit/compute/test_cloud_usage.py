from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest

from services.compute.cloud_usage import cloud_outcome
from services.compute.domain import ActivityState
from services.factors.defaults import cloud_release

RELEASE = cloud_release()


def usage(quantity: float = 1.0, unit: str = "hour", **attributes: object) -> ActivityState:
    attrs = {"provider": "aws", "instance_type": "m5.xlarge", "load_percent": 50, **attributes}
    return ActivityState(
        activity_id=uuid4(),
        tenant_id="acme",
        kind="cloud_instance_usage",
        quantity=quantity,
        unit=unit,
        period_start=date(2024, 1, 1),
        period_end=date(2024, 2, 1),
        site="eu-west-3",
        region="FRA",
        event_id=uuid4(),
        stream_version=1,
        attributes=attrs,
    )


def test_an_instance_hour_gives_the_methods_calibration_figures() -> None:
    emission = cloud_outcome(usage(), RELEASE)
    assert not isinstance(emission, str)
    use, embedded = emission.lines
    # METHODS §3: aws m5.xlarge, France, 50 % load, 1 hour: use 0.0022140 kg, embedded 9.134e-4.
    assert use.kg.value == pytest.approx(0.0022140, rel=5e-3)
    assert embedded.kg.value == pytest.approx(9.134e-4, rel=5e-3)
    assert emission.total.value == pytest.approx(use.kg.value + embedded.kg.value)
    assert {(line.scope, line.category) for line in emission.lines} == {(3, 1)}
    assert emission.post == "cloud" and emission.method.name == "boavizta-cloud"
    assert emission.method.constants["power_w"]["value"] == pytest.approx(22.592, rel=5e-3)
    assert use.factor is not None and use.factor.factor_id.endswith("aws:m5.xlarge")


def test_time_units_convert_and_what_is_missing_is_said() -> None:
    minutes = cloud_outcome(usage(quantity=120, unit="minute"), RELEASE)
    hours = cloud_outcome(usage(quantity=2), RELEASE)
    assert not isinstance(minutes, str) and not isinstance(hours, str)
    assert minutes.total.value == pytest.approx(hours.total.value)
    no_load = usage()
    no_load = ActivityState(**{**no_load.__dict__, "attributes": {"provider": "aws"}})
    assert "instance_type, load_percent" in str(cloud_outcome(no_load, RELEASE))
    assert "m5.xxlarge" in str(cloud_outcome(usage(instance_type="m5.xxlarge"), RELEASE))
    assert "no Boavizta cloud release" in str(cloud_outcome(usage(), None))
