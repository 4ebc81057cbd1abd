from datetime import date
from typing import Any

import pytest

from contracts.factors import FactorDraft, FactorPublished, RetireFactor, ReviseFactor
from kernel.errors import RequestRefused
from services.factors.domain import check_draft, evolve, published, retire, revise


def draft(**changes: Any) -> FactorDraft:
    fields: dict[str, Any] = {
        "activity_kind": "electricity",
        "component": "generation",
        "unit": "kWh",
        "kgco2e_per_unit": 0.035,
        "region": "FRA",
        "valid_from": date(2024, 1, 1),
        "scope": 2,
        "source": "ADEME Base Carbone v23.6",
        "licence": "Licence Ouverte / Etalab 2.0",
        "year": 2024,
    }
    return FactorDraft(**(fields | changes))


def refused(**changes: Any) -> RequestRefused:
    with pytest.raises(RequestRefused) as error:
        check_draft(draft(**changes))
    return error.value


def test_a_sound_draft_passes_and_gets_its_range_from_the_uncertainty() -> None:
    checked = check_draft(draft(uncertainty_pct=10))
    assert checked.min_kgco2e_per_unit == pytest.approx(0.0315)
    assert checked.max_kgco2e_per_unit == pytest.approx(0.0385)


def test_an_uncertainty_above_100_pct_keeps_the_minimum_at_zero() -> None:
    assert check_draft(draft(uncertainty_pct=150)).min_kgco2e_per_unit == 0


def test_a_given_range_is_kept() -> None:
    checked = check_draft(draft(uncertainty_pct=10, min_kgco2e_per_unit=0.03))
    assert (checked.min_kgco2e_per_unit, checked.max_kgco2e_per_unit) == (0.03, None)


def test_any_energy_unit_fits_an_energy_kind() -> None:
    assert check_draft(draft(unit="MWh")).unit == "MWh"


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"activity_kind": "teleportation"}, "unknown_activity_kind", "factor.activity_kind"),
        ({"unit": "km"}, "unit_mismatch", "factor.unit"),
        ({"unit": "furlongz"}, "unknown_unit", "factor.unit"),
        ({"region": "France"}, "invalid_region", "factor.region"),
        ({"region": "fra"}, "invalid_region", "factor.region"),
        ({"valid_until": date(2023, 1, 1)}, "invalid_validity", "factor.valid_until"),
        ({"category": 3}, "invalid_category", "factor.category"),
        ({"scope": 3}, "invalid_category", "factor.category"),
        ({"scope": 3, "category": 16}, "invalid_category", "factor.category"),
        ({"min_kgco2e_per_unit": 0.05}, "invalid_range", "factor.min_kgco2e_per_unit"),
        ({"max_kgco2e_per_unit": 0.01}, "invalid_range", "factor.max_kgco2e_per_unit"),
        ({"gases": {"CO 2": 0.1}}, "invalid_gas", "factor.gases"),
        ({"gases": {"CH4": -0.1}}, "invalid_gas", "factor.gases"),
    ],
)
def test_bad_drafts_are_refused_naming_the_field(
    changes: dict[str, Any], code: str, field: str
) -> None:
    error = refused(**changes)
    assert (error.code, error.field) == (code, field)
    assert error.message


def test_the_unit_mismatch_says_both_dimensions() -> None:
    assert "[length]" in refused(unit="km").message


@pytest.mark.parametrize("region", ["FRA", "GBR-LND", "EU", "WORLD", "INT", "USA-CA"])
def test_regions_of_every_shape_are_accepted(region: str) -> None:
    assert check_draft(draft(region=region)).region == region


def test_scope_3_with_a_category_passes() -> None:
    assert check_draft(draft(scope=3, category=3, component="upstream")).category == 3


def factor_v1(tenant: str = "global") -> Any:
    event = FactorPublished(
        factor_id="factor-1",
        activity_kind="electricity",
        component="generation",
        values=check_draft(draft()),
    )
    return published(event, tenant)


def test_a_revision_is_the_next_version_with_checked_values() -> None:
    values = draft(kgco2e_per_unit=0.04)
    command = ReviseFactor(factor_id="factor-1", expected_version=1, values=values, reason="typo")
    event = revise(factor_v1(), command, "global")
    assert (event.version, event.values.kgco2e_per_unit) == (2, 0.04)
    assert evolve(factor_v1(), event).version == 2


def test_a_revision_is_checked_against_the_kind() -> None:
    command = ReviseFactor(
        factor_id="factor-1", expected_version=1, values=draft(unit="km"), reason="x"
    )
    with pytest.raises(RequestRefused) as error:
        revise(factor_v1(), command, "global")
    assert error.value.field == "values.unit"


@pytest.mark.parametrize(
    ("tenant", "expected", "code", "field"),
    [
        ("acme", 1, "not_owner", "factor_id"),
        ("global", 2, "version_conflict", "expected_version"),
    ],
)
def test_only_the_owner_at_the_current_version_changes_a_factor(
    tenant: str, expected: int, code: str, field: str
) -> None:
    command = RetireFactor(
        factor_id="factor-1", expected_version=expected, retired_from=date(2025, 1, 1), reason="x"
    )
    with pytest.raises(RequestRefused) as error:
        retire(factor_v1(), command, tenant)
    assert (error.value.code, error.value.field) == (code, field)


def test_a_retired_factor_is_neither_revised_nor_retired_again() -> None:
    command = RetireFactor(
        factor_id="factor-1", expected_version=1, retired_from=date(2025, 1, 1), reason="old"
    )
    gone = evolve(factor_v1(), retire(factor_v1(), command, "global"))
    assert gone.retired_from == date(2025, 1, 1)
    with pytest.raises(RequestRefused) as error:
        retire(gone, command, "global")
    assert error.value.code == "factor_retired"


def test_a_retirement_before_the_validity_is_refused() -> None:
    command = RetireFactor(
        factor_id="factor-1", expected_version=1, retired_from=date(2020, 1, 1), reason="x"
    )
    with pytest.raises(RequestRefused) as error:
        retire(factor_v1(), command, "global")
    assert (error.value.code, error.value.field) == ("invalid_retirement", "retired_from")
