"""Reporting's rows from a compute event's JSON are what the contract's models say they are.

Each event is published as the relay publishes it (the envelope's JSON). version_rows.py
reads the JSON as it is, for the live projection and the rebuild alike; the oracle here
decodes it into the contract's models and builds the rows from their fields, as the live
projection did before. Every kind of event, request logs split into parts included.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from contracts import compute as c
from kernel.envelope import RecordedEvent
from kernel.events import DomainEvent
from services.reporting.parts import figures_of, stored
from services.reporting.version_rows import (
    KEPT,
    PART_COLUMNS,
    VERSION_COLUMNS,
    decode,
    head_of,
    kept_of,
    part_records,
    source_key,
    version_record,
)
from tests.unit.reporting.test_parts import activity, request_log


def model_row(
    event: RecordedEvent, payload: DomainEvent, last: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The oracle: the version row from the decoded models."""
    head = {"compute_position": event.global_position, "compute_event_id": event.event_id,
            "event_type": event.type, "recorded_at": event.recorded_at,
            "tenant_id": event.tenant_id, "reason": None, "method": None,
            "total_value": None, "total_min": None, "total_max": None, "lines": []}  # fmt: skip
    if isinstance(payload, c.EmissionCalculated | c.EmissionRestated):
        em = payload.emission
        return head | _source(em.source) | {
            "status": "calculated", "activity_kind": em.activity_kind, "post": em.post,
            "site": em.site, "country": em.country, "period_start": em.period_start,
            "period_end": em.period_end, "total_value": em.total.value,
            "total_min": em.total.min, "total_max": em.total.max, "cause": payload.cause.kind,
            "method": f"{em.method.name} {em.method.version}",
            "lines": [x.model_dump(mode="json") for x in em.lines],
        }  # fmt: skip
    if isinstance(payload, c.EmissionUnresolved):
        return head | _source(payload.source) | {
            "status": "unresolved", "activity_kind": payload.activity_kind, "post": "",
            "site": payload.site, "country": payload.country,
            "period_start": payload.period_start, "period_end": payload.period_end,
            "reason": payload.reason, "cause": payload.cause.kind,
        }  # fmt: skip
    assert isinstance(payload, c.EmissionWithdrawn)
    placeholder = {"activity_kind": "", "post": "", "site": "", "country": "",
                   "period_start": date.min, "period_end": date.min}  # fmt: skip
    kept = {k: last[k] for k in KEPT} if last else placeholder
    return head | _source(payload.source) | kept | {"status": "withdrawn",
                                                    "cause": payload.cause.kind}  # fmt: skip


def _source(source: c.Source) -> dict[str, Any]:
    return {"source_id": source.id, "source_kind": source.kind,
            "source_event_id": source.event_id, "sha256": source.sha256}  # fmt: skip


def model_parts(position: int, payload: DomainEvent) -> list[tuple[Any, ...]]:
    """The oracle's stored parts, from the decoded models."""
    if not isinstance(payload, c.EmissionCalculated | c.EmissionRestated):
        return []
    em = payload.emission
    lines = [figures_of(line) for line in em.lines]
    return [(position, *part) for part in stored(lines, em.country, em.breakdown)]


def published(payload: DomainEvent, position: int) -> bytes:
    event = RecordedEvent(
        event_id=uuid.uuid4(), stream_id="emission-x", stream_version=1,
        type=payload.event_type, schema_version=payload.schema_version, tenant_id="acme",
        occurred_at=datetime(2024, 5, 1, tzinfo=UTC), recorded_at=datetime.now(UTC),
        global_position=position, causation_id=None, correlation_id=uuid.uuid4(),
        actor="system", payload=payload.model_dump(mode="json"), prev_hash=bytes(32),
        hash=bytes(32),
    )  # fmt: skip
    return json.dumps(event.to_json()).encode()


def cause(kind: str = "activity_recorded") -> c.Cause:
    return c.Cause(kind=kind, event_id=uuid.uuid4())  # type: ignore[arg-type]


def history() -> list[DomainEvent]:
    """A source calculated, restated and withdrawn; a request log; an unresolved activity;
    a withdrawal of a source never seen before."""
    lines = [
        c.EmissionLine(component="generation", scope=2, scope2_basis="location",
                       kg=c.Kg(value=7.0, min=6.3, max=7.7), quantity=10.0, unit="kWh"),
        c.EmissionLine(component="upstream", scope=3, category=3, kg=c.Kg(value=1e-5, min=0.0,
                       max=2e-5), quantity=10.0, unit="kWh"),
    ]  # fmt: skip
    first = activity(lines)
    log = request_log()
    return [
        c.EmissionCalculated(emission=first, cause=cause()),
        c.EmissionRestated(emission=first.model_copy(update={"post": "cloud"}),
                           previous_total=first.total, cause=cause("factor_revised")),
        c.EmissionWithdrawn(source=first.source, previous_total=None,
                            cause=cause("activity_retracted")),
        c.EmissionCalculated(emission=log, cause=cause("request_log_received")),
        c.EmissionUnresolved(source=log.source.model_copy(update={"id": uuid.uuid4()}),
                             activity_kind="hotel_night", site="hq", country="BRA",
                             period_start=date(2024, 3, 1), period_end=date(2024, 3, 2),
                             reason="no factor", cause=cause()),
        c.EmissionWithdrawn(source=log.source.model_copy(update={"id": uuid.uuid4()}),
                            previous_total=None, cause=cause("activity_retracted")),
    ]  # fmt: skip


def comparable(record: tuple[Any, ...]) -> tuple[Any, ...]:
    """UUIDs as text (asyncpg takes either), the lines' JSON with ints and floats apart."""
    lines = VERSION_COLUMNS.index("lines")
    exact = [str(v) if isinstance(v, uuid.UUID) else v for v in record]
    exact[lines] = json.loads(exact[lines], parse_float=Decimal, parse_int=lambda s: ("int", s))
    return tuple(exact)


def test_plain_rows_are_the_models_rows_for_every_kind_of_event() -> None:
    kept: dict[Any, Any] = {}
    last: dict[Any, dict[str, Any]] = {}
    for position, payload in enumerate(history(), start=1):
        message = published(payload, position)
        event = RecordedEvent.from_json(json.loads(message))
        typed = c.EVENTS.decode(event)
        source = typed.emission.source if hasattr(typed, "emission") else typed.source  # type: ignore[attr-defined]
        row = model_row(event, typed, last.get(source.id))
        last[source.id] = row
        row["lines"] = json.dumps(row["lines"])
        envelope = decode(message)
        key = source_key("acme", envelope["payload"])
        record = version_record(head_of(envelope), envelope["payload"], kept.get(key))
        kept[key] = kept_of(record)
        assert comparable(record) == comparable(tuple(row[k] for k in VERSION_COLUMNS))
        assert kept_of(record) == tuple(row[k] for k in KEPT)
        parts = part_records(position, envelope["type"], envelope["payload"])
        assert parts == model_parts(position, typed)
        assert all(len(part) == len(PART_COLUMNS) for part in parts)


def test_the_request_log_really_splits_into_parts() -> None:
    envelope = decode(published(c.EmissionCalculated(emission=request_log(), cause=cause()), 9))
    parts = part_records(9, envelope["type"], envelope["payload"])
    assert len(parts) > 2 * len(request_log().lines)  # some line splits


def test_an_unknown_schema_version_is_refused_as_the_models_refuse_it() -> None:
    message = json.loads(published(c.EmissionCalculated(emission=request_log(), cause=cause()), 1))
    with pytest.raises(ValueError, match="EmissionCalculated v2 is not EmissionCalculated v1"):
        decode(json.dumps({**message, "schema_version": 2}).encode())
    with pytest.raises(KeyError, match="EmissionMerged"):
        decode(json.dumps({**message, "type": "EmissionMerged"}).encode())
