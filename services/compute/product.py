"""The product's footprint from a request log: the per-request core's result as an emission.

Pure. GHG Protocol placement, a choice we document rather than bury: the data-centre
segment is scope 3 category 1 (purchased cloud services), the network and the end users'
devices are scope 3 category 11 (use of sold products), as a SaaS product's use phase.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any
from uuid import UUID

from contracts.compute import Emission, EmissionLine, Kg, Method, Source
from contracts.factors import FactorView
from services.compute.core import EmissionResult, GridIntensities, result_as_json

GRID_KIND, GRID_COMPONENT = "electricity_grid_average", "generation"
_CATEGORY = {"data_centre": 1, "network": 11, "user_device": 11, "production": 1}


def grid_factors(factors: Sequence[FactorView], release: str) -> dict[str, FactorView]:
    """The release's electricity generation factor of each country (latest version)."""
    chosen: dict[str, FactorView] = {}
    for factor in factors:
        if (factor.activity_kind, factor.component) != (GRID_KIND, GRID_COMPONENT):
            continue
        if release not in factor.releases:
            continue
        held = chosen.get(factor.values.region)
        if held is None or factor.version > held.version:
            chosen[factor.values.region] = factor
    return chosen


def grid_from_factors(chosen: Mapping[str, FactorView], release: str) -> GridIntensities:
    """gCO2e/kWh by country from the chosen electricity generation factors (kg/kWh)."""
    table = {region: f.values.kgco2e_per_unit * 1000 for region, f in chosen.items()}
    return GridIntensities(table, source=f"release {release}", allow_fallback=True)


def grid_lineage(result: EmissionResult, chosen: Mapping[str, FactorView]) -> dict[str, Any]:
    """The factor version behind each grid intensity the result used, by country."""
    used = result.constants.get("grid_intensity") or {}
    return {
        country: {"factor_id": chosen[country].factor_id, "version": chosen[country].version}
        for country in sorted(used)
        if country in chosen
    }


def log_emission(
    result: EmissionResult, *, log_id: UUID, event_id: UUID, stream_version: int, sha256: str,
    site: str, period: tuple[date, date], grid: Mapping[str, Any] | None = None,
) -> Emission:  # fmt: skip
    """The request log's emission: one line per segment and phase, kg CO2e with ranges."""
    lines = [
        _line(name, phase, grams, result.requests)
        for name, segment in result.segments.items()
        for phase, grams in (("operational", segment.operational), ("embodied", segment.embodied))
    ]
    total = Kg(
        value=result.total.value / 1000, min=result.total.min / 1000, max=result.total.max / 1000
    )
    breakdown: dict[str, Any] = result_as_json(result)
    source = Source(
        kind="request_log",
        id=log_id,
        event_id=event_id,
        stream_version=stream_version,
        sha256=sha256,
    )
    method = Method(
        name=str(result.constants.get("model", "swd-v4")),
        version="co2.js-0.19",
        constants=dict(result.constants) | ({"grid_factors": dict(grid)} if grid else {}),
    )
    return Emission(
        source=source,
        activity_kind="data_transfer",
        post="product",
        site=site,
        country=_country(result),
        period_start=period[0],
        period_end=period[1],
        lines=lines,
        total=total,
        method=method,
        breakdown=breakdown,
    )


def _line(segment: str, phase: str, grams: Any, requests: float) -> EmissionLine:
    kg = Kg(value=grams.value / 1000, min=grams.min / 1000, max=grams.max / 1000)
    return EmissionLine(
        component=f"{segment}_{phase}",
        scope=3,
        category=_CATEGORY.get(segment),
        kg=kg,
        factor=None,
        quantity=0.0,
        unit="request_log",
    )


def _country(result: EmissionResult) -> str:
    countries = list(result.by_client_country)
    return countries[0] if len(countries) == 1 else "multiple"
