"""A synthetic compute log for the reporting benchmarks: a year of emissions of every kind.

Out of every 20 events: 12 activity emissions calculated, 3 request-log emissions
calculated (with device and country breakdowns, so they split into several parts), 2
restatements, 2 withdrawals and 1 unresolved activity; two tenants.
"""

from __future__ import annotations

import uuid
from datetime import date

from contracts import compute as c
from kernel.endpoints import CallContext
from kernel.envelope import NewEvent
from kernel.events import DomainEvent

TENANTS = ("acme", "globex")
POSTS = ("offices", "cloud", "product", "commuting", "business_travel", "purchases")
_REF = c.FactorRef(factor_id="f1", version=1, releases=["ademe"], source="ADEME",
                   region_used="FRA", fallback=False, out_of_validity=False)  # fmt: skip


def _kg(value: float) -> c.Kg:
    return c.Kg(value=value, min=value * 0.9, max=value * 1.1)


def _line(value: float, scope: int, component: str, category: int | None) -> c.EmissionLine:
    return c.EmissionLine(component=component, scope=scope, category=category,
                          kg=_kg(value), factor=_REF, quantity=value * 10, unit="kWh")  # fmt: skip


def _marginal(members: tuple[str, ...], grams: float) -> dict[str, dict[str, float]]:
    return {m: {"value": grams * (i + 1), "min": grams * i, "max": grams * (i + 2)}
            for i, m in enumerate(members)}  # fmt: skip


def _emission(i: int, source: c.Source, value: float) -> c.Emission:
    log = source.kind == "request_log"
    lines = (
        [_line(value, 3, "data_centre_operational", 1),
         _line(value / 2, 3, "network_operational", 11)]
        if log
        else [_line(value, 2, "generation", None), _line(value / 4, 3, "upstream", 3)]
    )  # fmt: skip
    breakdown = {
        "by_device": _marginal(("laptop", "smartphone", "desktop"), value),
        "by_country": _marginal(("FRA", "USA", "IND", "DEU"), value),
        "by_server_country": _marginal(("DEU", "USA"), value),
    } if log else {}  # fmt: skip
    total = c.Kg(value=sum(x.kg.value for x in lines), min=sum(x.kg.min for x in lines),
                 max=sum(x.kg.max for x in lines))  # fmt: skip
    month = i % 12 + 1
    return c.Emission(
        source=source, activity_kind="request_log" if log else "electricity",
        post="product" if log else POSTS[i % len(POSTS)], site=f"site-{i % 7}", country="FRA",
        period_start=date(2024, month, 1), period_end=date(2024, month, 28), lines=lines,
        total=total, method=c.Method(name="activity-factor", version="1"), breakdown=breakdown,
    )  # fmt: skip


def _source(kind: str) -> c.Source:
    sha = "ab" * 32 if kind == "request_log" else None
    return c.Source(kind=kind, id=uuid.uuid4(), event_id=uuid.uuid4(), stream_version=1,
                    sha256=sha)  # fmt: skip


def history(count: int) -> list[NewEvent]:
    """`count` compute events, in log order, as compute appends them."""
    drafts: list[NewEvent] = []
    live: list[tuple[str, c.Source]] = []
    for i in range(count):
        tenant = TENANTS[i % len(TENANTS)]
        cause = c.Cause(kind="activity_recorded", event_id=uuid.uuid4())
        kind = i % 20
        event: DomainEvent
        if kind in (17, 18) and live:  # a restatement of a source still live
            tenant, source = live[-(i % len(live)) - 1]
            event = c.EmissionRestated(emission=_emission(i, source, 2.0 + i % 50),
                                       previous_total=_kg(1.0), cause=cause)  # fmt: skip
        elif kind in (15, 16) and live:  # a withdrawal
            tenant, source = live.pop(i % len(live))
            event = c.EmissionWithdrawn(source=source, previous_total=_kg(1.0), cause=cause)
        elif kind == 19:
            source = _source("activity")
            event = c.EmissionUnresolved(
                source=source, activity_kind="hotel_night", site="hq", country="BRA",
                period_start=date(2024, 3, 1), period_end=date(2024, 3, 2), reason="no factor",
                cause=cause,
            )  # fmt: skip
        else:
            source = _source("request_log" if kind in (12, 13, 14) else "activity")
            event = c.EmissionCalculated(emission=_emission(i, source, 1.0 + i % 100), cause=cause)
            live.append((tenant, source))
        ctx = CallContext(tenant_id=tenant, role="admin", actor="compute")
        drafts.append(event.to_new_event(f"emission-{source.id}", ctx))
    return drafts
