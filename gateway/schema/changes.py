"""Live changes: `footprintChanged` for the caller's organisation, from reporting's notices."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

import strawberry
from nats.aio.msg import Msg

from contracts import reporting as r
from gateway.schema.common import READERS, GqlInfo

QUEUE_SIZE = 1000


@strawberry.type(description="A source of the footprint moved: refetch what shows it.")
class FootprintChange:
    source_id: strawberry.ID
    status: str
    compute_position: int


async def footprint_changed(info: GqlInfo) -> AsyncGenerator[FootprintChange, None]:
    """Every change of the organisation's footprint, as reporting applies it."""
    ctx = info.context.acting_as(*READERS)
    subject = r.changes_subject(info.context.namespace, ctx.tenant_id)
    notices: asyncio.Queue[bytes] = asyncio.Queue(QUEUE_SIZE)

    async def heard(msg: Msg) -> None:
        if not notices.full():  # a slow client misses notices rather than growing memory
            notices.put_nowait(msg.data)

    subscription = await info.context.nc.subscribe(subject, cb=heard)
    try:
        while True:
            notice = r.FootprintChanged.model_validate_json(await notices.get())
            if notice.tenant_id == ctx.tenant_id:
                yield FootprintChange(
                    source_id=strawberry.ID(str(notice.source_id)),
                    status=notice.status,
                    compute_position=notice.compute_position,
                )
    finally:
        await subscription.unsubscribe()
