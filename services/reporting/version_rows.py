"""The rows one compute event makes in reporting's read model (pure: no I/O).

Shared by the live projection (one event per transaction) and the rebuild's bulk replay (a
batch of events per statement), so that both write exactly the same rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from contracts import compute as c
from kernel.envelope import RecordedEvent
from services.reporting.parts import figures_of, stored

# What a withdrawal keeps from the version it withdraws, so it still groups like it.
KEPT = ("activity_kind", "post", "site", "country", "period_start", "period_end")
PART_COLUMNS = ("compute_position", "dimension", "line", "member", "value", "min", "max")


def version_row(
    event: RecordedEvent, payload: Any, last: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The version row of `event` (decoded as `payload`); `last` is the source's latest
    version before it, needed only by a withdrawal."""
    row = {**_describe(payload, last), **_envelope(event)}
    if row["status"] == "calculated":
        # The lines as compute published them (its models' JSON dump, which decoding just
        # checked): what the rebuild's replay stores too, and no dump per line again.
        row["lines"] = event.payload["emission"]["lines"]
    return row


def part_rows(position: int, payload: Any) -> list[dict[str, Any]]:
    """The parts of a calculated or restated version; none for the others (no lines)."""
    if not isinstance(payload, c.EmissionCalculated | c.EmissionRestated):
        return []
    emission = payload.emission
    lines = [figures_of(line) for line in emission.lines]
    return [
        dict(zip(PART_COLUMNS, (position, *part), strict=True))
        for part in stored(lines, emission.country, emission.breakdown)
    ]


def _envelope(event: RecordedEvent) -> dict[str, Any]:
    return {
        "compute_position": event.global_position,
        "compute_event_id": event.event_id,
        "event_type": event.type,
        "recorded_at": event.recorded_at,
        "tenant_id": event.tenant_id,
    }


def _describe(payload: Any, last: Mapping[str, Any] | None) -> dict[str, Any]:
    if isinstance(payload, c.EmissionCalculated | c.EmissionRestated):
        return _calculated(payload.emission, payload.cause)
    if isinstance(payload, c.EmissionUnresolved):
        return {
            **_source(payload.source),
            "status": "unresolved",
            "activity_kind": payload.activity_kind,
            "post": "",
            "site": payload.site,
            "country": payload.country,
            "period_start": payload.period_start,
            "period_end": payload.period_end,
            "lines": [],
            "reason": payload.reason,
            "cause": payload.cause.kind,
            **_no_total(),
        }
    assert isinstance(payload, c.EmissionWithdrawn)
    return {
        **_source(payload.source),
        "status": "withdrawn",
        "lines": [],
        "reason": None,
        "cause": payload.cause.kind,
        **_no_total(),
        **_placeholder(),
        **({k: last[k] for k in KEPT} if last else {}),
    }


def _calculated(emission: c.Emission, cause: c.Cause) -> dict[str, Any]:
    return {
        **_source(emission.source),
        "status": "calculated",
        "activity_kind": emission.activity_kind,
        "post": emission.post,
        "site": emission.site,
        "country": emission.country,
        "period_start": emission.period_start,
        "period_end": emission.period_end,
        "total_value": emission.total.value,
        "total_min": emission.total.min,
        "total_max": emission.total.max,
        "reason": None,
        "cause": cause.kind,
        "method": f"{emission.method.name} {emission.method.version}",
    }


def _source(source: c.Source) -> dict[str, Any]:
    return {
        "source_id": source.id,
        "source_kind": source.kind,
        "source_event_id": source.event_id,
        "sha256": source.sha256,
    }


def _no_total() -> dict[str, Any]:
    return {"total_value": None, "total_min": None, "total_max": None}


def _placeholder() -> dict[str, Any]:
    return {
        "activity_kind": "",
        "post": "",
        "site": "",
        "country": "",
        "period_start": date.min,
        "period_end": date.min,
    }
