"""The report as a flat list of datapoints: one per XBRL fact, shared by every output."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from services.reporting.csrd import taxonomy as tx
from services.reporting.csrd.compute import (
    ENERGY_DECIMALS,
    GHG_DECIMALS,
    REVENUE_DECIMALS,
    SHARE_DECIMALS,
    Amount,
    E1Ghg,
    E1Report,
)

TONNES, MWH, PURE = "tCO2e", "MWh", "pure"
Dimensions = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Datapoint:
    """One fact. `key` is ours (stable, unique in a report); `datapoint_id` is EFRAG's, shared
    by the facts of one concept. `unit` is "tCO2e", "MWh", "pure", a currency code, or
    "tCO2e/<currency>". `minimum`/`maximum` carry the range of GHG figures (not tagged)."""

    key: str
    datapoint_id: str
    concept: str
    dimensions: Dimensions
    value: Decimal
    unit: str
    decimals: int
    period_start: date
    period_end: date
    minimum: Decimal | None = None
    maximum: Decimal | None = None

    @property
    def context_id(self) -> str:
        dims = "".join(f"-{member}" for _, member in self.dimensions)
        return f"c{self.period_start:%Y%m%d}-{self.period_end:%Y%m%d}{dims}"


def datapoints(report: E1Report) -> list[Datapoint]:
    """Every fact of `report`: E1-6 (reporting then base year), then E1-5."""
    src = report.source
    period = (src.period_start, src.period_end)
    facts = _ghg(report.ghg, period, ())
    if report.base_ghg is not None and src.base_year is not None:
        base_period = (
            _shift(src.period_start, src.base_year.year - src.year),
            _shift(src.period_end, src.base_year.year - src.year),
        )
        facts += _ghg(report.base_ghg, base_period, ((tx.BASELINE_AXIS, tx.BASELINE_MEMBER),))
    return facts + _e1_6_other(report, period) + _e1_5(report, period)


def fact_key(concept: str, suffix: str = "", base: bool = False) -> str:
    """Our stable key of a fact, e.g. `E1-6_11.scope3-cat6-base`."""
    return f"{tx.DATAPOINT_IDS[concept]}.{_SHORT[concept]}{suffix}{'-base' if base else ''}"


def _shift(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _fact(
    concept: str,
    value: Decimal,
    unit: str,
    decimals: int,
    period: tuple[date, date],
    dims: Dimensions = (),
    amount: Amount | None = None,
    suffix: str = "",
) -> Datapoint:
    key = fact_key(concept, suffix, any(axis == tx.BASELINE_AXIS for axis, _ in dims))
    return Datapoint(
        key,
        tx.DATAPOINT_IDS[concept],
        concept,
        dims,
        value,
        unit,
        decimals,
        *period,
        minimum=None if amount is None else amount.min,
        maximum=None if amount is None else amount.max,
    )


def _ghg_fact(
    concept: str, amount: Amount, period: tuple[date, date], dims: Dimensions, suffix: str = ""
) -> Datapoint:
    return _fact(concept, amount.value, TONNES, GHG_DECIMALS, period, dims, amount, suffix)


def _ghg(ghg: E1Ghg, period: tuple[date, date], base: Dimensions) -> list[Datapoint]:
    facts = [
        _ghg_fact(tx.SCOPE1, ghg.scope1, period, base),
        _ghg_fact(tx.SCOPE2_LOCATION, ghg.scope2_location, period, base),
        _ghg_fact(tx.SCOPE2_MARKET, ghg.scope2_market, period, base),
        _ghg_fact(tx.SCOPE3, ghg.scope3_total, period, base),
    ]
    lines = dict(ghg.scope3)
    if ghg.scope3_cloud is not None:
        lines["1.1"] = ghg.scope3_cloud
    for line, amount in sorted(lines.items(), key=lambda item: float(item[0])):
        dims = ((tx.SCOPE3_AXIS, tx.SCOPE3_MEMBERS[line]), *base)
        facts.append(_ghg_fact(tx.SCOPE3, amount, period, dims, f"-cat{line}"))
    facts.append(_ghg_fact(tx.TOTAL_LOCATION, ghg.total_location, period, base))
    facts.append(_ghg_fact(tx.TOTAL_MARKET, ghg.total_market, period, base))
    return facts


def _e1_6_other(report: E1Report, period: tuple[date, date]) -> list[Datapoint]:
    currency = report.source.currency
    facts = []
    if report.ets_share is not None:
        facts.append(_fact(tx.ETS_SHARE, report.ets_share, PURE, SHARE_DECIMALS, period))
    if report.biogenic_co2 is not None:
        facts.append(_ghg_fact(tx.BIOGENIC, report.biogenic_co2, period, ()))
    for concept, ratio in (
        (tx.INTENSITY_LOCATION, report.intensity_location),
        (tx.INTENSITY_MARKET, report.intensity_market),
    ):
        facts.append(_fact(concept, ratio.value, f"{TONNES}/{currency}", ratio.decimals, period))
    facts.append(_fact(tx.NET_REVENUE, report.net_revenue, currency, REVENUE_DECIMALS, period))
    return facts


def _e1_5(report: E1Report, period: tuple[date, date]) -> list[Datapoint]:
    energy = report.energy
    values = [
        (tx.ENERGY_TOTAL, energy.total),
        (tx.ENERGY_FOSSIL, energy.fossil),
        *zip(tx.FOSSIL_DETAIL, energy.fossil_detail or [], strict=False),
        (tx.ENERGY_NUCLEAR, energy.nuclear),
        (tx.ENERGY_RENEWABLE, energy.renewable),
        *zip(tx.RENEWABLE_DETAIL, energy.renewable_detail or [], strict=False),
    ]
    facts = [_fact(concept, value, MWH, ENERGY_DECIMALS, period) for concept, value in values]
    shares = zip(
        (tx.SHARE_FOSSIL, tx.SHARE_NUCLEAR, tx.SHARE_RENEWABLE), energy.shares or (), strict=False
    )
    facts += [_fact(concept, value, PURE, SHARE_DECIMALS, period) for concept, value in shares]
    return facts


_SHORT = {
    tx.SCOPE1: "scope1",
    tx.SCOPE2_LOCATION: "scope2-location",
    tx.SCOPE2_MARKET: "scope2-market",
    tx.SCOPE3: "scope3",
    tx.TOTAL_LOCATION: "total-location",
    tx.TOTAL_MARKET: "total-market",
    tx.ETS_SHARE: "scope1-ets-share",
    tx.BIOGENIC: "biogenic-co2",
    tx.INTENSITY_LOCATION: "intensity-location",
    tx.INTENSITY_MARKET: "intensity-market",
    tx.NET_REVENUE: "net-revenue",
    tx.ENERGY_TOTAL: "energy-total",
    tx.ENERGY_FOSSIL: "energy-fossil",
    tx.ENERGY_NUCLEAR: "energy-nuclear",
    tx.ENERGY_RENEWABLE: "energy-renewable",
    tx.FOSSIL_DETAIL[0]: "fossil-coal",
    tx.FOSSIL_DETAIL[1]: "fossil-oil",
    tx.FOSSIL_DETAIL[2]: "fossil-gas",
    tx.FOSSIL_DETAIL[3]: "fossil-other",
    tx.FOSSIL_DETAIL[4]: "fossil-purchased",
    tx.RENEWABLE_DETAIL[0]: "renewable-fuel",
    tx.RENEWABLE_DETAIL[1]: "renewable-purchased",
    tx.RENEWABLE_DETAIL[2]: "renewable-self-generated",
    tx.SHARE_FOSSIL: "share-fossil",
    tx.SHARE_NUCLEAR: "share-nuclear",
    tx.SHARE_RENEWABLE: "share-renewable",
}
