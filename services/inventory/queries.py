"""Reads of the ledger's read models, always filtered by the caller's tenant."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar
from uuid import UUID

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.campaigns import CampaignOpened, CampaignQuestion, CampaignTemplate
from contracts.inventory import (
    ActivityPage,
    ActivityView,
    ListActivities,
    ListRequestLogs,
    RequestLogPage,
    RequestLogSummary,
)
from kernel.errors import RequestRefused
from services.inventory.closing import Answered, SubmittedForm
from services.inventory.domain import ActivityState
from services.inventory.projections import LedgerTables

PAGE_BYTES = 512 * 1024
M = TypeVar("M", bound=BaseModel)


async def activity(
    conn: AsyncConnection, t: LedgerTables, tenant_id: str, activity_id: UUID
) -> ActivityView:
    """The activity as it stands now; `not_found` when this tenant has no such activity."""
    table = t.activities
    query = sa.select(table).where(table.c.tenant_id == tenant_id)
    row = (await conn.execute(query.where(table.c.activity_id == activity_id))).first()
    if row is None:
        raise RequestRefused(
            "not_found", f"there is no activity {activity_id} in this organisation", "activity_id"
        )
    return _view(row._mapping)


async def activity_state(
    conn: AsyncConnection, t: LedgerTables, tenant_id: str, activity_id: UUID
) -> ActivityState:
    found = await activity(conn, t, tenant_id, activity_id)
    return ActivityState(found.activity_id, found.kind, found.status, found.version)


async def activities(
    conn: AsyncConnection, t: LedgerTables, tenant_id: str, request: ListActivities
) -> ActivityPage:
    """One page of the tenant's activities in recording order, `next_cursor` for the next.

    A page stops short of `limit` when it would pass `PAGE_BYTES` of JSON (attributes can
    be large), so it always fits in one NATS message.
    """
    table = t.activities
    query = sa.select(table).where(table.c.tenant_id == tenant_id, *_filters(table, request))
    if request.cursor is not None:
        query = query.where(table.c.seq > decode_cursor(request.cursor))
    query = query.order_by(table.c.seq).limit(request.limit + 1)
    rows = [r._mapping for r in await conn.execute(query)]
    items = fitting([_view(row) for row in rows], request.limit)
    more = len(rows) > len(items)
    cursor = encode_cursor(int(rows[len(items) - 1]["seq"])) if more else None
    return ActivityPage(items=items, next_cursor=cursor)


def _filters(table: sa.Table, request: ListActivities) -> list[sa.ColumnElement[bool]]:
    c = table.c
    wanted = {"kind": c.kind, "site": c.site, "region": c.region, "status": c.status}
    found = [
        col == getattr(request, name)
        for name, col in wanted.items()
        if getattr(request, name) is not None
    ]
    if request.period_start is not None:
        found.append(c.period_end > request.period_start)
    if request.period_end is not None:
        found.append(c.period_start < request.period_end)
    return found


@dataclass(frozen=True)
class CampaignState:
    opened: CampaignOpened
    closed: bool


async def campaign(
    conn: AsyncConnection,
    t: LedgerTables,
    tenant_id: str,
    campaign_id: UUID,
    lock: Literal["share", "update"] | None = None,
) -> CampaignState:
    """The campaign; with `lock`, its row stays locked until `conn`'s transaction ends (a
    form takes it shared, closing exclusive: no form slips in while a campaign closes)."""
    table = t.campaigns
    query = sa.select(table).where(table.c.tenant_id == tenant_id)
    query = query.where(table.c.campaign_id == campaign_id)
    if lock is not None:
        query = query.with_for_update(read=lock == "share")
    row = (await conn.execute(query)).first()
    if row is None:
        raise RequestRefused(
            "not_found", f"there is no campaign {campaign_id} in this organisation", "campaign_id"
        )
    m = row._mapping
    return CampaignState(opened_of(m), m["closed_at"] is not None)


def opened_of(m: Any) -> CampaignOpened:
    """The opening a campaigns row keeps."""
    template = m["template"]
    return CampaignOpened(
        campaign_id=m["campaign_id"],
        name=m["name"],
        period_start=m["period_start"],
        period_end=m["period_end"],
        questions=[CampaignQuestion.model_validate(q) for q in m["questions"]],
        template=None if template is None else CampaignTemplate.model_validate(template),
        headcount=m["headcount"],
    )


async def campaign_forms(
    conn: AsyncConnection, t: LedgerTables, tenant_id: str, campaign_id: UUID
) -> list[SubmittedForm]:
    """The campaign's forms in submission order, with their activities as they stand now
    (retracted ones left out)."""
    forms = t.submissions
    query = sa.select(forms.c.submission_id, forms.c.activity_ids).where(
        forms.c.tenant_id == tenant_id, forms.c.campaign_id == campaign_id
    )
    rows = (await conn.execute(query.order_by(forms.c.submitted_at))).all()
    live = await _live_activities(conn, t, tenant_id, [a for r in rows for a in r.activity_ids])
    return [
        SubmittedForm(r.submission_id, [live[a] for a in r.activity_ids if a in live]) for r in rows
    ]


async def _live_activities(
    conn: AsyncConnection, t: LedgerTables, tenant_id: str, ids: list[str]
) -> dict[str, Answered]:
    table = t.activities
    found: dict[str, Answered] = {}
    for start in range(0, len(ids), 5000):  # a bounded number of parameters per statement
        query = sa.select(table).where(
            table.c.tenant_id == tenant_id,
            table.c.activity_id.in_([UUID(i) for i in ids[start : start + 5000]]),
            table.c.status != "retracted",
        )
        for m in (r._mapping for r in await conn.execute(query)):
            found[str(m["activity_id"])] = Answered(
                m["kind"], m["quantity"], m["unit"], m["site"], m["region"]
            )
    return found


def encode_cursor(after: int | UUID) -> str:
    """An opaque cursor for the page after `after` (a position, or a time-ordered id)."""
    value = after if isinstance(after, int) else str(after)
    return base64.urlsafe_b64encode(json.dumps({"after": value}).encode()).decode()


def decode_cursor(cursor: str, field: str = "cursor") -> int:
    """The position a cursor points after; `invalid_cursor` on `field` for anything we did
    not issue."""
    after = _after(cursor, field)
    if not isinstance(after, int) or after < 0:
        raise _invalid_cursor(field)
    return after


def decode_id_cursor(cursor: str, field: str) -> UUID:
    """The id a cursor points after; `invalid_cursor` on `field` for anything we did not
    issue."""
    try:
        return UUID(str(_after(cursor, field)))
    except ValueError:
        raise _invalid_cursor(field) from None


def _after(cursor: str, field: str) -> object:
    try:
        return json.loads(base64.urlsafe_b64decode(cursor.encode()))["after"]
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise _invalid_cursor(field) from None


def _invalid_cursor(field: str) -> RequestRefused:
    return RequestRefused(
        "invalid_cursor", "not a cursor this service issued; use next_cursor as is", field
    )


def _view(m: Any) -> ActivityView:
    return ActivityView.model_validate({name: m[name] for name in ActivityView.model_fields})


async def request_logs(
    conn: AsyncConnection, t: LedgerTables, tenant_id: str, request: ListRequestLogs
) -> RequestLogPage:
    """One page of the tenant's request logs in the order they were received (their ids are
    time-ordered), stopping short of `limit` rather than passing PAGE_BYTES of JSON."""
    table = t.request_logs
    query = sa.select(table).where(table.c.tenant_id == tenant_id)
    if request.after is not None:
        query = query.where(table.c.log_id > decode_id_cursor(request.after, "after"))
    query = query.order_by(table.c.log_id).limit(request.limit + 1)
    rows = [r._mapping for r in await conn.execute(query)]
    fields = RequestLogSummary.model_fields
    found = [RequestLogSummary.model_validate({f: m[f] for f in fields}) for m in rows]
    items = fitting(found, request.limit)
    more = len(rows) > len(items)
    return RequestLogPage(
        items=items, next_cursor=encode_cursor(items[-1].log_id) if more else None
    )


def fitting(items: Sequence[M], limit: int) -> list[M]:
    """The first `limit` items, fewer where they would pass PAGE_BYTES of JSON (one at
    least), so a page always fits in one NATS message."""
    kept: list[M] = []
    size = 0
    for item in items[:limit]:
        size += len(item.model_dump_json())
        if kept and size > PAGE_BYTES:
            break
        kept.append(item)
    return kept


async def request_log_registered(
    conn: AsyncConnection, t: LedgerTables, tenant_id: str, object_name: str
) -> bool:
    """Whether this tenant registered an object of that name already."""
    table = t.request_logs
    query = sa.select(table.c.log_id).where(
        table.c.tenant_id == tenant_id, table.c.object_name == object_name
    )
    return (await conn.execute(query.limit(1))).first() is not None
