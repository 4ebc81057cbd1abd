"""The inline XBRL report: one XHTML file that is both the filing and the human-readable report."""

from __future__ import annotations

from decimal import Decimal

from services.reporting.csrd import taxonomy as tx
from services.reporting.csrd.chart import Bar, bar_chart
from services.reporting.csrd.compute import ENERGY_DECIMALS, GHG_DECIMALS, Amount, E1Report
from services.reporting.csrd.datapoints import Datapoint
from services.reporting.csrd.ixbrl import EN_DASH, NAMESPACES, display, header
from services.reporting.csrd.model import LEI_SCHEME
from services.reporting.csrd.rounding import quantum
from services.reporting.csrd.style import CSS
from services.reporting.csrd.tables import e1_5_table, e1_6_table, scope3_table
from services.reporting.csrd.xmlnode import Node, el, render


def render_document(report: E1Report, facts: list[Datapoint]) -> str:
    """The XHTML text of the report; every fact in `facts` is tagged exactly once."""
    src = report.source
    title = f"{src.organisation.name}: climate change (ESRS E1), {src.year}"
    html = el(
        "html",
        {**NAMESPACES, "xml:lang": "en"},
        el(
            "head",
            {},
            el("meta", {"http-equiv": "Content-Type", "content": "text/html; charset=utf-8"}),
            el("title", {}, title),
            el("style", {"type": "text/css"}, CSS),
        ),
        el("body", {}, header(facts, src.organisation), _page(report, facts, title)),
    )
    return '<?xml version="1.0" encoding="utf-8"?>\n' + render(html) + "\n"


def _page(report: E1Report, facts: list[Datapoint], title: str) -> Node:
    by_key = {fact.key: fact for fact in facts}
    return el(
        "div",
        {"class": "page"},
        _masthead(report, title),
        _charts(report),
        e1_6_table(report, by_key),
        scope3_table(report, by_key),
        e1_5_table(report, by_key),
        _provenance(report),
    )


def _masthead(report: E1Report, title: str) -> Node:
    src = report.source
    org = src.organisation
    total = report.ghg.total_market
    about = (
        f"{org.name} · {_scheme_name(org.scheme)} {org.identifier} · reporting period "
        f"{src.period_start.isoformat()} to {src.period_end.isoformat()}"
    )
    headline = (
        "Total GHG emissions (market-based): ",
        el("strong", {}, f"{display(total.value, GHG_DECIMALS)} tCO2e"),
        f" (range {display(total.min, GHG_DECIMALS)} {EN_DASH} {display(total.max, GHG_DECIMALS)})",
    )
    return el(
        "div",
        {"class": "masthead"},
        el("h1", {}, title),
        el("p", {"class": "meta"}, about),
        el("p", {"class": "headline"}, *headline),
    )


def _scheme_name(scheme: str) -> str:
    return "LEI" if scheme == LEI_SCHEME else scheme


def _charts(report: E1Report) -> Node:
    ghg = report.ghg
    scopes = [
        Bar("Scope 1", *_parts(ghg.scope1)),
        Bar("Scope 2 (location-based)", *_parts(ghg.scope2_location)),
        Bar("Scope 2 (market-based)", *_parts(ghg.scope2_market)),
        Bar("Scope 3", *_parts(ghg.scope3_total)),
    ]
    posts = [Bar(post, t) for post, t in sorted(report.by_post.items(), key=lambda i: -i[1])]
    return el(
        "div",
        {"class": "charts"},
        el("h2", {}, "Footprint at a glance"),
        _figure("Gross GHG emissions by scope, tCO2e; whiskers show the range", scopes),
        _figure("GHG emissions by post, tCO2e", posts) if posts else None,
    )


def _figure(caption: str, bars: list[Bar]) -> Node:
    return el(
        "div",
        {"class": "figure"},
        bar_chart(caption, bars),
        el("p", {"class": "caption"}, caption + "."),
    )


def _parts(amount: Amount) -> tuple[Decimal, Decimal, Decimal]:
    return amount.value, amount.min, amount.max


METHOD_NOTE = (
    "Values are rounded once, at publication: to {ghg} tCO2e and {energy} MWh. Scope 3 "
    "categories are apportioned by largest remainder so they add up exactly to the Scope 3 "
    "total; totals are the sums of the published scopes. Ranges are rounded outwards. "
    "Intensities are computed from the published totals and net revenue. ESRS datapoint ids "
    "(e.g. E1-6_11) are EFRAG's, from the ESRS Set 1 XBRL taxonomy {entry}."
)


def _provenance(report: E1Report) -> Node:
    lineage = report.source.lineage
    positions = ", ".join(f"{log} @ {pos}" for log, pos in sorted(lineage.positions.items()))
    items = (
        ("Figures as of", lineage.as_of.isoformat()),
        ("Built from event logs", positions or "\u2014"),
        ("Content hash", lineage.content_hash),
    )
    note = METHOD_NOTE.format(
        ghg=quantum(GHG_DECIMALS), energy=quantum(ENERGY_DECIMALS), entry=tx.ENTRY_POINT
    )
    return el(
        "div",
        {"class": "provenance"},
        el("h2", {}, "Provenance and method"),
        el("dl", {}, *(part for t, d in items for part in (el("dt", {}, t), el("dd", {}, d)))),
        el("p", {}, note),
        *(el("p", {"class": "note"}, text) for text in lineage.notes),
    )
