"""What a footprint query sums over, and the SQL conditions of its filters.

A figure is summed over the lines of the latest versions; grouped or filtered by device or
country, over those lines' parts on that dimension instead (services/reporting/parts.py), so
a request log over many countries or devices falls into each with its own share and the
totals stay the same whatever the grouping. Device and country together are refused: the
parts split each line by one of them at a time, since compute records no joint figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from contracts import reporting as r
from kernel.errors import RequestRefused
from services.reporting.parts import COUNTRY, DEVICE, UNSPECIFIED, default_member_sql

PART_DIMENSIONS = ("device", "country")
# Group-by expressions, whitelisted: only these ever reach the SQL text.
DIMENSIONS: dict[str, str] = {
    "scope": "(line.value->>'scope')::int",
    "scope2_basis": "line.value->>'scope2_basis'",
    "category": "(line.value->>'category')::int",
    "component": "line.value->>'component'",
    "post": "latest.post",
    "country": f"coalesce(part.member, {default_member_sql(COUNTRY, 'latest.country')})",
    "device": f"coalesce(part.member, {default_member_sql(DEVICE, 'latest.country')})",
    "site": "latest.site",
    "activity_kind": "latest.activity_kind",
    "source_kind": "latest.source_kind",
    "month": "to_char(latest.period_start, 'YYYY-MM')",
}
_EQUALS = {"post": "latest.post", "site": "latest.site", "activity_kind": "latest.activity_kind"}
_SCOPE_ON_LINE = "(line.value->>'scope')::int = :f_scope"
_SCOPE_IN_LINES = (
    "EXISTS (SELECT 1 FROM jsonb_array_elements(latest.lines) AS line "
    "WHERE (line.value->>'scope')::int = :f_scope)"
)


@dataclass(frozen=True)
class Walk:
    """The rows a sum runs over: the lines of `latest`, split by `part` when it is set."""

    schema: str
    part: str | None = None

    @property
    def rows(self) -> str:
        """SQL: the FROM clause (aliases `latest`, `line` and, with a part, `part`)."""
        return f"FROM latest CROSS JOIN LATERAL {self._lines}"

    @property
    def rows_of_latest(self) -> str:
        """SQL: the FROM clause of one `latest` row's lines (in a lateral subquery)."""
        return f"FROM {self._lines}"

    @property
    def _lines(self) -> str:
        lines = "jsonb_array_elements(latest.lines) WITH ORDINALITY AS line(value, n)"
        if self.part is None:
            return lines
        return (
            # no part on the dimension: the line is whole there (parts.py)
            f'{lines} LEFT JOIN "{self.schema}".emission_parts AS part '
            "ON part.compute_position = latest.compute_position AND part.line = line.n - 1 "
            f"AND part.dimension = '{self.part}'"
        )

    def kg(self, bound: str) -> str:
        """SQL: a row's kg, `bound` being value, min or max."""
        assert bound in ("value", "min", "max")
        if self.part is None:
            return f"(line.value->'kg'->>'{bound}')::float8"
        return f"coalesce(part.{bound}, (line.value->'kg'->>'{bound}')::float8)"


def walk_for(schema: str, filters: r.Filters, group_by: list[str]) -> Walk:
    """The walk a query grouped by `group_by` under `filters` needs; both device and country
    is refused with the field that asked for the second."""
    grouped = [d for d in PART_DIMENSIONS if d in group_by]
    filtered = [d for d in PART_DIMENSIONS if getattr(filters, d) is not None]
    wanted = sorted(set(grouped) | set(filtered))
    if len(wanted) > 1:
        field = "group_by" if len(grouped) > 1 else f"filters.{filtered[-1]}"
        raise RequestRefused(
            "device_with_country",
            "device and country cannot be combined in one query: compute splits a request "
            "log by each of them, not by both together",
            field,
        )
    return Walk(schema, wanted[0] if wanted else None)


def conditions(
    filters: r.Filters, walk: Walk, *, lines: bool = True, period: bool = True
) -> tuple[str, dict[str, Any]]:
    """SQL conditions on `latest`, and on `line` and `part` when `lines` (the query sums
    over `walk.rows`); `period=False` leaves the period out (the caller bounds it) and the
    result may then be "TRUE"."""
    clauses = ["latest.period_start >= :from_day", "latest.period_start < :to_day"]
    clauses = clauses if period else ["TRUE"]
    binds: dict[str, Any] = {"from_day": filters.period_start, "to_day": filters.period_end}
    if filters.scope is not None:
        clauses.append(_SCOPE_ON_LINE if lines else _SCOPE_IN_LINES)
        binds["f_scope"] = filters.scope
    for name, expression in _EQUALS.items():
        value = getattr(filters, name)
        if value is not None:
            clauses.append(f"{expression} = :f_{name}")
            binds[f"f_{name}"] = value
    for name in PART_DIMENSIONS:
        value = getattr(filters, name)
        if value is not None:
            clauses.append(_member(walk, name, lines))
            binds[f"f_{name}"] = value
    return " AND ".join(clauses), binds


def _member(walk: Walk, name: str, lines: bool) -> str:
    """A device or country filter: on the part summed over, or, for a whole emission, any
    of its parts (an unresolved one has none: its own country counts)."""
    if lines:
        return f"{DIMENSIONS[name]} = :f_{name}"
    parts = (
        f'FROM "{walk.schema}".emission_parts AS p WHERE p.compute_position = '
        f"latest.compute_position AND p.dimension = '{name}'"
    )
    # the country's whole lines fall to the version's own; the device's to "unspecified"
    own = (
        f"latest.country = :f_{name}"
        if name == "country"
        else f"(:f_{name} = '{UNSPECIFIED}' AND EXISTS (SELECT 1 FROM jsonb_array_elements("
        f"latest.lines) WITH ORDINALITY AS l(value, n) WHERE NOT EXISTS (SELECT 1 {parts} "
        "AND p.line = l.n - 1)))"
    )
    return f"({own} OR EXISTS (SELECT 1 {parts} AND p.member = :f_{name}))"
