"""Projections: read models built only from events, rebuildable from the log at any time.

A service applies its projections in the transaction that appends the events (so a reply
never runs ahead of its read model) and can rebuild them from its own event table, never
from NATS: dropping a projection and replaying must give the same rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from kernel.envelope import RecordedEvent
from kernel.store import EventStore


class Projection(Protocol):
    """A read model: the tables it owns and how one event changes them."""

    tables: Sequence[sa.Table]

    async def apply(self, event: RecordedEvent, conn: AsyncConnection) -> None: ...


async def apply_all(
    projections: Sequence[Projection], events: Sequence[RecordedEvent], conn: AsyncConnection
) -> None:
    """Apply `events`, in order, to every projection, inside the caller's transaction."""
    for event in events:
        for projection in projections:
            await projection.apply(event, conn)


async def rebuild(
    store: EventStore, projections: Sequence[Projection], *, batch: int = 5000
) -> int:
    """Empty the projections' tables and replay the whole log into them in one transaction."""
    replayed = 0
    async with store.engine.begin() as conn:
        for projection in projections:
            for table in projection.tables:
                await conn.execute(table.delete())
        async for event in store.iterate(batch=batch):
            for projection in projections:
                await projection.apply(event, conn)
            replayed += 1
    return replayed
