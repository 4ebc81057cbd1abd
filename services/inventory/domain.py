"""The activity ledger's rules: what a valid activity is, and what may happen to one.

Pure: no I/O. Checks return problems (field, reason) rather than raising, so a batch can
report every rejected item; single commands raise `RequestRefused` naming the field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any
from uuid import UUID

from pydantic import ValidationError

from contracts.activity_kinds import ACTIVITY_KINDS
from contracts.inventory import (
    ActivityCorrected,
    ActivityInput,
    ActivityRecorded,
    ActivityRetracted,
    CorrectActivity,
    Rejection,
    RetractActivity,
    Status,
)
from contracts.units import dimension_of
from kernel.errors import RequestRefused
from services.inventory.regions import COUNTRIES

MAX_ATTRIBUTES_BYTES = 4096
# ISO 3166-1 alpha-3, optionally followed by a sub-national part (GBR-LND, FRA-75).
REGION = re.compile(r"^[A-Z]{3}(-[A-Z0-9]{1,3})?$")


@dataclass(frozen=True)
class Problem:
    field: str
    reason: str


@dataclass(frozen=True)
class BatchCheck:
    """A batch sorted out: the valid items with their index, and why the others are not."""

    accepted: list[tuple[int, ActivityInput]]
    rejected: list[Rejection]


@dataclass(frozen=True)
class ActivityState:
    """What a decision about an existing activity needs to know."""

    activity_id: UUID
    kind: str
    status: Status
    version: int


def check_batch(items: Sequence[Mapping[str, Any]], defaults: Mapping[str, Any]) -> BatchCheck:
    """Every item checked on its own; `defaults` fill the fields an item leaves out."""
    accepted: list[tuple[int, ActivityInput]] = []
    rejected: list[Rejection] = []
    for index, item in enumerate(items):
        found = check_activity({**defaults, **item})
        if isinstance(found, ActivityInput):
            accepted.append((index, found))
        else:
            rejected.extend(Rejection(index=index, field=p.field, reason=p.reason) for p in found)
    return BatchCheck(accepted, rejected)


def check_activity(item: Mapping[str, Any]) -> ActivityInput | list[Problem]:
    """The item as a valid activity, or every problem found with it."""
    try:
        activity = ActivityInput.model_validate(item)
    except ValidationError as error:
        return [_problem(e) for e in error.errors(include_url=False)]
    problems = [
        *measure_problems(activity.kind, activity.quantity, activity.unit),
        *period_problems(activity.period_start, activity.period_end),
        *region_problems(activity.region),
        *_attribute_problems(activity.attributes),
    ]
    return problems or activity


def require_activity(item: Mapping[str, Any], prefix: str = "") -> ActivityInput:
    """The item as a valid activity; `RequestRefused` naming `prefix` + field otherwise."""
    found = check_activity(item)
    if isinstance(found, ActivityInput):
        return found
    raise refusal(found[0], prefix)


def measure_problems(kind: str, quantity: float, unit: str) -> list[Problem]:
    """A known kind, a quantity that is not negative, a unit of the kind's dimension."""
    problems = [] if quantity >= 0 else [Problem("quantity", f"must be >= 0, got {quantity}")]
    if kind not in ACTIVITY_KINDS:
        return [*problems, Problem("kind", f"unknown activity kind {kind!r}")]
    problem = unit_problem(kind, unit)
    return problems if problem is None else [*problems, problem]


def unit_problem(kind: str, unit: str) -> Problem | None:
    expected = ACTIVITY_KINDS[kind]
    found = _dimension(unit)
    if found is None:
        return Problem("unit", f"unknown unit {unit!r}")
    if found != expected.dimension:
        return Problem(
            "unit",
            f"unit {unit!r} measures {found}, but {kind} needs a unit of "
            f"{expected.dimension} (e.g. {expected.default_unit})",
        )
    return None


def period_problems(start: date, end: date) -> list[Problem]:
    if start < end:
        return []
    return [Problem("period_end", f"must be after period_start ({start} .. {end} is empty)")]


def region_problems(region: str) -> list[Problem]:
    if not REGION.match(region):
        reason = f"{region!r} is not an ISO 3166 alpha-3 code, optionally sub-national (GBR-LND)"
        return [Problem("region", reason)]
    if region[:3] not in COUNTRIES:
        return [Problem("region", f"{region[:3]!r} is not an ISO 3166-1 alpha-3 country code")]
    return []


def recorded(activity: ActivityInput, activity_id: UUID) -> ActivityRecorded:
    return ActivityRecorded(activity_id=activity_id, **activity.model_dump())


def decide_correction(state: ActivityState, command: CorrectActivity) -> ActivityCorrected:
    """The correction of a live activity, checked like a new one; refused when retracted."""
    _refuse_if_retracted(state, "corrected")
    problems = [
        *measure_problems(state.kind, command.quantity, command.unit),
        *period_problems(command.period_start, command.period_end),
    ]
    refuse_on(problems)
    return ActivityCorrected(
        activity_id=state.activity_id,
        quantity=command.quantity,
        unit=command.unit,
        period_start=command.period_start,
        period_end=command.period_end,
        reason=command.reason,
    )


def decide_retraction(state: ActivityState, command: RetractActivity) -> ActivityRetracted:
    _refuse_if_retracted(state, "retracted")
    return ActivityRetracted(activity_id=state.activity_id, reason=command.reason)


def refuse_on(problems: Sequence[Problem], prefix: str = "") -> None:
    """Raise the first problem, if any, as a `RequestRefused`."""
    if problems:
        raise refusal(problems[0], prefix)


def refusal(problem: Problem, prefix: str = "") -> RequestRefused:
    """`problem` as a refusal with code `invalid_<field>`, the field named `prefix` + field."""
    field = prefix + problem.field
    return RequestRefused(f"invalid_{problem.field.split('.')[0]}", problem.reason, field)


def _refuse_if_retracted(state: ActivityState, verb: str) -> None:
    if state.status == "retracted":
        raise RequestRefused(
            "activity_retracted",
            f"activity {state.activity_id} is retracted and cannot be {verb}",
            "activity_id",
        )


def _attribute_problems(attributes: dict[str, Any]) -> list[Problem]:
    size = len(json.dumps(attributes, separators=(",", ":"), ensure_ascii=False).encode())
    if size <= MAX_ATTRIBUTES_BYTES:
        return []
    return [Problem("attributes", f"{size} bytes of JSON, more than {MAX_ATTRIBUTES_BYTES}")]


def _problem(error: Mapping[str, Any]) -> Problem:
    field = ".".join(str(p) for p in error["loc"]) or "(item)"
    return Problem(field, str(error["msg"]))


@lru_cache(maxsize=512)
def _dimension(unit: str) -> str | None:
    try:
        return dimension_of(unit)
    except ValueError:
        return None
