"""An emission's parts: each of its lines split by device and, separately, by country.

Pure. Every line of an emission is split twice, once per dimension, so that for each
dimension the parts of a line add up to the line (value, min and max each) and the parts of
an emission add up to its total, whatever the grouping.

Activities have no breakdown: each line is one part, device "unspecified" (the label compute
itself gives a request log without a device column) and the emission's country.

Request logs: compute records each line's own split by device and by the country whose grid
it used (`lines_by_device`, `lines_by_country`), so a line's parts are exact. Logs computed
before compute recorded those hold marginals only (grams by device, by client country and by
server country over the whole log), and each line is split in the proportions of the
marginal that applies to it:
* device: every line by the `by_device` proportions;
* country (METHODS §1: a segment belongs to the country whose grid it used): data-centre
  lines by the server-country proportions, the network, user-device and production lines by
  the client-country proportions.
For those older logs, grouped by device alone, the parts give compute's `by_device` figures
exactly; a segment's split by country, or device crossed with category, assumes the log's
segment mix is the same in every group.

Whole lines are implied, not stored (`stored`): a line whose only part on a dimension is its
default member (`default_member`: device "unspecified", the emission's country) with all of
the line has no part row on that dimension, and readers take the line itself as that part
(walk.py, now.py, current.py). Most activities have no breakdown, so this spares their two
part rows per line, and the current figures' two more (services/reporting/current.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from contracts.compute import Emission, EmissionLine, Kg

UNSPECIFIED = "unspecified"
DEVICE, COUNTRY = "device", "country"
_BOUNDS = ("value", "min", "max")
_ALL = (1.0, 1.0, 1.0)


@dataclass(frozen=True)
class Part:
    """The share of one line (by index) that falls to one member of a dimension."""

    dimension: str
    line: int
    member: str
    kg: Kg


# member -> (value share, min share, max share), each column summing to 1
Shares = dict[str, tuple[float, float, float]]
# A line as the split needs it: (component, kg value, kg min, kg max)
LineFigures = tuple[str, float, float, float]
# A part as plain values: (dimension, line index, member, value, min, max)
PartFigures = tuple[str, int, str, float, float, float]


def parts_of(emission: Emission) -> list[Part]:
    """Every line split by device and by country (see the module's rule)."""
    return [
        # products of floats already validated: no need to validate them again
        Part(dimension, line, member, Kg.model_construct(value=value, min=low, max=high))
        for dimension, line, member, value, low, high in split(
            [figures_of(line) for line in emission.lines], emission.country, emission.breakdown
        )
    ]


def figures_of(line: EmissionLine) -> LineFigures:
    return (str(line.component), line.kg.value, line.kg.min, line.kg.max)


def default_member(dimension: str, country: str) -> str:
    """The member a line falls to on `dimension` when nothing splits it."""
    return UNSPECIFIED if dimension == DEVICE else country


def default_member_sql(dimension: str, country: str) -> str:
    """`default_member` in SQL, `country` being the SQL of the emission's country."""
    return f"'{UNSPECIFIED}'" if dimension == DEVICE else country


def split(
    lines: Sequence[LineFigures], country: str, breakdown: Mapping[str, Any]
) -> list[PartFigures]:
    """`parts_of` on plain values, every part."""
    return _parts(lines, country, breakdown, implied=True)


def stored(
    lines: Sequence[LineFigures], country: str, breakdown: Mapping[str, Any]
) -> list[PartFigures]:
    """The parts kept as rows: `split` without the whole lines it implies (see the module).
    The live projection and the rebuild's replay (which skips decoding events into models)
    both take their part rows from here, so alike."""
    return _parts(lines, country, breakdown, implied=False)


def _parts(
    lines: Sequence[LineFigures], country: str, breakdown: Mapping[str, Any], *, implied: bool
) -> list[PartFigures]:
    if not breakdown and not implied:  # nothing splits a line: every part is implied
        return []
    whole: dict[str, Shares] = {d: {default_member(d, country): _ALL} for d in (DEVICE, COUNTRY)}
    devices = _shares(breakdown.get("by_device")) or whole[DEVICE]
    clients = _shares(breakdown.get("by_country")) or whole[COUNTRY]
    servers = _shares(breakdown.get("by_server_country")) or whole[COUNTRY]
    by_country, by_device = breakdown.get("lines_by_country"), breakdown.get("lines_by_device")
    found: list[PartFigures] = []
    for index, line in enumerate(lines):
        located = servers if _segment(line[0]) == "data_centre" else clients
        for dimension, shares in (
            (DEVICE, _line_shares(by_device, line[0]) or devices),
            (COUNTRY, _line_shares(by_country, line[0]) or located),
        ):
            if implied or shares != whole[dimension]:
                found += _split(dimension, index, line, shares)
    return found


def _line_shares(lines: Any, component: str) -> Shares:
    """The line's own split, where compute recorded one (exact); {} otherwise."""
    return _shares(lines.get(component)) if isinstance(lines, Mapping) else {}


def segment_of(line: EmissionLine) -> str:
    """A request-log line's segment: its component without the phase."""
    return _segment(str(line.component))


def _segment(component: str) -> str:
    for phase in ("_operational", "_embodied"):
        if component.endswith(phase):
            return component.removesuffix(phase)
    return component


def _split(dimension: str, index: int, line: LineFigures, shares: Shares) -> list[PartFigures]:
    _, value, low, high = line
    return [
        (dimension, index, member, value * v, low * lo, high * hi)
        for member, (v, lo, hi) in shares.items()
    ]


def _shares(marginal: Any) -> Shares:
    """Each member's share of a {member: {value, min, max}} marginal; {} when it has no
    positive value to divide by (then the line stays whole)."""
    if not isinstance(marginal, Mapping) or not marginal:
        return {}
    sums = [sum(float(g[b]) for g in marginal.values()) for b in _BOUNDS]
    if sums[0] <= 0:
        return {}
    # a zero min or max sum (an exact zero range) falls back on the value's proportions
    divisors = [s if s > 0 else sums[0] for s in sums]
    bounds = [b if s > 0 else "value" for b, s in zip(_BOUNDS, sums, strict=True)]
    return {
        str(member): (
            float(g[bounds[0]]) / divisors[0],
            float(g[bounds[1]]) / divisors[1],
            float(g[bounds[2]]) / divisors[2],
        )
        for member, g in marginal.items()
    }
