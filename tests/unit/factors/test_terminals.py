"""Boavizta's terminal archetypes as factors of the release boavizta-2.5.0."""

from __future__ import annotations

from datetime import date

import pytest

from contracts.activity_kinds import BOAVIZTA_TERMINALS, activity_kind
from services.factors.defaults import default_factors, terminal_rows
from services.factors.domain import check_draft
from services.factors.terminals import terminal_drafts, terminal_kind, terminals_release


def test_every_archetype_of_the_release_has_its_two_activity_kinds() -> None:
    archetypes = terminals_release()["archetypes"]
    assert {terminal_kind(a).removeprefix("device_embedded_") for a in archetypes} == set(
        BOAVIZTA_TERMINALS
    )
    for archetype in archetypes:
        assert activity_kind(terminal_kind(archetype)).default_unit == "item"
        assert activity_kind(terminal_kind(archetype, per_hour=True)).default_unit == "hour"


def test_the_release_holds_two_checked_factors_per_archetype() -> None:
    release = terminals_release()
    rows = terminal_rows()
    assert len(rows) == 2 * len(release["archetypes"]) == 32
    assert {row.release for row in rows} == {"boavizta-2.5.0"}
    assert [r.key for r in rows if r.release == "boavizta-2.5.0"] == [
        f.key for f in default_factors() if f.release == "boavizta-2.5.0"
    ]
    for row in rows:
        assert check_draft(row.draft) == row.draft  # its own min and max: nothing to fill


def test_a_laptop_per_unit_and_per_hour_carries_its_provenance() -> None:
    drafts = dict((d.activity_kind, d) for _, d in terminal_drafts(terminals_release()))
    unit, hour = drafts["device_embedded_laptop_pro"], drafts["device_embedded_laptop_pro_per_hour"]
    assert (unit.unit, unit.kgco2e_per_unit, unit.scope, unit.category) == ("item", 181.0, 3, 2)
    assert (hour.unit, hour.scope, hour.category) == ("hour", 3, 1)
    assert hour.kgco2e_per_unit * 35040 == pytest.approx(181.0, rel=1e-12)
    for draft in (unit, hour):
        assert (draft.source, draft.region, draft.component) == (
            "Boavizta API 2.5.0",
            "WORLD",
            "total",
        )
        assert "AGPL-3.0" in draft.licence
        assert "archetype=laptop-pro" in draft.source_detail
        assert "avg_power [75.0, 50.0, 100.0] W" in draft.source_detail
        assert "ADEME Base Empreinte" in draft.source_detail
        assert draft.valid_from == date(draft.year, 1, 1)
    assert "&duration=1" in hour.source_detail and "&duration" not in unit.source_detail


def test_every_hourly_factor_is_its_devices_embedded_impact_spread_over_its_lifetime() -> None:
    for archetype, figures in terminals_release()["archetypes"].items():
        per_hour = [x * figures["hours_life_time"] for x in figures["embedded_kg_per_hour"]]
        assert per_hour == pytest.approx(figures["embedded_kg"], rel=1e-12), archetype
