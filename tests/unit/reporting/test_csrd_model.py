"""The input model refuses figures it cannot publish honestly."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from services.reporting.csrd.model import Energy, Figure, GhgFigures, Organisation
from services.reporting.csrd.sample import sample_input

D = Decimal


def test_a_figure_needs_min_value_max_in_order() -> None:
    with pytest.raises(ValueError, match="min <= value <= max"):
        Figure(D(5), D(6), D(7))
    with pytest.raises(ValueError):
        Figure(D(-1), D(-1), D(0))


def test_a_significant_category_needs_a_figure() -> None:
    with pytest.raises(ValueError, match=r"without a figure: \[4\]"):
        dataclasses.replace(sample_input(), significant_scope3=frozenset({1, 4}))


def test_unknown_categories_and_oversized_cloud_are_refused() -> None:
    one = Figure.exact(D(1))
    with pytest.raises(ValueError, match="unknown Scope 3"):
        GhgFigures(one, one, one, {16: one})
    with pytest.raises(ValueError, match="cloud"):
        GhgFigures(one, one, one, {1: one}, scope3_cloud=Figure.exact(D(2)))


def test_energy_total_must_be_the_sum_of_its_sources() -> None:
    with pytest.raises(ValueError, match="not the sum"):
        Energy(D(10), D(5), D(1), D(3))


def test_identifiers_and_currency_are_checked() -> None:
    with pytest.raises(ValueError, match="LEI"):
        Organisation("X", "not-a-lei")
    assert Organisation("X", "123", scheme="https://example.org/ids").identifier == "123"
    with pytest.raises(ValueError, match="ISO 4217"):
        dataclasses.replace(sample_input(), currency="euro")
    with pytest.raises(ValueError, match="positive"):
        dataclasses.replace(sample_input(), net_revenue=D(0))
