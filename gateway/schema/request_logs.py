"""Request logs: the files an organisation uploaded (`POST /v1/request-logs`), listed."""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from contracts import inventory as inv
from gateway.schema.common import PAGE_ARGUMENTS, READERS, GqlInfo, build, call


@strawberry.type(description="A row a request log's check refused, and why.")
class RowError:
    row: int = strawberry.field(description="1 is the first data row")
    column: str
    reason: str


@strawberry.type(description="A request log's schema check, row by row.")
class LogCheck:
    rules: str
    bad_rows: str
    rows_checked: int
    rows_rejected: int
    first_errors: list[RowError]


@strawberry.type(description="A registered request log: its file, what it covers, its check.")
class RequestLog:
    id: strawberry.ID
    object_name: str
    sha256: str
    size: float = strawberry.field(description="bytes (a Float: files may pass 2 GiB)")
    format: str
    period_start: date
    period_end: date
    site: str
    row_count: int | None
    received_at: datetime
    check: LogCheck | None

    @staticmethod
    def of(v: inv.RequestLogSummary) -> RequestLog:
        check = v.schema_check
        return RequestLog(
            id=strawberry.ID(str(v.log_id)), object_name=v.object_name, sha256=v.sha256,
            size=v.size, format=v.format, period_start=v.period_start,
            period_end=v.period_end, site=v.site, row_count=v.row_count,
            received_at=v.received_at,
            check=None if check is None else LogCheck(
                **check.model_dump(exclude={"first_errors"}),
                first_errors=[RowError(**e.model_dump()) for e in check.first_errors],
            ),
        )  # fmt: skip


@strawberry.type
class RequestLogPage:
    items: list[RequestLog]
    next_cursor: str | None


async def request_logs(info: GqlInfo, first: int = 50, after: str | None = None) -> RequestLogPage:
    """The organisation's request logs, in the order they were received."""
    request = build(inv.ListRequestLogs, named=PAGE_ARGUMENTS, limit=first, after=after)
    page = await call(info, inv.LIST_REQUEST_LOGS, request, *READERS)
    return RequestLogPage(
        items=[RequestLog.of(v) for v in page.items], next_cursor=page.next_cursor
    )
