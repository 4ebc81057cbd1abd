"""What every service answers about its own event log: history and chain verification.

Auditors read a service's history page by page (by stream or the whole log, their tenant's
events only) and check that its hash chain holds end to end.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from kernel.endpoints import EndpointSpec

AUDITORS = frozenset({"auditor", "compliance", "admin", "service"})


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class History(_Model):
    """A page of the log: one stream (from a version) or the whole log (after a position)."""

    stream_id: str | None = None
    after_position: int = Field(default=0, ge=0)
    limit: int = Field(default=100, ge=1, le=1000)


class LoggedEvent(_Model):
    event_id: UUID
    stream_id: str
    stream_version: int
    type: str
    schema_version: int
    occurred_at: datetime
    recorded_at: datetime
    global_position: int
    causation_id: UUID | None
    correlation_id: UUID | None
    actor: str
    payload: dict[str, Any]
    hash: str


class HistoryPage(_Model):
    events: list[LoggedEvent]
    next_after_position: int | None = Field(description="pass as after_position for more")


class Verify(_Model):
    pass


class Verification(_Model):
    service: str
    ok: bool
    checked: int
    first_broken_position: int | None = None
    reason: str | None = None


def history_spec(service: str) -> EndpointSpec[History, HistoryPage]:
    return EndpointSpec(service, "audit_history", History, HistoryPage, AUDITORS)


def verify_spec(service: str) -> EndpointSpec[Verify, Verification]:
    return EndpointSpec(service, "audit_verify", Verify, Verification, AUDITORS)
