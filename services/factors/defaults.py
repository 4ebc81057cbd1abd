"""The default factor releases, read from `data/`, and their idempotent loading.

`default-factors.csv` (see /work/shared/factors/README.md) maps each row's `kind` to an
activity kind and a component by its suffix; each source becomes its own release. The Ember
grid intensities shipped by @tgwf/co2 0.19 (`ember-co2js-0.19.csv`) become `ember-2024`.
Boavizta's terminal archetypes (`boavizta-2.5.0-terminals.json`, see terminals.py) become
`boavizta-2.5.0`.
Every publish carries a deterministic idempotency key, so loading twice changes nothing.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from contracts.factors import (
    GLOBAL_TENANT,
    Component,
    FactorDraft,
    PublishFactor,
    PublishRelease,
    ReleaseMember,
)
from kernel.endpoints import CallContext
from services.factors.handlers import FactorHandlers
from services.factors.terminals import TERMINALS_RELEASE, terminal_drafts, terminals_release

DATA = Path(__file__).parent / "data"
LOADER = CallContext(tenant_id=GLOBAL_TENANT, role="admin", actor="factors-defaults")

RELEASES = {
    "ADEME Base Carbone v23.6": "ademe-base-empreinte",
    "UK DESNZ 2024": "desnz-2024",
    "Ember yearly electricity data 2024 (via co2.js)": "ember-2024",
    "ADEME Impact CO2": "ademe-impact-co2",
}
_SUFFIXES: tuple[tuple[str, Component], ...] = (
    ("_td_upstream", "td_upstream"),
    ("_td_losses", "td_losses"),
    ("_upstream", "upstream"),
    ("_combustion", "combustion"),
)
_RENAMED: dict[str, tuple[str, Component]] = {
    "electricity_location_generation": ("electricity", "generation"),
    "district_heating_default": ("district_heating", "total"),
}
# co2.js also ships FRA and GBR; for activities, ADEME and DESNZ are preferred there (data
# README), so ember-2024's electricity factors leave them out rather than compete with them.
EMBER_PREFERRED_ELSEWHERE = frozenset({"FRA", "GBR"})
# The per-request core needs co2.js's grid for every country, FRA and GBR included, to give
# co2.js's numbers: ember-2024 also holds all of it under a kind of its own.
GRID_KIND = "electricity_grid_average"
EMBER_AGGREGATES = frozenset({"EU", "WORLD"})


@dataclass(frozen=True)
class DefaultFactor:
    """One factor of a default release, with the key that makes its publication idempotent."""

    release: str
    key: str
    draft: FactorDraft


def kind_and_component(csv_kind: str, source: str) -> tuple[str, Component]:
    """The activity kind and component of a CSV `kind`.

    Rows without a component suffix are DESNZ direct (tank-to-wheel) figures, or all-in
    figures for the other sources.
    """
    if csv_kind in _RENAMED:
        return _RENAMED[csv_kind]
    for suffix, component in _SUFFIXES:
        if csv_kind.endswith(suffix):
            return csv_kind.removesuffix(suffix), component
    return csv_kind, "direct" if source.startswith("UK DESNZ") else "total"


def catalogue_rows(path: Path = DATA / "default-factors.csv") -> list[DefaultFactor]:
    """The factors of `default-factors.csv`, each in its source's release."""
    with path.open(newline="", encoding="utf-8") as file:
        return [_catalogue_row(row) for row in csv.DictReader(file)]


def _catalogue_row(row: dict[str, str]) -> DefaultFactor:
    kind, component = kind_and_component(row["kind"], row["source"])
    release = RELEASES[row["source"]]
    draft = FactorDraft(
        activity_kind=kind,
        component=component,
        unit=row["unit"],
        kgco2e_per_unit=float(row["kgco2e_per_unit"]),
        uncertainty_pct=_number(row["uncertainty_pct"]),
        min_kgco2e_per_unit=_number(row["min"]),
        max_kgco2e_per_unit=_number(row["max"]),
        region=row["region"],
        valid_from=date(int(row["year"]), 1, 1),
        scope=int(row["scope"]),
        category=int(row["ghg_category"]) if row["ghg_category"] else None,
        source=row["source"],
        source_detail=row["source_detail"],
        licence=row["licence"],
        year=int(row["year"]),
        description=row["description"],
    )
    return DefaultFactor(
        release, f"defaults:{release}:{row['kind']}:{row['region']}:{row['year']}", draft
    )


def ember_rows(
    path: Path = DATA / "ember-co2js-0.19.csv",
    skip: frozenset[str] = frozenset(),
    kind: str = "electricity",
) -> list[DefaultFactor]:
    """Ember's grid intensities from co2.js, as scope 2 generation factors in kg per kWh."""
    with path.open(newline="", encoding="utf-8") as file:
        rows = [r for r in csv.DictReader(file) if r["country"] not in skip]
    return [_ember_row(row, kind) for row in rows]


def _ember_row(row: dict[str, str], kind: str) -> DefaultFactor:
    region = row["country"]
    draft = FactorDraft(
        activity_kind=kind,
        component="generation",
        unit="kWh",
        kgco2e_per_unit=float(Decimal(row["gco2e_per_kwh"]) / 1000),
        region=region,
        valid_from=date(int(row["year"]), 1, 1),
        scope=2,
        source=row["source"],
        source_detail=(
            "@tgwf/co2 0.19.0 (npm), dist/esm/data/average-intensities.min.js, key "
            f"{region}: {row['gco2e_per_kwh']} gCO2e/kWh divided by 1000 (g to kg); "
            "co2.js builds it from Ember's yearly electricity data"
        ),
        licence=row["licence"],
        year=int(row["year"]),
        description=f"Grid electricity, average generation intensity, {region}",
    )
    tag = "" if kind == "electricity" else f"{kind}:"
    return DefaultFactor("ember-2024", f"defaults:ember-2024:{tag}{region}:{row['year']}", draft)


def terminal_rows(path: Path = TERMINALS_RELEASE) -> list[DefaultFactor]:
    """Boavizta's terminal archetypes: two embedded factors each, in their own release."""
    release = terminals_release(path)
    return [DefaultFactor(release["release"], k, d) for k, d in terminal_drafts(release)]


def default_factors() -> list[DefaultFactor]:
    """Every default factor: the sourced CSV, co2.js's Ember countries not in it, the grid,
    Boavizta's terminals."""
    sourced = catalogue_rows()
    in_csv = {f.draft.region for f in sourced if f.release == "ember-2024"}
    electricity = ember_rows(skip=frozenset(in_csv) | EMBER_PREFERRED_ELSEWHERE)
    return sourced + electricity + ember_rows(kind=GRID_KIND) + terminal_rows()


async def load_defaults(handlers: FactorHandlers) -> dict[str, int]:
    """Publish the default factors and releases (again: a no-op); members per release."""
    members: dict[str, list[ReleaseMember]] = defaultdict(list)
    sources: dict[str, set[str]] = defaultdict(set)
    for factor in default_factors():
        request = PublishFactor(factor=factor.draft, idempotency_key=factor.key)
        accepted = await handlers.publish(LOADER, request)
        members[factor.release].append(ReleaseMember(factor_id=accepted.factor_id, version=1))
        sources[factor.release].add(f"{factor.draft.source} ({factor.draft.licence})")
    for name, pinned in sorted(members.items()):
        release = PublishRelease(
            name=name,
            description="Default factors from " + "; ".join(sorted(sources[name])),
            members=pinned,
            idempotency_key=f"defaults:release:{name}",
        )
        await handlers.publish_release(LOADER, release)
    return {name: len(pinned) for name, pinned in sorted(members.items())}


def _number(text: str) -> float | None:
    return float(text) if text.strip() else None


CLOUD_RELEASE = DATA / "boavizta-2.5.0-cloud.json"


def cloud_release(path: Path = CLOUD_RELEASE) -> dict[str, Any]:
    """The Boavizta cloud release file, as written by `empreinte factors import-boavizta`."""
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


async def load_cloud_release(handlers: FactorHandlers, path: Path = CLOUD_RELEASE) -> str:
    """Publish the shipped Boavizta cloud release (again: a no-op); returns its name."""
    release = cloud_release(path)
    recorded = await handlers.publish_cloud_release(LOADER, release)
    return str(recorded.payload["name"])
