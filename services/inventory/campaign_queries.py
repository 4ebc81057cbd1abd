"""Reads of the campaigns: where each collection stands (opened, closed, forms received)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts import campaigns as cp
from kernel.errors import RequestRefused
from services.inventory.appending import view_of
from services.inventory.projections import LedgerTables
from services.inventory.queries import decode_id_cursor, encode_cursor, fitting, opened_of


async def campaigns(
    conn: AsyncConnection, t: LedgerTables, tenant_id: str, request: cp.ListCampaigns
) -> cp.CampaignPage:
    """One page of the tenant's campaigns in opening order (their ids are time-ordered)."""
    query = _progress(t).where(t.campaigns.c.tenant_id == tenant_id)
    if request.after is not None:
        query = query.where(t.campaigns.c.campaign_id > decode_id_cursor(request.after, "after"))
    query = query.order_by(t.campaigns.c.campaign_id).limit(request.limit + 1)
    rows = [r._mapping for r in await conn.execute(query)]
    items = fitting([_progress_of(row) for row in rows], request.limit)
    more = len(rows) > len(items)
    return cp.CampaignPage(
        items=items, next_cursor=encode_cursor(items[-1].campaign.campaign_id) if more else None
    )


async def campaign(
    conn: AsyncConnection, t: LedgerTables, tenant_id: str, campaign_id: UUID
) -> cp.CampaignProgress:
    """The campaign and its progress; `not_found` when this tenant has no such campaign."""
    c = t.campaigns.c
    query = _progress(t).where(c.tenant_id == tenant_id, c.campaign_id == campaign_id)
    row = (await conn.execute(query)).first()
    if row is None:
        raise RequestRefused(
            "not_found", f"there is no campaign {campaign_id} in this organisation", "campaign_id"
        )
    return _progress_of(row._mapping)


def _progress(t: LedgerTables) -> sa.Select[Any]:
    forms = t.submissions
    counted = (
        sa.select(sa.func.count())
        .where(forms.c.tenant_id == t.campaigns.c.tenant_id)
        .where(forms.c.campaign_id == t.campaigns.c.campaign_id)
        .scalar_subquery()
    )
    return sa.select(t.campaigns, counted.label("forms"))


def _progress_of(m: Any) -> cp.CampaignProgress:
    return cp.CampaignProgress(
        campaign=view_of(cp.CampaignView, opened_of(m)),
        opened_at=m["opened_at"],
        closed_at=m["closed_at"],
        forms=m["forms"],
    )
