"""SVG horizontal bar charts with range whiskers, embedded as data URIs (no script, no file)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from decimal import Decimal

from services.reporting.csrd.ixbrl import display
from services.reporting.csrd.xmlnode import Node, el, render

SVG_NS = "http://www.w3.org/2000/svg"
WIDTH, LABEL_WIDTH, VALUE_WIDTH, ROW, BAR = 720, 210, 120, 34, 20
PALETTE = ("#1b6b5a", "#2f8f6f", "#58b08a", "#8cc9a6", "#c2e0c9", "#e4b363", "#d1794a")


@dataclass(frozen=True)
class Bar:
    label: str
    value: Decimal
    low: Decimal | None = None
    high: Decimal | None = None


SVG_STYLE = """
text { font: 13px "Helvetica Neue", Arial, sans-serif; fill: #1d2a26; }
text.value { fill: #5b6b66; }
.whisker { stroke: #1d2a26; stroke-width: 1.5; fill: none; }
"""


def bar_chart(title: str, bars: list[Bar], unit: str = "tCO2e") -> Node:
    """An `img` (XHTML 1.1 has no inline SVG) holding the chart as a data URI."""
    svg = render(_svg(title, bars, unit))
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return el("img", {"src": f"data:image/svg+xml;base64,{data}", "alt": title, "class": "chart"})


def _svg(title: str, bars: list[Bar], unit: str) -> Node:
    top = max([bar.high or bar.value for bar in bars] + [Decimal(1)])
    plot = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    height = ROW * len(bars) + 10
    rows = [_row(i, bar, float(plot / float(top)), unit) for i, bar in enumerate(bars)]
    return el(
        "svg",
        {
            "xmlns": SVG_NS,
            "viewBox": f"0 0 {WIDTH} {height}",
            "width": str(WIDTH),
            "height": str(height),
        },
        el("title", {}, title),
        el("style", {}, SVG_STYLE),
        *[part for row in rows for part in row],
    )


def _row(index: int, bar: Bar, per_unit: float, unit: str) -> list[Node]:
    y = 5 + index * ROW
    width = max(1.0, float(bar.value) * per_unit)
    bar_box = {"x": str(LABEL_WIDTH), "y": str(y), "width": f"{width:.1f}", "height": str(BAR)}
    parts = [
        _text(LABEL_WIDTH - 10, y, bar.label, "label", anchor="end"),
        el("rect", {**bar_box, "rx": "3", "fill": PALETTE[index % len(PALETTE)]}),
    ]
    if bar.low is not None and bar.high is not None and bar.high > bar.low:
        parts.append(_whisker(y, float(bar.low) * per_unit, float(bar.high) * per_unit))
    end = LABEL_WIDTH + max(width, float(bar.high or 0) * per_unit) + 8
    parts.append(_text(end, y, f"{display(bar.value, 1)} {unit}", "value"))
    return parts


def _text(x: float, y: int, content: str, css: str, anchor: str = "") -> Node:
    attrs = {"x": f"{x:.1f}", "y": str(y + BAR - 5), "class": css, "text-anchor": anchor}
    return el("text", attrs, content)


def _whisker(y: int, low: float, high: float) -> Node:
    mid = y + BAR / 2
    x1, x2 = LABEL_WIDTH + low, LABEL_WIDTH + high
    path = f"M{x1:.1f} {mid - 5}V{mid + 5}M{x1:.1f} {mid}H{x2:.1f}M{x2:.1f} {mid - 5}V{mid + 5}"
    return el("path", {"d": path, "class": "whisker"})
