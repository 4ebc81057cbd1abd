"""Input model of the E1 export: what the reporting projections hand over, in kgCO2e and kWh."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

LEI_SCHEME = "http://standards.iso.org/iso/17442"
SCOPE3_CATEGORIES = range(1, 16)


@dataclass(frozen=True)
class Figure:
    """A quantity with its uncertainty range: min <= value <= max, all >= 0."""

    value: Decimal
    min: Decimal
    max: Decimal

    def __post_init__(self) -> None:
        if not Decimal(0) <= self.min <= self.value <= self.max:
            raise ValueError(f"need 0 <= min <= value <= max, got {self}")

    @classmethod
    def exact(cls, value: Decimal) -> Figure:
        return cls(value, value, value)

    def __add__(self, other: Figure) -> Figure:
        return Figure(self.value + other.value, self.min + other.min, self.max + other.max)


ZERO = Figure.exact(Decimal(0))


@dataclass(frozen=True)
class Organisation:
    """The reporting undertaking; `scheme` is the identifier scheme URI (LEI by default)."""

    name: str
    identifier: str
    scheme: str = LEI_SCHEME

    def __post_init__(self) -> None:
        if self.scheme == LEI_SCHEME and not re.fullmatch(r"[0-9A-Z]{18}[0-9]{2}", self.identifier):
            raise ValueError(f"not an LEI: {self.identifier!r}")


@dataclass(frozen=True)
class GhgFigures:
    """Gross GHG emissions in kgCO2e. `scope3` maps GHG Protocol category 1-15 to its figure;
    `scope3_cloud` is category 1.1 (cloud computing and data centre services), a part of
    category 1, not added to the total again. There is no "other" line: EFRAG's E1-4 target
    assertion (valueAssertion_301040_GHGProtocol) sums categories 1-15 only, so any Scope 3
    emission must sit in one of them."""

    scope1: Figure
    scope2_location: Figure
    scope2_market: Figure
    scope3: Mapping[int, Figure]
    scope3_cloud: Figure | None = None

    def __post_init__(self) -> None:
        unknown = set(self.scope3) - set(SCOPE3_CATEGORIES)
        if unknown:
            raise ValueError(f"unknown Scope 3 categories {sorted(unknown)} (1-15)")
        cat1 = self.scope3.get(1, ZERO)
        if self.scope3_cloud is not None and self.scope3_cloud.value > cat1.value:
            raise ValueError("category 1.1 (cloud) exceeds category 1 it belongs to")


@dataclass(frozen=True)
class FossilDetail:
    """E1-5 §38 split of fossil consumption, kWh."""

    coal: Decimal
    crude_oil: Decimal
    natural_gas: Decimal
    other_fossil: Decimal
    purchased_fossil: Decimal

    def parts(self) -> list[Decimal]:
        return [
            self.coal,
            self.crude_oil,
            self.natural_gas,
            self.other_fossil,
            self.purchased_fossil,
        ]


@dataclass(frozen=True)
class RenewableDetail:
    """E1-5 §37(c) split of renewable consumption, kWh."""

    fuel: Decimal
    purchased: Decimal
    self_generated: Decimal

    def parts(self) -> list[Decimal]:
        return [self.fuel, self.purchased, self.self_generated]


@dataclass(frozen=True)
class Energy:
    """E1-5 energy consumption in kWh (metered: no range). `total` must be the sum of the
    three sources, and each source the sum of its detail where a detail is given."""

    total: Decimal
    fossil: Decimal
    nuclear: Decimal
    renewable: Decimal
    fossil_detail: FossilDetail | None = None
    renewable_detail: RenewableDetail | None = None

    def __post_init__(self) -> None:
        _check_sum("total energy", self.total, [self.fossil, self.nuclear, self.renewable])
        if self.fossil_detail is not None:
            _check_sum("fossil energy", self.fossil, self.fossil_detail.parts())
        if self.renewable_detail is not None:
            _check_sum("renewable energy", self.renewable, self.renewable_detail.parts())


def _check_sum(what: str, total: Decimal, parts: list[Decimal]) -> None:
    if any(part < 0 for part in parts):
        raise ValueError(f"{what}: negative part in {parts}")
    if abs(total - sum(parts, Decimal(0))) > Decimal("0.001"):
        raise ValueError(f"{what} {total} kWh is not the sum of its parts {parts}")


@dataclass(frozen=True)
class BaseYear:
    year: int
    ghg: GhgFigures


@dataclass(frozen=True)
class Lineage:
    """Where the figures come from: the instant they were read as of, the last event position
    of each service log they were built from, and the hash of their content."""

    as_of: datetime
    positions: Mapping[str, int]
    content_hash: str
    notes: tuple[str, ...] = ()  # how figures were derived where a choice was made


@dataclass(frozen=True)
class CsrdInput:
    """Everything the E1-5/E1-6 export needs. `by_post` (optional, kgCO2e) feeds the chart only."""

    organisation: Organisation
    period_start: date
    period_end: date
    ghg: GhgFigures
    significant_scope3: frozenset[int]
    net_revenue: Decimal
    energy: Energy
    lineage: Lineage
    currency: str = "EUR"
    base_year: BaseYear | None = None
    scope1_ets_share: Decimal | None = None
    biogenic_co2: Figure | None = None
    by_post: Mapping[str, Decimal] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.period_end < self.period_start:
            raise ValueError("the period ends before it starts")
        if not re.fullmatch(r"[A-Z]{3}", self.currency):
            raise ValueError(f"not an ISO 4217 code: {self.currency!r}")
        if self.net_revenue <= 0:
            raise ValueError("net revenue must be positive (it divides the intensity)")
        missing = self.significant_scope3 - set(self.ghg.scope3)
        if missing:
            raise ValueError(f"significant Scope 3 categories without a figure: {sorted(missing)}")
        share = self.scope1_ets_share
        if share is not None and not Decimal(0) <= share <= Decimal(1):
            raise ValueError("the ETS share of Scope 1 is a fraction in [0, 1]")

    @property
    def year(self) -> int:
        return self.period_end.year
