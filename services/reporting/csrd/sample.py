"""A fictional digital company's year, for tests, demos and screenshots (not real data)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from services.reporting.csrd.model import (
    BaseYear,
    CsrdInput,
    Energy,
    Figure,
    FossilDetail,
    GhgFigures,
    Lineage,
    Organisation,
    RenewableDetail,
)


def _fig(value: str, low: str, high: str) -> Figure:
    return Figure(Decimal(value), Decimal(low), Decimal(high))


def sample_ghg(scale: Decimal = Decimal(1)) -> GhgFigures:
    """Emissions in kgCO2e, every value multiplied by `scale` (base year: another scale)."""

    def fig(value: str, low: str, high: str) -> Figure:
        return Figure(Decimal(value) * scale, Decimal(low) * scale, Decimal(high) * scale)

    return GhgFigures(
        scope1=fig("12345.678", "11000", "13900.2"),
        scope2_location=fig("20876.54", "18100", "23500"),
        scope2_market=fig("8467.21", "6900.5", "10100"),
        scope3={
            1: fig("412345.67", "290000", "560000.3"),
            2: fig("98765.43", "70000", "130000"),
            3: fig("5432.1", "4300", "6600"),
            5: fig("1234.56", "800", "1700"),
            6: fig("87654.32", "70000", "105000"),
            7: fig("23456.78", "15000", "31000"),
            11: fig("45678.91", "20000", "90000"),
            12: fig("349.99", "200", "500"),
        },
        scope3_cloud=fig("151234.56", "100000", "210000"),
    )


def sample_input() -> CsrdInput:
    """The sample report input: FY 2025 against base year 2022."""
    return CsrdInput(
        organisation=Organisation("Nuage Numérique SAS (fictional)", "9695005EMPREINTE0004"),
        period_start=date(2025, 1, 1),
        period_end=date(2025, 12, 31),
        ghg=sample_ghg(),
        significant_scope3=frozenset({1, 2, 6, 7, 11}),
        net_revenue=Decimal("18450000"),
        energy=Energy(
            total=Decimal("412345.6"),
            fossil=Decimal("150123.4"),
            nuclear=Decimal("180222.2"),
            renewable=Decimal("82000.0"),
            fossil_detail=FossilDetail(
                Decimal(0), Decimal("12000.4"), Decimal("38123.0"), Decimal(0), Decimal("100000.0")
            ),
            renewable_detail=RenewableDetail(Decimal(0), Decimal("76500.0"), Decimal("5500.0")),
        ),
        lineage=Lineage(
            as_of=datetime(2026, 2, 15, 9, 30, tzinfo=UTC),
            positions={"compute": 48213, "factors": 1290, "inventory": 50771},
            content_hash="sha256:" + "3f" * 32,
        ),
        base_year=BaseYear(2022, sample_ghg(Decimal("1.18"))),
        scope1_ets_share=Decimal("0.25"),
        biogenic_co2=_fig("812.4", "600", "1000"),
        by_post={
            "Cloud and data centres": Decimal("151234.56"),
            "Purchased services and software": Decimal("261111.11"),
            "Hardware (capital goods)": Decimal("98765.43"),
            "Business travel": Decimal("87654.32"),
            "Use of sold products": Decimal("45678.91"),
            "Offices (energy, heating)": Decimal("20812.888"),
            "Commuting": Decimal("23456.78"),
            "Other": Decimal("7166.6"),
        },
    )
