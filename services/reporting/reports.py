"""Generated reports: the projection of ReportGenerated (reporting's own log) and its reads."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts import reporting as r
from kernel.envelope import RecordedEvent
from kernel.errors import RequestRefused
from services.reporting.tables import ReportingTables


class Reports:
    """One row per generated report; rebuilt from reporting's own event log."""

    def __init__(self, tables: ReportingTables) -> None:
        self.table = tables.reports
        self.tables: Sequence[sa.Table] = (tables.reports,)

    async def apply(self, event: RecordedEvent, conn: AsyncConnection) -> None:
        if event.type != r.ReportGenerated.event_type:
            return
        facts = r.ReportGenerated.from_recorded(event)
        row = {
            "position": event.global_position,
            "report_id": facts.report_id,
            "tenant_id": event.tenant_id,
            "recorded_at": event.recorded_at,
            "actor": event.actor,
            "facts": facts.model_dump(mode="json"),
        }
        await conn.execute(insert(self.table).values(**row).on_conflict_do_nothing())

    async def get(self, conn: AsyncConnection, tenant_id: str, report_id: UUID) -> r.ReportView:
        t = self.table
        query = sa.select(t).where(t.c.tenant_id == tenant_id, t.c.report_id == report_id)
        row = (await conn.execute(query)).first()
        if row is None:
            raise RequestRefused("not_found", f"there is no report {report_id}", "report_id")
        return _view(row)

    async def page(
        self, conn: AsyncConnection, tenant_id: str, request: r.ListReports
    ) -> r.ReportPage:
        """The tenant's reports, newest first; `after` is the last page's cursor."""
        t = self.table
        query = sa.select(t).where(t.c.tenant_id == tenant_id)
        if request.after is not None:
            query = query.where(t.c.position < _cursor(request.after))
        query = query.order_by(t.c.position.desc()).limit(request.limit + 1)
        rows = list(await conn.execute(query))
        more = len(rows) > request.limit
        rows = rows[: request.limit]
        cursor = str(rows[-1].position) if more else None
        return r.ReportPage(items=[_view(row) for row in rows], next=cursor)


def _cursor(text: str) -> int:
    if not text.isdigit():
        raise RequestRefused("invalid_cursor", "not a cursor from a previous page", "after")
    return int(text)


def _view(row: Any) -> r.ReportView:
    return r.ReportView.model_validate(
        {**row.facts, "generated_at": row.recorded_at, "actor": row.actor}
    )
