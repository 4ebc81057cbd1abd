"""Read models of the ledger: current activities, campaigns, form submissions, request logs.

Built only from the service's own events (`kernel.projection.rebuild` replays them). The
tables live in the service's schema; `migrations/0002_ledger.py` creates them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.campaigns import CampaignClosed, CampaignOpened, FormSubmitted
from contracts.inventory import (
    ActivityCorrected,
    ActivityRecorded,
    ActivityRetracted,
    RequestLogReceived,
)
from kernel import unnest
from kernel.envelope import RecordedEvent


@dataclass(frozen=True)
class LedgerTables:
    activities: sa.Table
    campaigns: sa.Table
    submissions: sa.Table
    request_logs: sa.Table


@cache
def ledger_tables(schema: str) -> LedgerTables:
    """The (cached) read-model tables of the inventory service living in `schema`."""
    md = sa.MetaData(schema=schema)
    return LedgerTables(
        activities=_activities(md),
        campaigns=sa.Table(
            "campaigns", md,
            sa.Column("campaign_id", UUID(as_uuid=True), primary_key=True),
            sa.Column("tenant_id", sa.Text, nullable=False),
            sa.Column("name", sa.Text, nullable=False),
            sa.Column("period_start", sa.Date, nullable=False),
            sa.Column("period_end", sa.Date, nullable=False),
            sa.Column("questions", JSONB, nullable=False),
            sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("template", JSONB),
            sa.Column("headcount", sa.Integer),
            sa.Column("closed_at", sa.DateTime(timezone=True)),
            sa.Column("respondents", sa.Integer),
            sa.Column("factor", sa.Float),
        ),
        submissions=sa.Table(
            "form_submissions", md,
            sa.Column("submission_id", UUID(as_uuid=True), primary_key=True),
            sa.Column("tenant_id", sa.Text, nullable=False),
            sa.Column("campaign_id", UUID(as_uuid=True), nullable=False),
            sa.Column("respondent", sa.Text, nullable=False),
            sa.Column("site", sa.Text, nullable=False),
            sa.Column("region", sa.Text, nullable=False),
            sa.Column("answers", JSONB, nullable=False),
            sa.Column("activity_ids", JSONB, nullable=False),
            sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
            sa.Index("form_submissions_campaign_idx", "tenant_id", "campaign_id"),
        ),
        request_logs=_request_logs(md),
    )  # fmt: skip


def _activities(md: sa.MetaData) -> sa.Table:
    return sa.Table(
        "activities", md,
        sa.Column("activity_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("quantity", sa.Float, nullable=False),
        sa.Column("unit", sa.Text, nullable=False),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("period_end", sa.Date, nullable=False),
        sa.Column("site", sa.Text, nullable=False),
        sa.Column("region", sa.Text, nullable=False),
        sa.Column("source", sa.Text),
        sa.Column("attributes", JSONB, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Index("activities_tenant_seq_idx", "tenant_id", "seq", unique=True),
    )  # fmt: skip


def _request_logs(md: sa.MetaData) -> sa.Table:
    return sa.Table(
        "request_logs", md,
        sa.Column("log_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("bucket", sa.Text, nullable=False),
        sa.Column("object_name", sa.Text, nullable=False),
        sa.Column("sha256", sa.Text, nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("format", sa.Text, nullable=False),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("period_end", sa.Date, nullable=False),
        sa.Column("site", sa.Text, nullable=False),
        sa.Column("row_count", sa.BigInteger),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("schema_check", JSONB),
    )  # fmt: skip


class Ledger:
    """The inventory's projection: one `apply` for every event type of its log."""

    def __init__(self, schema: str) -> None:
        self.t = ledger_tables(schema)
        self.tables: Sequence[sa.Table] = (
            self.t.activities, self.t.campaigns, self.t.submissions, self.t.request_logs,
        )  # fmt: skip

    async def apply(self, event: RecordedEvent, conn: AsyncConnection) -> None:
        await self.apply_many([event], conn)

    async def apply_many(self, events: Sequence[RecordedEvent], conn: AsyncConnection) -> None:
        """Apply `events` in order; runs of recorded activities go in as one bulk insert."""
        run: list[RecordedEvent] = []
        for event in events:
            if event.type == ActivityRecorded.event_type:
                run.append(event)
                continue
            await self._insert_recorded(run, conn)
            run = []
            await self._apply_other(event, conn)
        await self._insert_recorded(run, conn)

    async def _insert_recorded(self, events: list[RecordedEvent], conn: AsyncConnection) -> None:
        if events:
            # one statement of arrays, not a bind and execute per row (kernel/unnest.py)
            rows = [_activity_row(e) for e in events]
            columns = list(rows[0])
            statement = unnest.insert_statement(self.t.activities, columns)
            await conn.execute(statement, unnest.arrays_of(self.t.activities, rows, columns))

    async def _apply_other(self, event: RecordedEvent, conn: AsyncConnection) -> None:
        if event.type == ActivityCorrected.event_type:
            corrected = ActivityCorrected.from_recorded(event)
            fields = corrected.model_dump(exclude={"activity_id", "reason"})
            await self._update(event, corrected.activity_id, "corrected", fields, conn)
        elif event.type == ActivityRetracted.event_type:
            retracted = ActivityRetracted.from_recorded(event)
            await self._update(event, retracted.activity_id, "retracted", {}, conn)
        elif event.type == CampaignOpened.event_type:
            await conn.execute(self.t.campaigns.insert(), _campaign_row(event))
        elif event.type == FormSubmitted.event_type:
            await conn.execute(self.t.submissions.insert(), _submission_row(event))
        elif event.type == CampaignClosed.event_type:
            await self._close(CampaignClosed.from_recorded(event), event, conn)
        elif event.type == RequestLogReceived.event_type:
            await conn.execute(self.t.request_logs.insert(), _request_log_row(event))

    async def _close(
        self, closed: CampaignClosed, event: RecordedEvent, conn: AsyncConnection
    ) -> None:
        table = self.t.campaigns
        changes = {"closed_at": event.recorded_at, "respondents": closed.respondents}
        changes |= {"factor": closed.factor, "headcount": closed.headcount}
        query = table.update().where(table.c.campaign_id == closed.campaign_id)
        await conn.execute(query.values(**changes))

    async def _update(
        self,
        event: RecordedEvent,
        activity_id: Any,
        status: str,
        fields: dict[str, Any],
        conn: AsyncConnection,
    ) -> None:
        table = self.t.activities
        changes = {**fields, "status": status, "version": event.stream_version}
        changes["updated_at"] = event.recorded_at
        await conn.execute(
            table.update().where(table.c.activity_id == activity_id).values(**changes)
        )


def _activity_row(event: RecordedEvent) -> dict[str, Any]:
    recorded = ActivityRecorded.from_recorded(event)
    return {
        **recorded.model_dump(),
        "tenant_id": event.tenant_id,
        "seq": event.global_position,
        "status": "recorded",
        "version": event.stream_version,
        "recorded_at": event.recorded_at,
        "updated_at": event.recorded_at,
    }


def _campaign_row(event: RecordedEvent) -> dict[str, Any]:
    opened = CampaignOpened.from_recorded(event)
    row = opened.model_dump(exclude={"questions", "template"})
    questions = [q.model_dump(mode="json") for q in opened.questions]
    template = None if opened.template is None else opened.template.model_dump(mode="json")
    return {
        **row,
        "questions": questions,
        "template": template,
        "tenant_id": event.tenant_id,
        "opened_at": event.recorded_at,
    }


def _submission_row(event: RecordedEvent) -> dict[str, Any]:
    submitted = FormSubmitted.from_recorded(event)
    row = submitted.model_dump(exclude={"answers", "activity_ids"})
    return {
        **row,
        "answers": [a.model_dump(mode="json") for a in submitted.answers],
        "activity_ids": [str(a) for a in submitted.activity_ids],
        "tenant_id": event.tenant_id,
        "submitted_at": event.recorded_at,
    }


def _request_log_row(event: RecordedEvent) -> dict[str, Any]:
    received = RequestLogReceived.from_recorded(event)
    return {**received.model_dump(), "tenant_id": event.tenant_id, "received_at": event.recorded_at}
