"""Inline XBRL 1.1 parts: the hidden header (schemaRef, contexts, units) and tagged numbers."""

from __future__ import annotations

from decimal import Decimal

from services.reporting.csrd import taxonomy as tx
from services.reporting.csrd.datapoints import MWH, PURE, TONNES, Datapoint
from services.reporting.csrd.model import Organisation
from services.reporting.csrd.xmlnode import Node, el

NAMESPACES = {
    "xmlns": "http://www.w3.org/1999/xhtml",
    "xmlns:ix": "http://www.xbrl.org/2013/inlineXBRL",
    "xmlns:ixt": "http://www.xbrl.org/inlineXBRL/transformation/2020-02-12",
    "xmlns:xbrli": "http://www.xbrl.org/2003/instance",
    "xmlns:xbrldi": "http://xbrl.org/2006/xbrldi",
    "xmlns:link": "http://www.xbrl.org/2003/linkbase",
    "xmlns:xlink": "http://www.w3.org/1999/xlink",
    "xmlns:iso4217": "http://www.xbrl.org/2003/iso4217",
    "xmlns:utr": "http://www.xbrl.org/2009/utr",
    "xmlns:esrs": tx.NAMESPACE,
}
# Shown as percent (scale -2) and per million currency units (scale -6).
EN_DASH = "\u2013"
PERCENT_SCALE = -2
PER_MILLION_SCALE = -6


def header(facts: list[Datapoint], organisation: Organisation) -> Node:
    """The `ix:header`, hidden from readers, with one context and unit per distinct use."""
    contexts = {fact.context_id: fact for fact in facts}
    resources = [
        *(_context(cid, fact, organisation) for cid, fact in contexts.items()),
        *(_unit(unit) for unit in sorted({fact.unit for fact in facts})),
    ]
    schema_ref = el("link:schemaRef", {"xlink:type": "simple", "xlink:href": tx.ENTRY_POINT})
    references = el("ix:references", {}, schema_ref)
    ix_header = el("ix:header", {}, references, el("ix:resources", {}, *resources))
    return el("div", {"style": "display:none"}, ix_header)


def _context(context_id: str, fact: Datapoint, organisation: Organisation) -> Node:
    identifier = el("xbrli:identifier", {"scheme": organisation.scheme}, organisation.identifier)
    period = el(
        "xbrli:period",
        {},
        el("xbrli:startDate", {}, fact.period_start.isoformat()),
        el("xbrli:endDate", {}, fact.period_end.isoformat()),
    )
    return el(
        "xbrli:context",
        {"id": context_id},
        el("xbrli:entity", {}, identifier),
        period,
        _scenario(fact),
    )


def _scenario(fact: Datapoint) -> Node | None:
    # ESRS hypercubes are all declared on the scenario (xbrldt:contextElement="scenario").
    if not fact.dimensions:
        return None
    members = (
        el("xbrldi:explicitMember", {"dimension": f"esrs:{axis}"}, f"esrs:{member}")
        for axis, member in fact.dimensions
    )
    return el("xbrli:scenario", {}, *members)


def unit_id(unit: str) -> str:
    return "u-" + unit.replace("/", "-per-")


def _measure(unit: str) -> str:
    return {TONNES: "utr:tCO2e", MWH: "utr:MWh", PURE: "xbrli:pure"}.get(unit, f"iso4217:{unit}")


def _unit(unit: str) -> Node:
    if "/" not in unit:
        return el("xbrli:unit", {"id": unit_id(unit)}, el("xbrli:measure", {}, _measure(unit)))
    numerator, denominator = unit.split("/")
    return el(
        "xbrli:unit",
        {"id": unit_id(unit)},
        el(
            "xbrli:divide",
            {},
            el("xbrli:unitNumerator", {}, el("xbrli:measure", {}, _measure(numerator))),
            el("xbrli:unitDenominator", {}, el("xbrli:measure", {}, _measure(denominator))),
        ),
    )


def scale(fact: Datapoint) -> int:
    if fact.unit == PURE:
        return PERCENT_SCALE
    return PER_MILLION_SCALE if "/" in fact.unit else 0


def display(value: Decimal, decimals: int, scale_: int = 0) -> str:
    """`value` as shown: divided by 10**scale, `decimals - scale` places, thousands commas."""
    places = max(0, decimals + scale_)
    return f"{value.scaleb(-scale_):,.{places}f}"


def tagged(fact: Datapoint) -> Node:
    """The fact's `ix:nonFraction`, showing the value in the unit a reader expects."""
    shown = scale(fact)
    attrs = {
        "name": f"esrs:{fact.concept}",
        "contextRef": fact.context_id,
        "unitRef": unit_id(fact.unit),
        "decimals": str(fact.decimals),
        "id": fact.key,
        "format": "ixt:num-dot-decimal",
    }
    if shown:
        attrs["scale"] = str(shown)
    return el("ix:nonFraction", attrs, display(fact.value, fact.decimals, shown))
