from datetime import date
from uuid import uuid4

import pytest

from contracts.inventory import ActivityInput, CorrectActivity, RetractActivity
from kernel.errors import RequestRefused
from services.inventory.domain import (
    ActivityState,
    Problem,
    check_activity,
    check_batch,
    decide_correction,
    decide_retraction,
)

GOOD = {
    "kind": "electricity",
    "quantity": 120.5,
    "unit": "MWh",
    "period_start": "2025-01-01",
    "period_end": "2025-02-01",
    "site": "paris-hq",
    "region": "FRA",
}


def problems(**changes: object) -> list[Problem]:
    found = check_activity({**GOOD, **changes})
    assert isinstance(found, list)
    return found


def test_a_good_activity_passes_and_keeps_its_unit() -> None:
    found = check_activity(GOOD)
    assert isinstance(found, ActivityInput)
    assert (found.quantity, found.unit, found.period_end) == (120.5, "MWh", date(2025, 2, 1))


def test_zero_is_a_quantity_but_a_negative_one_is_not() -> None:
    assert isinstance(check_activity({**GOOD, "quantity": 0}), ActivityInput)
    assert problems(quantity=-1) == [Problem("quantity", "must be >= 0, got -1.0")]


def test_a_unit_of_the_wrong_dimension_says_which_one_was_expected() -> None:
    [problem] = problems(unit="km")
    assert problem.field == "unit"
    assert "[length]" in problem.reason and "kWh" in problem.reason
    assert "[mass] * [length] ** 2 / [time] ** 2" in problem.reason


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"kind": "teleportation"}, "kind", "unknown activity kind 'teleportation'"),
        ({"unit": "furlongz"}, "unit", "unknown unit 'furlongz'"),
        ({"period_end": "2025-01-01"}, "period_end", "must be after period_start"),
        ({"region": "France"}, "region", "ISO 3166 alpha-3"),
        ({"region": "XYZ"}, "region", "'XYZ' is not an ISO 3166-1 alpha-3 country code"),
        ({"quantity": "lots"}, "quantity", "valid number"),
        ({"period_start": "yesterday"}, "period_start", "valid date"),
        ({"site": ""}, "site", "at least 1 character"),
        ({"colour": "green"}, "colour", "Extra inputs"),
        ({"attributes": {"x": "y" * 5000}}, "attributes", "more than 4096"),
        ({"attributes": [1, 2]}, "attributes", "valid dictionary"),
    ],
)
def test_each_bad_field_is_named_with_its_reason(changes, field, words) -> None:
    found = problems(**changes)
    assert found[0].field == field
    assert words in found[0].reason


def test_sub_national_regions_are_accepted() -> None:
    assert isinstance(check_activity({**GOOD, "region": "GBR-LND"}), ActivityInput)


def test_a_batch_lists_rejected_items_by_index_and_fills_defaults() -> None:
    items: list[dict[str, object]] = [
        {"quantity": 1},
        {"quantity": 2, "unit": "km"},
        {"quantity": 3, "site": "lyon"},
    ]
    defaults = {k: v for k, v in GOOD.items() if k != "quantity"}
    result = check_batch(items, defaults)
    assert [(i, a.site) for i, a in result.accepted] == [(0, "paris-hq"), (2, "lyon")]
    assert [(r.index, r.field) for r in result.rejected] == [(1, "unit")]


def state(status: str = "recorded") -> ActivityState:
    return ActivityState(uuid4(), "electricity", status, 1)  # type: ignore[arg-type]


def correction(**changes: object) -> CorrectActivity:
    fields = {"quantity": 5, "unit": "kWh", "period_start": date(2025, 1, 1)}
    fields |= {"period_end": date(2025, 2, 1), "reason": "meter re-read"}
    return CorrectActivity(activity_id=uuid4(), **(fields | changes))


def test_a_correction_is_checked_like_a_new_activity() -> None:
    assert decide_correction(state(), correction()).quantity == 5
    with pytest.raises(RequestRefused) as refused:
        decide_correction(state(), correction(unit="km"))
    assert (refused.value.code, refused.value.field) == ("invalid_unit", "unit")


def test_a_retracted_activity_can_be_neither_corrected_nor_retracted() -> None:
    with pytest.raises(RequestRefused, match="retracted and cannot be corrected"):
        decide_correction(state("retracted"), correction())
    with pytest.raises(RequestRefused, match="retracted and cannot be retracted") as refused:
        decide_retraction(state("retracted"), RetractActivity(activity_id=uuid4(), reason="x"))
    assert refused.value.code == "activity_retracted"
