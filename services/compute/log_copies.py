"""Compute's copy of the request logs inventory received: what to compute again, and how.

A grid-factor change restates every request log its release's intensities fed; the file is
read again from the object store, so the copy keeps what the event said about it. Stored as
the event carried it and upcast on read, like any other reader of inventory's events.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts import factors as f
from contracts import inventory as inv
from kernel.envelope import RecordedEvent
from services.compute.tables import ComputeTables


@dataclass(frozen=True)
class ReceivedLog:
    """A request log as inventory announced it, with the event that did."""

    received: inv.RequestLogReceived
    tenant_id: str
    event_id: UUID
    stream_version: int


def received_log(event: RecordedEvent) -> ReceivedLog:
    """The log `event` (a current-version RequestLogReceived) announces."""
    received = inv.RequestLogReceived.from_recorded(event)
    return ReceivedLog(received, event.tenant_id, event.event_id, event.stream_version)


class RequestLogCopies:
    """Reads and writes of compute's `request_logs` table."""

    def __init__(self, tables: ComputeTables) -> None:
        self.table = tables.request_logs

    async def remember(self, conn: AsyncConnection, event: RecordedEvent) -> None:
        row = {
            "log_id": event.payload["log_id"],
            "tenant_id": event.tenant_id,
            "event_id": event.event_id,
            "stream_version": event.stream_version,
            "schema_version": event.schema_version,
            "payload": dict(event.payload),
        }
        stmt = insert(self.table).values(**row)
        await conn.execute(stmt.on_conflict_do_update(index_elements=["log_id"], set_=row))

    async def of_tenant(self, conn: AsyncConnection, tenant_id: str) -> list[ReceivedLog]:
        """The logs a factor owned by `tenant_id` may apply to (every tenant's for a global one)."""
        query = sa.select(self.table).order_by(self.table.c.log_id)
        if tenant_id != f.GLOBAL_TENANT:
            query = query.where(self.table.c.tenant_id == tenant_id)
        return [_log(row) for row in await conn.execute(query)]


def _log(row: sa.Row) -> ReceivedLog:  # type: ignore[type-arg]
    version, payload = inv.UPCASTERS.upcast(
        inv.RequestLogReceived.event_type, row.schema_version, row.payload
    )
    if version != inv.RequestLogReceived.schema_version:
        raise ValueError(f"request log {row.log_id}: no upcaster from v{version}")
    received = inv.RequestLogReceived.model_validate(payload)
    return ReceivedLog(received, row.tenant_id, row.event_id, row.stream_version)
