"""The E1-6, Scope 3 and E1-5 tables of the report, with their facts tagged in place."""

from __future__ import annotations

from collections.abc import Mapping

from services.reporting.csrd import taxonomy as tx
from services.reporting.csrd.compute import E1Report
from services.reporting.csrd.datapoints import Datapoint, fact_key
from services.reporting.csrd.ixbrl import EN_DASH, display, tagged
from services.reporting.csrd.xmlnode import Node, el

Facts = Mapping[str, Datapoint]
DASH = "\u2014"
RANGE_HEAD = f"Range (min {EN_DASH} max)"

E1_6_ROWS = (
    ("Gross Scope 1 GHG emissions", tx.SCOPE1, "tCO2e"),
    ("of which from regulated emission trading schemes", tx.ETS_SHARE, "%"),
    ("Gross location-based Scope 2 GHG emissions", tx.SCOPE2_LOCATION, "tCO2e"),
    ("Gross market-based Scope 2 GHG emissions", tx.SCOPE2_MARKET, "tCO2e"),
    ("Gross Scope 3 GHG emissions", tx.SCOPE3, "tCO2e"),
    ("Total GHG emissions (location-based)", tx.TOTAL_LOCATION, "tCO2e"),
    ("Total GHG emissions (market-based)", tx.TOTAL_MARKET, "tCO2e"),
    ("Biogenic CO2 emissions not included in Scope 1", tx.BIOGENIC, "tCO2e"),
    ("GHG intensity per net revenue (location-based)", tx.INTENSITY_LOCATION, "tCO2e / M{cur}"),
    ("GHG intensity per net revenue (market-based)", tx.INTENSITY_MARKET, "tCO2e / M{cur}"),
    ("Net revenue used to calculate GHG intensity", tx.NET_REVENUE, "{cur}"),
)
INDENTED = {tx.ETS_SHARE}
TOTALS = {tx.TOTAL_LOCATION, tx.TOTAL_MARKET}


def _value(fact: Datapoint | None) -> Node:
    return el("td", {"class": "num"}, DASH if fact is None else tagged(fact))


def _range(fact: Datapoint | None) -> Node:
    if fact is None or fact.minimum is None or fact.maximum is None:
        return el("td", {"class": "num range"}, "")
    low, high = display(fact.minimum, fact.decimals), display(fact.maximum, fact.decimals)
    return el("td", {"class": "num range"}, f"{low} {EN_DASH} {high}")


def _head(report: E1Report, first: list[str], last: list[str]) -> Node:
    base = report.source.base_year
    years = ([f"Base year {base.year}"] if base is not None else []) + [str(report.source.year)]
    return el("thead", {}, el("tr", {}, *(el("th", {}, text) for text in first + years + last)))


def _year_cells(report: E1Report, facts: Facts, key: str) -> list[Node]:
    base = [_value(facts.get(key + "-base"))] if report.source.base_year is not None else []
    return [*base, _value(facts.get(key))]


def _e1_6_row(report: E1Report, facts: Facts, label: str, concept: str, unit: str) -> Node:
    key = fact_key(concept)
    css = "indent" if concept in INDENTED else "total" if concept in TOTALS else ""
    return el(
        "tr",
        {"class": css},
        el("th", {"scope": "row"}, label),
        el("td", {"class": "dp"}, tx.DATAPOINT_IDS[concept]),
        *_year_cells(report, facts, key),
        _range(facts.get(key)),
        el("td", {"class": "unit"}, unit.format(cur=report.source.currency)),
    )


def e1_6_table(report: E1Report, facts: Facts) -> Node:
    """Gross emissions by scope, totals, intensities (E1-6 §44-§53)."""
    rows = [
        _e1_6_row(report, facts, label, concept, unit)
        for label, concept, unit in E1_6_ROWS
        if fact_key(concept) in facts
    ]
    head = _head(report, ["", "ESRS"], [RANGE_HEAD, "Unit"])
    return _section("E1-6 Gross Scopes 1, 2, 3 and total GHG emissions", _table(head, rows))


def _table(head: Node, rows: list[Node]) -> Node:
    return el("table", {}, head, el("tbody", {}, *rows))


def _scope3_keys(report: E1Report) -> list[str]:
    lines = set(report.ghg.scope3) | set(report.base_ghg.scope3 if report.base_ghg else ())
    if report.ghg.scope3_cloud is not None:
        lines.add("1.1")
    return sorted(lines, key=float)


def _scope3_row(report: E1Report, facts: Facts, line: str) -> Node:
    key = fact_key(tx.SCOPE3, f"-cat{line}")
    significant = line.isdigit() and int(line) in report.source.significant_scope3
    return el(
        "tr",
        {"class": "indent" if line == "1.1" else ""},
        el("td", {"class": "dp"}, line),
        el("th", {"scope": "row"}, tx.SCOPE3_LABELS[line]),
        el("td", {"class": "flag"}, "significant" if significant else ""),
        *_year_cells(report, facts, key),
        _range(facts.get(key)),
        el("td", {"class": "num"}, _scope3_share(report, line)),
    )


def scope3_table(report: E1Report, facts: Facts) -> Node:
    """Scope 3 by GHG Protocol category; the categories add up to the Scope 3 total."""
    rows = [_scope3_row(report, facts, line) for line in _scope3_keys(report)]
    head = _head(report, ["Cat.", "Category", "Assessment"], [RANGE_HEAD, "Share"])
    note = el("p", {"class": "note"}, SCOPE3_NOTE)
    title = "E1-6 Scope 3 GHG emissions by category (GHG Protocol)"
    return _section(title, _table(head, rows), note)


SCOPE3_NOTE = (
    "tCO2e. Every significant category is reported; other categories are listed when they "
    "have emissions, so the rows add up to the Scope 3 total."
)


def _scope3_share(report: E1Report, line: str) -> str:
    amount = report.ghg.scope3_cloud if line == "1.1" else report.ghg.scope3.get(line)
    total = report.ghg.scope3_total.value
    if amount is None or not total:
        return ""
    return f"{display(amount.value / total * 100, 1)} %"


def _section(title: str, *body: Node) -> Node:
    return el("div", {"class": "section"}, el("h2", {}, title), *body)


ENERGY_ROWS = (
    ("Total energy consumption related to own operations", tx.ENERGY_TOTAL, False),
    ("From fossil sources", tx.ENERGY_FOSSIL, False),
    ("Coal and coal products", tx.FOSSIL_DETAIL[0], True),
    ("Crude oil and petroleum products", tx.FOSSIL_DETAIL[1], True),
    ("Natural gas", tx.FOSSIL_DETAIL[2], True),
    ("Other fossil sources", tx.FOSSIL_DETAIL[3], True),
    ("Purchased electricity, heat, steam, cooling (fossil)", tx.FOSSIL_DETAIL[4], True),
    ("From nuclear sources", tx.ENERGY_NUCLEAR, False),
    ("From renewable sources", tx.ENERGY_RENEWABLE, False),
    ("Renewable fuels (incl. biomass)", tx.RENEWABLE_DETAIL[0], True),
    ("Purchased electricity, heat, steam, cooling (renewable)", tx.RENEWABLE_DETAIL[1], True),
    ("Self-generated non-fuel renewable energy", tx.RENEWABLE_DETAIL[2], True),
)
SHARE_OF = {
    tx.ENERGY_FOSSIL: tx.SHARE_FOSSIL,
    tx.ENERGY_NUCLEAR: tx.SHARE_NUCLEAR,
    tx.ENERGY_RENEWABLE: tx.SHARE_RENEWABLE,
}


def _share_cell(share: Datapoint | None) -> Node:
    if share is None:
        return el("td", {"class": "num"})
    return el("td", {"class": "num"}, tagged(share), " %")


def _energy_row(facts: Facts, label: str, concept: str, indent: bool) -> Node:
    share = facts.get(fact_key(SHARE_OF[concept])) if concept in SHARE_OF else None
    return el(
        "tr",
        {"class": "indent" if indent else "total" if concept == tx.ENERGY_TOTAL else ""},
        el("th", {"scope": "row"}, label),
        el("td", {"class": "dp"}, tx.DATAPOINT_IDS[concept]),
        _value(facts.get(fact_key(concept))),
        _share_cell(share),
    )


def e1_5_table(report: E1Report, facts: Facts) -> Node:
    """Energy consumption and mix (E1-5 §37-§38), MWh."""
    rows = [
        _energy_row(facts, label, concept, indent)
        for label, concept, indent in ENERGY_ROWS
        if fact_key(concept) in facts
    ]
    labels = ("", "ESRS", f"{report.source.year}, MWh", "Share")
    head = el("thead", {}, el("tr", {}, *(el("th", {}, label) for label in labels)))
    return _section("E1-5 Energy consumption and mix", _table(head, rows))
