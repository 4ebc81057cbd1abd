"""The inventory service's API: organisations' activity ledger, request logs and campaigns.

Events are what the ledger remembers (nothing is ever deleted: a correction or a retraction is
a new event on the activity's stream). Endpoints are `<namespace>.inventory.<verb>`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from contracts.campaigns import (
    CampaignClosed,
    CampaignOpened,
    FormSubmitted,
    add_campaign_upcasters,
)
from contracts.server_footprint import ServerFootprint
from kernel.endpoints import ROLES, EndpointSpec
from kernel.envelope import JsonObject
from kernel.events import DomainEvent, EventCatalogue
from kernel.upcasting import Upcasters

SERVICE = "inventory"
MAX_BATCH = 10_000
REQUEST_LOG_BUCKET = "request_logs"  # the object store bucket is `<namespace>_request_logs`
Status = Literal["recorded", "corrected", "retracted"]
LogFormat = Literal["parquet", "csv", "ndjson"]
# What to do with a request log's bad rows: refuse the file, or accept it and skip them.
BadRows = Literal["refuse", "accept"]
MAX_ROW_ERRORS = 20  # row errors a check keeps (and a refusal lists)


def request_log_bucket(namespace: str) -> str:
    """The JetStream object store bucket request-log files are uploaded to."""
    return f"{namespace}_{REQUEST_LOG_BUCKET}"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# ---- events ----------------------------------------------------------------------------


class ActivityRecorded(DomainEvent):
    event_type = "ActivityRecorded"
    activity_id: UUID
    kind: str
    quantity: float
    unit: str
    period_start: date
    period_end: date
    site: str
    region: str
    source: str | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)


class ActivityCorrected(DomainEvent):
    event_type = "ActivityCorrected"
    activity_id: UUID
    quantity: float
    unit: str
    period_start: date
    period_end: date
    reason: str


class ActivityRetracted(DomainEvent):
    event_type = "ActivityRetracted"
    activity_id: UUID
    reason: str


class RowError(_Model):
    row: int  # 1 is the first data row
    column: str
    reason: str


class LogCheck(_Model):
    """A request log's schema check. Rows failing `rules` (contracts.request_log_rows) are
    counted in `rows_rejected`, which is 0 unless `bad_rows` is accept; computations leave
    those rows out, applying the same `rules`."""

    rules: str
    bad_rows: BadRows
    rows_checked: int
    rows_rejected: int
    first_errors: list[RowError]


class RequestLogReceived(DomainEvent):
    """v2 adds `schema_check` (null on v1 events: those files were never checked); v3 adds
    `server`, the servers' measured footprint the log's requests share (null before v3:
    those logs were computed with SWD's data-centre segment)."""

    event_type = "RequestLogReceived"
    schema_version = 3
    log_id: UUID
    bucket: str
    object_name: str
    sha256: str
    size: int
    format: LogFormat
    period_start: date
    period_end: date
    site: str
    row_count: int | None = None
    schema_check: LogCheck | None = None
    server: ServerFootprint | None = None


EVENTS = EventCatalogue(
    ActivityRecorded,
    ActivityCorrected,
    ActivityRetracted,
    RequestLogReceived,
    CampaignOpened,
    FormSubmitted,
    CampaignClosed,
)

UPCASTERS = Upcasters()  # for every reader of these events: this service and its consumers


add_campaign_upcasters(UPCASTERS)


@UPCASTERS.register("RequestLogReceived", 1)
def _unchecked_log(payload: JsonObject) -> JsonObject:
    return {**payload, "schema_check": None}


@UPCASTERS.register("RequestLogReceived", 2)
def _log_without_server_footprint(payload: JsonObject) -> JsonObject:
    return {**payload, "server": None}


# ---- requests and answers ----------------------------------------------------------------


class ActivityInput(_Model):
    """One activity as an integrator sends it (checked by the service, item by item)."""

    kind: str = Field(max_length=100)
    quantity: float = Field(allow_inf_nan=False)
    unit: str = Field(max_length=50)
    period_start: date
    period_end: date
    site: str = Field(min_length=1, max_length=200)
    region: str = Field(max_length=20)
    source: str | None = Field(default=None, max_length=500)
    attributes: dict[str, Any] = Field(default_factory=dict)


class RecordActivities(_Model):
    """A batch of activities. Items are plain JSON objects so a bad one is rejected alone.

    `defaults` holds fields shared by every item (an item's own value wins), which keeps a
    10,000-item batch small on the wire.
    """

    idempotency_key: str = Field(min_length=1, max_length=200)
    activities: list[dict[str, Any]] = Field(min_length=1, max_length=MAX_BATCH)
    defaults: dict[str, Any] = Field(default_factory=dict)


class Rejection(_Model):
    index: int
    field: str
    reason: str


class RecordOutcome(_Model):
    """Accepted items are stored together (one atomic append); rejected ones are listed."""

    activity_ids: list[UUID | None]  # one per item, in order; null where it was rejected
    accepted: int
    rejected: list[Rejection]
    stored: bool  # whether anything was appended (false when every item was rejected)
    replayed: bool = False  # true when this answers a retry of an earlier request


class CorrectActivity(_Model):
    """With an idempotency key, a retry answers the activity instead of correcting it again."""

    activity_id: UUID
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=200)
    expected_version: int | None = Field(default=None, ge=1)
    quantity: float = Field(allow_inf_nan=False)
    unit: str
    period_start: date
    period_end: date
    reason: str = Field(min_length=1, max_length=1000)


class RetractActivity(_Model):
    """With an idempotency key, a retry answers the retracted activity instead of being
    refused as already retracted."""

    activity_id: UUID
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=200)
    expected_version: int | None = Field(default=None, ge=1)
    reason: str = Field(min_length=1, max_length=1000)


class GetActivity(_Model):
    activity_id: UUID


class ActivityView(_Model):
    activity_id: UUID
    kind: str
    quantity: float
    unit: str
    period_start: date
    period_end: date
    site: str
    region: str
    source: str | None
    attributes: dict[str, Any]
    status: Status
    version: int
    recorded_at: datetime
    updated_at: datetime


class ListActivities(_Model):
    """Filters (all optional; the period ones keep activities overlapping them) and a page."""

    kind: str | None = None
    period_start: date | None = None
    period_end: date | None = None
    site: str | None = None
    region: str | None = None
    status: Status | None = None
    limit: int = Field(default=100, ge=1, le=1000)
    cursor: str | None = None


class ActivityPage(_Model):
    items: list[ActivityView]  # up to `limit`, fewer when that many would be too large
    next_cursor: str | None  # opaque; null on the last page


class RegisterRequestLog(_Model):
    object_name: str = Field(min_length=1, max_length=1000)
    sha256: str = Field(pattern=r"^[0-9a-fA-F]{64}$")
    format: LogFormat
    period_start: date
    period_end: date
    site: str = Field(min_length=1, max_length=200)
    bad_rows: BadRows = "refuse"
    server: ServerFootprint | None = Field(
        default=None, description="the servers' footprint for the period, shared by requests"
    )


class RequestLogView(_Model):
    log_id: UUID
    bucket: str
    object_name: str
    sha256: str
    size: int
    format: LogFormat
    row_count: int | None
    schema_check: LogCheck | None = None
    server: ServerFootprint | None = None


class ListRequestLogs(_Model):
    """A page of the organisation's request logs, in the order they were received."""

    limit: int = Field(default=50, ge=1, le=500)
    after: str | None = Field(default=None, description="a page's next_cursor")


class RequestLogSummary(_Model):
    """A registered request log: its file, what it covers, and its check."""

    log_id: UUID
    object_name: str
    sha256: str
    size: int
    format: LogFormat
    period_start: date
    period_end: date
    site: str
    row_count: int | None
    received_at: datetime
    schema_check: LogCheck | None = None


class RequestLogPage(_Model):
    items: list[RequestLogSummary]  # up to `limit`, fewer when that many would be too large
    next_cursor: str | None  # opaque; null on the last page


# ---- endpoints -----------------------------------------------------------------------------

WRITERS = frozenset({"integrator", "admin"})


RECORD = EndpointSpec(SERVICE, "record", RecordActivities, RecordOutcome, WRITERS)
CORRECT = EndpointSpec(SERVICE, "correct", CorrectActivity, ActivityView, WRITERS)
RETRACT = EndpointSpec(SERVICE, "retract", RetractActivity, ActivityView, WRITERS)
GET = EndpointSpec(SERVICE, "get", GetActivity, ActivityView, ROLES)
LIST = EndpointSpec(SERVICE, "list", ListActivities, ActivityPage, ROLES)
REGISTER_REQUEST_LOG = EndpointSpec(
    SERVICE, "register_request_log", RegisterRequestLog, RequestLogView, WRITERS
)
LIST_REQUEST_LOGS = EndpointSpec(
    SERVICE, "list_request_logs", ListRequestLogs, RequestLogPage, ROLES
)
