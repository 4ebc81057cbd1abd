"""The rows one compute event makes in reporting's read model, built straight from the
event's payload as published (JSON), with no pydantic model in between (pure: no I/O).

Shared by the live projection (projections.py, a consumer's batch at a time) and the
rebuild's bulk path (bulk.py, a whole stream), so both write the same rows by construction.
Decoding each event into its models, then dumping its lines back to JSON, was most of the
replay's time and a fifth of the live consumer's. Compute wrote each payload as its model's
JSON dump (DomainEvent's `to_new_event`), validated as it built it, and its log's hash chain
vouches that the text has not changed since; the plain values are those the models would
give back. What this module checks is the event's type and schema version (`check`), as
the models' decoding would: an unknown one fails the consumer, which retries it, then
parks it in its dead-letter stream. tests/unit/reporting/test_version_rows.py holds the
rows equal to what the contract's models say, for every kind of event.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from contracts import compute as c
from kernel import wire
from services.reporting.parts import COUNTRY, DEVICE, LineFigures, default_member, stored

# What a withdrawal keeps from the version it withdraws, so it still groups like it.
KEPT = ("activity_kind", "post", "site", "country", "period_start", "period_end")
PART_COLUMNS = ("compute_position", "dimension", "line", "member", "value", "min", "max")
VERSION_COLUMNS = (
    "compute_position", "compute_event_id", "event_type", "recorded_at", "tenant_id",
    "source_id", "source_kind", "source_event_id", "sha256", "status", "activity_kind",
    "post", "site", "country", "period_start", "period_end", "total_value", "total_min",
    "total_max", "lines", "reason", "cause", "method",
)  # fmt: skip
Record = tuple[Any, ...]
# (compute_position, compute_event_id, event_type, recorded_at, tenant_id): the envelope's
Head = tuple[int, Any, str, datetime, str]
# What a withdrawal keeps of its source's latest version: KEPT's columns, in that order
Kept = tuple[Any, ...]
_CALCULATED = {c.EmissionCalculated.event_type, c.EmissionRestated.event_type}
_PLACEHOLDER: Kept = ("", "", "", "", date.min, date.min)
_NO_TOTAL = (None, None, None)
_NO_LINES = "[]"
SOURCE_COLUMNS = (
    "tenant_id", "source_id", "compute_position", "status", "post", "site", "activity_kind",
    "country", "period_start",
)  # fmt: skip
FIGURE_COLUMNS = (
    "tenant_id", "source_id", "dimension", "line", "member", "device", "country",
    "compute_position", "period_start", "scope", "scope2_basis", "category", "component",
    "post", "site", "activity_kind", "source_kind", "value", "min", "max",
)  # fmt: skip
_AT = {column: VERSION_COLUMNS.index(column) for column in VERSION_COLUMNS}
_CURRENT = ("calculated", "unresolved")


def decode(data: bytes) -> dict[str, Any]:
    """A published event's envelope, refused (see `check`) when its type or schema version
    is not one this code knows."""
    envelope: dict[str, Any] = wire.decode(data)
    check(envelope["type"], envelope["schema_version"])
    return envelope


def check(kind: str, version: int) -> None:
    """Refuse an event whose type or schema version this code does not know, as the
    models' decoding (EventCatalogue.decode) would."""
    c.EVENTS.check(kind, version)


def head_of(envelope: Mapping[str, Any]) -> Head:
    """The head of a published envelope (decoded JSON)."""
    return (
        envelope["global_position"], envelope["event_id"], envelope["type"],
        datetime.fromisoformat(envelope["recorded_at"]), envelope["tenant_id"],
    )  # fmt: skip


def source_key(tenant_id: str, payload: Mapping[str, Any]) -> tuple[str, str]:
    """(tenant, source id as text): whose latest version a withdrawal reads."""
    source = payload["emission"]["source"] if "emission" in payload else payload["source"]
    return tenant_id, source["id"]


def version_record(head: Head, payload: Mapping[str, Any], kept: Kept | None) -> Record:
    """The version row of the event, in VERSION_COLUMNS' order; `kept` is what its source's
    latest version keeps (see `kept_of`), needed only by a withdrawal."""
    kind = head[2]
    if kind in _CALCULATED:
        return head + _calculated(payload["emission"], payload["cause"])
    if kind == c.EmissionUnresolved.event_type:
        return head + _unresolved(payload)
    return (
        *head, *_source(payload["source"]), "withdrawn", *(kept or _PLACEHOLDER), *_NO_TOTAL,
        _NO_LINES, None, payload["cause"]["kind"], None,
    )  # fmt: skip


_KEPT_AT = tuple(VERSION_COLUMNS.index(column) for column in KEPT)


def kept_of(record: Record) -> Kept:
    """What a later withdrawal of the record's source keeps from it."""
    return tuple(record[i] for i in _KEPT_AT)


def part_records(position: int, kind: str, payload: Mapping[str, Any]) -> list[Record]:
    """The stored parts of a calculated or restated version (PART_COLUMNS' order)."""
    if kind not in _CALCULATED:
        return []
    emission = payload["emission"]
    lines: list[LineFigures] = [
        (line["component"], line["kg"]["value"], line["kg"]["min"], line["kg"]["max"])
        for line in emission["lines"]
    ]
    return [(position, *part) for part in stored(lines, emission["country"], emission["breakdown"])]


def _calculated(emission: Mapping[str, Any], cause: Mapping[str, Any]) -> Record:
    total, method = emission["total"], emission["method"]
    # asyncpg's jsonb codec (set by SQLAlchemy's dialect) takes the JSON text
    return (
        *_source(emission["source"]), "calculated", emission["activity_kind"],
        emission["post"], emission["site"], emission["country"],
        date.fromisoformat(emission["period_start"]), date.fromisoformat(emission["period_end"]),
        total["value"], total["min"], total["max"], wire.encode(emission["lines"]).decode(),
        None, cause["kind"], f"{method['name']} {method['version']}",
    )  # fmt: skip


def _unresolved(payload: Mapping[str, Any]) -> Record:
    return (
        *_source(payload["source"]), "unresolved", payload["activity_kind"], "",
        payload["site"], payload["country"], date.fromisoformat(payload["period_start"]),
        date.fromisoformat(payload["period_end"]), *_NO_TOTAL, _NO_LINES, payload["reason"],
        payload["cause"]["kind"], None,
    )  # fmt: skip


def _source(source: Mapping[str, Any]) -> Record:
    return (source["id"], source["kind"], source["event_id"], source.get("sha256"))


def current_rows(
    payload: Mapping[str, Any], record: Record, parts: list[Record]
) -> tuple[Record | None, list[Record]]:
    """What the current tables hold for the version `record` (with its `parts`) while it is
    its source's latest: its current_sources row (None when withdrawn) and its
    current_figures rows, in SOURCE_COLUMNS' and FIGURE_COLUMNS' order, as current.py's SQL
    derives them from the version's JSON lines and stored parts."""
    status = record[_AT["status"]]
    if status not in _CURRENT:
        return None, []
    source = tuple(record[_AT[column]] for column in SOURCE_COLUMNS)
    if status != "calculated":
        return source, []
    lines = payload["emission"]["lines"]
    by_line: dict[int, list[Record]] = {}
    for part in parts:
        by_line.setdefault(part[2], []).append(part)
    country, tenant_source = record[_AT["country"]], source[:2]
    figures: list[Record] = []
    for index, line in enumerate(lines):
        kg, its_parts = line["kg"], by_line.get(index, ())
        split = {part[1] for part in its_parts}  # the dimensions with stored parts
        device_whole = None if DEVICE in split else default_member(DEVICE, country)
        country_whole = None if COUNTRY in split else default_member(COUNTRY, country)
        shared = _figure_columns(record, line)
        figures.append(
            (*tenant_source, "line", index, "", device_whole, country_whole, *shared,
             float(kg["value"]), float(kg["min"]), float(kg["max"]))
        )  # fmt: skip
        figures += [
            (*tenant_source, part[1], index, part[3], None, None, *shared, *part[4:])
            for part in its_parts
        ]
    return source, figures


def _figure_columns(record: Record, line: Mapping[str, Any]) -> Record:
    """compute_position .. source_kind of FIGURE_COLUMNS, for one line of `record`."""
    return (
        record[_AT["compute_position"]], record[_AT["period_start"]], line.get("scope"),
        line.get("scope2_basis"), line.get("category"), line.get("component"),
        record[_AT["post"]], record[_AT["site"]], record[_AT["activity_kind"]],
        record[_AT["source_kind"]],
    )  # fmt: skip
