"""Which factor versions apply to an activity: one per component, or a reason why none.

The rule, deterministic for a given set of candidate versions:

1. Candidates: versions of the activity kind owned by the tenant or the global catalogue;
   with releases, the versions those releases hold, otherwise each factor's latest version;
   minus factors retired on or before the date.
2. Region: the first region of the chain holding candidates wins: the exact region, then
   (only when fallback is allowed) sub-national -> country -> EU (for EU members) -> WORLD
   -> INT. A region other than the one asked is reported as a fallback. A region-independent
   kind (a device's manufacturing footprint does not depend on where it is used) also looks
   in WORLD without fallback, and that is no fallback: WORLD is where its factors are.
3. Per component at that region, the tenant's own candidates replace the global ones.
4. Validity: the candidates whose period covers the date; if none, the one whose period
   ended last before it, else the one starting first after it, flagged out of validity.
5. Ties: latest validity start, then highest version, then factor id.

It lives in the contract because it is part of what the factors service promises: the
compute service applies the very same rule to its own read model of the catalogue.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from contracts.activity_kinds import is_region_independent
from contracts.factors import (
    GLOBAL_TENANT,
    FactorView,
    Resolution,
    ResolvedComponent,
)

# fmt: off
EU_MEMBERS = frozenset({
    "AUT", "BEL", "BGR", "HRV", "CYP", "CZE", "DNK", "EST", "FIN", "FRA", "DEU", "GRC", "HUN",
    "IRL", "ITA", "LVA", "LTU", "LUX", "MLT", "NLD", "POL", "PRT", "ROU", "SVK", "SVN", "ESP",
    "SWE",
})
# fmt: on


def region_chain(region: str, allow_fallback: bool) -> list[str]:
    """The regions to look in, most specific first."""
    if not allow_fallback:
        return [region]
    country = region.split("-", 1)[0]
    chain = [region, country]
    if country in EU_MEMBERS:
        chain.append("EU")
    chain += ["WORLD", "INT"]
    return list(dict.fromkeys(chain))


def resolve(
    candidates: Sequence[FactorView],
    *,
    activity_kind: str,
    region: str,
    on: date,
    tenant_id: str,
    releases: Sequence[str] | None = None,
    allow_fallback: bool = False,
) -> Resolution:
    """One factor version per component of `activity_kind` in `region` on `on`."""
    eligible = [
        c
        for c in candidates
        if c.activity_kind == activity_kind
        and c.tenant_id in (tenant_id, GLOBAL_TENANT)
        and _in_scope(c, releases)
        and (c.retired_from is None or on < c.retired_from)
    ]
    answer = Resolution(activity_kind=activity_kind, region=region, on=on, components=[])
    independent = is_region_independent(activity_kind)
    chain = region_chain(region, allow_fallback)
    for place in [*chain, "WORLD"] if independent and "WORLD" not in chain else chain:
        here = [c for c in eligible if c.values.region == place]
        if here:
            fallback = place != region and not (independent and place == "WORLD")
            picks = _per_component(here, on, tenant_id, fallback=fallback)
            return answer.model_copy(update={"components": picks})
    why = _why(eligible, activity_kind, region, releases, allow_fallback)
    return answer.model_copy(update={"unresolved": why})


def _in_scope(candidate: FactorView, releases: Sequence[str] | None) -> bool:
    if releases is None:
        return candidate.version == candidate.latest_version
    return any(r in candidate.releases for r in releases)


def _per_component(
    here: list[FactorView], on: date, tenant_id: str, *, fallback: bool
) -> list[ResolvedComponent]:
    picks = []
    for component in sorted({c.component for c in here}):
        group = [c for c in here if c.component == component]
        own = [c for c in group if c.tenant_id == tenant_id]
        factor, out_of_validity = pick_by_validity(own or group, on)
        picks.append(
            ResolvedComponent(
                component=factor.component,
                factor=factor,
                region_used=factor.values.region,
                fallback=fallback,
                out_of_validity=out_of_validity,
            )
        )
    return picks


def covers(candidate: FactorView, on: date) -> bool:
    """Whether `candidate`'s validity period holds `on`."""
    until = candidate.values.valid_until
    return candidate.values.valid_from <= on and (until is None or on < until)


def pick_by_validity(group: Sequence[FactorView], on: date) -> tuple[FactorView, bool]:
    """The best of a non-empty `group` for `on`, and whether it is out of validity."""
    covering = [c for c in group if covers(c, on)]
    if covering:
        return max(covering, key=_rank), False
    ended = [c for c in group if c.values.valid_until is not None and c.values.valid_until <= on]
    if ended:
        return max(ended, key=lambda c: (c.values.valid_until, *_rank(c))), True
    first = min(c.values.valid_from for c in group)
    return max((c for c in group if c.values.valid_from == first), key=_rank), True


def _rank(c: FactorView) -> tuple[date, int, str]:
    return c.values.valid_from, c.version, c.factor_id


def _why(
    eligible: list[FactorView],
    activity_kind: str,
    region: str,
    releases: Sequence[str] | None,
    allow_fallback: bool,
) -> str:
    where = f" in releases {', '.join(releases)}" if releases is not None else ""
    if not eligible:
        return (
            f"no factor for activity kind {activity_kind!r} ({region}){where} applies on that date"
        )
    if not allow_fallback:
        return f"no factor for {activity_kind!r} in {region}{where} (fallback not allowed)"
    chain = " -> ".join(region_chain(region, True))
    return f"no factor for {activity_kind!r} in any of {chain}{where}"
