"""Datapoint-keyed JSON and CSV: one row per fact, plus the report's lineage (JSON)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from services.reporting.csrd.compute import E1Report
from services.reporting.csrd.datapoints import Datapoint

COLUMNS = (
    "key",
    "datapoint_id",
    "concept",
    "dimensions",
    "value",
    "unit",
    "decimals",
    "period_start",
    "period_end",
    "min",
    "max",
)


def row(fact: Datapoint) -> dict[str, str]:
    """A fact as strings; `dimensions` is `axis=member` pairs joined by spaces."""
    return {
        "key": fact.key,
        "datapoint_id": fact.datapoint_id,
        "concept": f"esrs:{fact.concept}",
        "dimensions": " ".join(f"esrs:{axis}=esrs:{member}" for axis, member in fact.dimensions),
        "value": str(fact.value),
        "unit": fact.unit,
        "decimals": str(fact.decimals),
        "period_start": fact.period_start.isoformat(),
        "period_end": fact.period_end.isoformat(),
        "min": "" if fact.minimum is None else str(fact.minimum),
        "max": "" if fact.maximum is None else str(fact.maximum),
    }


def to_csv(facts: list[Datapoint]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(row(fact) for fact in facts)
    return out.getvalue()


def to_json(report: E1Report, facts: list[Datapoint]) -> str:
    """Values stay strings (exact decimals); `lineage` is carried through from the input."""
    src = report.source
    document: dict[str, Any] = {
        "organisation": {
            "name": src.organisation.name,
            "scheme": src.organisation.scheme,
            "identifier": src.organisation.identifier,
        },
        "period": {"start": src.period_start.isoformat(), "end": src.period_end.isoformat()},
        "base_year": None if src.base_year is None else src.base_year.year,
        "currency": src.currency,
        "significant_scope3_categories": sorted(src.significant_scope3),
        "lineage": {
            "as_of": src.lineage.as_of.isoformat(),
            "positions": dict(sorted(src.lineage.positions.items())),
            "content_hash": src.lineage.content_hash,
            **({"notes": list(src.lineage.notes)} if src.lineage.notes else {}),
        },
        "datapoints": [row(fact) for fact in facts],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
