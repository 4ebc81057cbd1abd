"""The campaign endpoints: templates, opening, forms and closing.

A form takes its campaign's row shared and closing takes it exclusive, in the transaction
that appends: a form either lands before the closing (and counts) or is refused after it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from contracts import campaigns as cp
from kernel.appending import IdempotencyKey
from kernel.endpoints import CallContext
from kernel.envelope import new_event_id
from kernel.errors import RequestRefused
from kernel.idempotency import keyed
from kernel.runtime import Route
from kernel.store import EventStore, request_fingerprint
from services.inventory import campaign_queries, queries
from services.inventory.appending import append_projected, on_own_stream, view_of
from services.inventory.campaigns import decide_opening, decide_submission
from services.inventory.closing import decide_closing
from services.inventory.projections import Ledger
from services.inventory.templates import TEMPLATES


class Campaigns:
    def __init__(self, store: EventStore, ledger: Ledger) -> None:
        self.store, self.ledger = store, ledger

    @property
    def engine(self) -> AsyncEngine:
        return self.store.engine

    def routes(self) -> list[Route[Any, Any]]:
        return [
            Route(cp.LIST_TEMPLATES, self.list_templates),
            Route(cp.LIST_CAMPAIGNS, self.list_campaigns),
            Route(cp.GET_CAMPAIGN, self.get_campaign),
            Route(cp.OPEN_CAMPAIGN, self.open_campaign),
            Route(cp.SUBMIT_FORM, self.submit_form),
            Route(cp.CLOSE_CAMPAIGN, self.close_campaign),
        ]

    async def list_templates(self, ctx: CallContext, req: cp.ListTemplates) -> cp.TemplateList:
        return cp.TemplateList(templates=list(TEMPLATES.values()))

    async def list_campaigns(self, ctx: CallContext, req: cp.ListCampaigns) -> cp.CampaignPage:
        async with self.engine.connect() as conn:
            return await campaign_queries.campaigns(conn, self.ledger.t, ctx.tenant_id, req)

    async def get_campaign(self, ctx: CallContext, req: cp.GetCampaign) -> cp.CampaignProgress:
        async with self.engine.connect() as conn:
            t = self.ledger.t
            return await campaign_queries.campaign(conn, t, ctx.tenant_id, req.campaign_id)

    async def open_campaign(self, ctx: CallContext, req: cp.OpenCampaign) -> cp.CampaignView:
        opened = decide_opening(req, new_event_id())
        key, reused = keyed(req, req.idempotency_key, cp.OPEN_CAMPAIGN.verb, "campaign")
        async with self.engine.begin() as conn:
            events = [on_own_stream(opened, ctx)]
            stored = await append_projected(self.store, self.ledger, conn, events, key, reused)
        return view_of(cp.CampaignView, cp.CampaignOpened.from_recorded(stored[0]))

    async def submit_form(self, ctx: CallContext, req: cp.SubmitForm) -> cp.SubmissionView:
        """The form and the activities its answers stand for, appended together."""
        key, reused = keyed(req, req.idempotency_key, cp.SUBMIT_FORM.verb, "form")
        async with self.engine.begin() as conn:
            state = await queries.campaign(
                conn, self.ledger.t, ctx.tenant_id, req.campaign_id, lock="share"
            )
            _refuse_if_closed(state)
            submitted, activities = decide_submission(state.opened, req, ctx.actor, new_event_id)
            form_event = on_own_stream(submitted, ctx)
            caused = [on_own_stream(a, ctx, form_event.event_id) for a in activities]
            events = [form_event, *caused]
            stored = await append_projected(self.store, self.ledger, conn, events, key, reused)
        return view_of(cp.SubmissionView, cp.FormSubmitted.from_recorded(stored[0]))

    async def close_campaign(self, ctx: CallContext, req: cp.CloseCampaign) -> cp.CampaignClosing:
        """Close once; a retry (or a second closing) answers the first closing."""
        key = IdempotencyKey(f"close:{req.campaign_id}", request_fingerprint(str(req.campaign_id)))
        async with self.engine.begin() as conn:
            t = self.ledger.t
            state = await queries.campaign(conn, t, ctx.tenant_id, req.campaign_id, lock="update")
            forms = await queries.campaign_forms(conn, t, ctx.tenant_id, req.campaign_id)
            closed, activities = decide_closing(state.opened, forms, req.headcount, new_event_id)
            closing = on_own_stream(closed, ctx)
            caused = [on_own_stream(a, ctx, closing.event_id) for a in activities]
            events = [closing, *caused]
            stored = await append_projected(self.store, self.ledger, conn, events, key)
        return view_of(cp.CampaignClosing, cp.CampaignClosed.from_recorded(stored[0]))


def _refuse_if_closed(state: queries.CampaignState) -> None:
    if state.closed:
        raise RequestRefused(
            "campaign_closed",
            f"campaign {state.opened.campaign_id} is closed and takes no more forms",
            "campaign_id",
        )
