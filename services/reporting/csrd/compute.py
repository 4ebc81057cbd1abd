"""From the input (kgCO2e, kWh) to the published figures (tCO2e, MWh), rounded once, at the edge.

Decimals: one for tCO2e (100 kg) and for MWh (100 kWh), finer than the uncertainty of any
activity-based factor yet enough to keep a small Scope 3 category from showing as zero; whole
currency units for revenue; 0.1 % for shares (three decimals of a fraction); four significant
digits for intensities, computed from the published totals so a reader can redo the division.

Sum rules after rounding: Scope 1 and both Scope 2 figures are rounded half-even; the Scope 3
total is the rounded exact sum, apportioned over its categories by largest remainder; the
location- and market-based totals are derived from the rounded scopes (no second rounding).
Energy is apportioned top-down: total -> fossil, nuclear, renewable -> their details.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from services.reporting.csrd.model import ZERO, CsrdInput, Energy, Figure, GhgFigures
from services.reporting.csrd.rounding import (
    KG_PER_TONNE,
    KWH_PER_MWH,
    apportion,
    round_down,
    round_half_even,
    round_total_and_parts,
    round_up,
    significant_decimals,
)

GHG_DECIMALS = 1
ENERGY_DECIMALS = 1
REVENUE_DECIMALS = 0
SHARE_DECIMALS = 3
INTENSITY_DIGITS = 4
CLOUD = "1.1"


@dataclass(frozen=True)
class Amount:
    """A published figure (tCO2e) with its outward-rounded range."""

    value: Decimal
    min: Decimal
    max: Decimal

    def __add__(self, other: Amount) -> Amount:
        return Amount(self.value + other.value, self.min + other.min, self.max + other.max)


@dataclass(frozen=True)
class Ratio:
    value: Decimal
    decimals: int


@dataclass(frozen=True)
class E1Ghg:
    """Rounded E1-6 emissions. `scope3` maps "1".."15" (reported lines only) to
    amounts adding up exactly to `scope3_total`; "1.1" (cloud) is in `scope3_cloud`."""

    scope1: Amount
    scope2_location: Amount
    scope2_market: Amount
    scope3: Mapping[str, Amount]
    scope3_total: Amount
    scope3_cloud: Amount | None

    @property
    def total_location(self) -> Amount:
        return self.scope1 + self.scope2_location + self.scope3_total

    @property
    def total_market(self) -> Amount:
        return self.scope1 + self.scope2_market + self.scope3_total


@dataclass(frozen=True)
class E1Energy:
    """Rounded E1-5 energy in MWh; details are None where the input gave none."""

    total: Decimal
    fossil: Decimal
    nuclear: Decimal
    renewable: Decimal
    fossil_detail: list[Decimal] | None
    renewable_detail: list[Decimal] | None
    shares: tuple[Decimal, Decimal, Decimal] | None


@dataclass(frozen=True)
class E1Report:
    """The published E1-5/E1-6 figures, with the input they came from."""

    source: CsrdInput
    ghg: E1Ghg
    base_ghg: E1Ghg | None
    net_revenue: Decimal
    intensity_location: Ratio
    intensity_market: Ratio
    energy: E1Energy
    ets_share: Decimal | None
    biogenic_co2: Amount | None
    by_post: Mapping[str, Decimal]


def compute_report(source: CsrdInput) -> E1Report:
    """Convert, round and derive every published figure of `source`."""
    ghg = compute_ghg(source.ghg, source.significant_scope3)
    base = source.base_year
    revenue = round_half_even(source.net_revenue, REVENUE_DECIMALS)
    return E1Report(
        source=source,
        ghg=ghg,
        base_ghg=None if base is None else compute_ghg(base.ghg, source.significant_scope3),
        net_revenue=revenue,
        intensity_location=intensity(ghg.total_location.value, revenue),
        intensity_market=intensity(ghg.total_market.value, revenue),
        energy=compute_energy(source.energy),
        ets_share=_share(source.scope1_ets_share),
        biogenic_co2=None if source.biogenic_co2 is None else to_tonnes(source.biogenic_co2),
        by_post={post: _tonnes(kg) for post, kg in source.by_post.items()},
    )


def _tonnes(kg: Decimal) -> Decimal:
    return round_half_even(kg / KG_PER_TONNE, GHG_DECIMALS)


def _share(fraction: Decimal | None) -> Decimal | None:
    return None if fraction is None else round_half_even(fraction, SHARE_DECIMALS)


def to_tonnes(figure: Figure) -> Amount:
    """kgCO2e -> tCO2e: value half-even, range outwards."""
    return _amount(figure, _tonnes(figure.value))


def _amount(figure: Figure, value_t: Decimal) -> Amount:
    low = round_down(figure.min / KG_PER_TONNE, GHG_DECIMALS)
    high = round_up(figure.max / KG_PER_TONNE, GHG_DECIMALS)
    return Amount(value_t, low, high)


def scope3_lines(ghg: GhgFigures, significant: frozenset[int]) -> dict[str, Figure]:
    """The reported Scope 3 lines: every significant category and every other one with a
    figure above zero, in category order."""
    return {
        str(cat): fig
        for cat, fig in sorted(ghg.scope3.items())
        if cat in significant or fig.max > 0
    }


def compute_ghg(ghg: GhgFigures, significant: frozenset[int]) -> E1Ghg:
    lines = scope3_lines(ghg, significant)
    exact = [fig.value / KG_PER_TONNE for fig in lines.values()]
    total, rounded = round_total_and_parts(exact, GHG_DECIMALS)
    scope3 = {key: _amount(fig, v) for (key, fig), v in zip(lines.items(), rounded, strict=True)}
    low = sum((amount.min for amount in scope3.values()), Decimal(0))
    high = sum((amount.max for amount in scope3.values()), Decimal(0))
    return E1Ghg(
        scope1=to_tonnes(ghg.scope1),
        scope2_location=to_tonnes(ghg.scope2_location),
        scope2_market=to_tonnes(ghg.scope2_market),
        scope3=scope3,
        scope3_total=Amount(total, low, high),
        scope3_cloud=_cloud(ghg.scope3_cloud, scope3.get("1")),
    )


def _cloud(cloud: Figure | None, category1: Amount | None) -> Amount | None:
    if cloud is None:
        return None
    amount = to_tonnes(cloud)
    ceiling = (category1 or to_tonnes(ZERO)).value
    return Amount(min(amount.value, ceiling), amount.min, amount.max)


def intensity(total_t: Decimal, revenue: Decimal) -> Ratio:
    """tCO2e per currency unit, four significant digits (at least 6 decimals: per million)."""
    exact = total_t / revenue
    decimals = max(6, significant_decimals(exact, INTENSITY_DIGITS)) if exact else 8
    return Ratio(round_half_even(exact, decimals), decimals)


def compute_energy(energy: Energy) -> E1Energy:
    fossil_parts = None if energy.fossil_detail is None else energy.fossil_detail.parts()
    renewable_parts = None if energy.renewable_detail is None else energy.renewable_detail.parts()
    sources = [
        _sum_or(fossil_parts, energy.fossil),
        energy.nuclear,
        _sum_or(renewable_parts, energy.renewable),
    ]
    total, (fossil, nuclear, renewable) = round_total_and_parts(
        [kwh / KWH_PER_MWH for kwh in sources], ENERGY_DECIMALS
    )
    return E1Energy(
        total=total,
        fossil=fossil,
        nuclear=nuclear,
        renewable=renewable,
        fossil_detail=_split(fossil, fossil_parts),
        renewable_detail=_split(renewable, renewable_parts),
        shares=_shares(total, [fossil, nuclear, renewable]),
    )


def _sum_or(parts: list[Decimal] | None, given: Decimal) -> Decimal:
    # The detail, when given, is the exact source: the parent is apportioned over it.
    return given if parts is None else sum(parts, Decimal(0))


def _split(rounded: Decimal, parts_kwh: list[Decimal] | None) -> list[Decimal] | None:
    if parts_kwh is None:
        return None
    return apportion(rounded, [part / KWH_PER_MWH for part in parts_kwh], ENERGY_DECIMALS)


def _shares(total: Decimal, parts: list[Decimal]) -> tuple[Decimal, Decimal, Decimal] | None:
    if not total:
        return None
    fossil, nuclear, renewable = apportion(Decimal(1), [p / total for p in parts], SHARE_DECIMALS)
    return fossil, nuclear, renewable
