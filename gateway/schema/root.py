"""The public GraphQL schema: one root type per operation kind, fields grouped by area."""

from __future__ import annotations

import inspect
from collections.abc import AsyncGenerator, Callable
from pathlib import Path
from typing import Any

import strawberry
from strawberry.extensions import (
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
)

from gateway.documents import CachedParse, CachedValidation
from gateway.errors import TypedErrors
from gateway.schema import activities as act
from gateway.schema import audit, changes, emissions, factor_admin, factors, ledger
from gateway.schema import campaigns as camp
from gateway.schema import footprint as fp
from gateway.schema import reports as rep
from gateway.schema.access import IssuedApiKey, Me, create_api_key, resolve_me, revoke_api_key
from gateway.schema.health import ServiceHealth, resolve_health
from gateway.schema.request_logs import RequestLogPage, request_logs

MAX_DEPTH, MAX_TOKENS, MAX_ALIASES = 12, 5_000, 30
SCHEMA_FILE = Path(__file__).parents[1] / "schema.graphql"


def _query(resolver: Callable[..., Any]) -> Any:
    """A query field described by its resolver's docstring."""
    return strawberry.field(resolver=resolver, description=inspect.getdoc(resolver))


def _mutation(resolver: Callable[..., Any]) -> Any:
    """A mutation described by its resolver's docstring."""
    return strawberry.mutation(resolver=resolver, description=inspect.getdoc(resolver))


@strawberry.type
class Query:
    health: list[ServiceHealth] = strawberry.field(
        resolver=resolve_health, description="Every service's health, asked over NATS."
    )
    me: Me = strawberry.field(resolver=resolve_me, description="Who this API key is.")
    # factors and releases
    search_factors: factors.FactorSearchResult = _query(factors.search_factors)
    factor: factors.Factor = _query(factors.factor)
    resolve_factors: factors.Resolution = _query(factors.resolve_factors)
    releases: list[factors.Release] = _query(factors.releases)
    # activities and their emissions
    activity: act.Activity = _query(act.activity)
    activities: act.ActivityConnection = _query(act.activities)
    emission: emissions.Emission | None = _query(emissions.emission)
    unresolved_activities: emissions.UnresolvedPage = _query(emissions.unresolved_activities)
    # footprint
    footprint: fp.Footprint = _query(fp.footprint)
    footprint_series: list[fp.MonthPoint] = _query(fp.footprint_series)
    compare_footprint: list[fp.ComparedGroup] = _query(fp.compare_footprint)
    # reports (auditor, compliance, admin)
    report: rep.Report = _query(rep.report)
    reports: rep.ReportPage = _query(rep.reports)
    # audit (auditor, compliance, admin)
    audit_history: audit.HistoryPage = _query(audit.audit_history)
    verify_log: audit.Verification = _query(audit.verify_log)
    lineage: audit.Lineage = _query(audit.lineage)
    footprint_as_known_at: fp.Footprint = _query(audit.footprint_as_known_at)
    restatement_diff: audit.RestatementDiff = _query(audit.restatement_diff)
    # campaigns
    campaign_templates: list[camp.CampaignTemplate] = _query(camp.campaign_templates)
    campaigns: camp.CampaignPage = _query(camp.campaigns)
    campaign: camp.CampaignProgress = _query(camp.campaign)
    # request logs (uploaded through REST)
    request_logs: RequestLogPage = _query(request_logs)


@strawberry.type
class Mutation:
    create_api_key: IssuedApiKey = _mutation(create_api_key)
    revoke_api_key: bool = _mutation(revoke_api_key)
    record_activities: ledger.RecordActivitiesPayload = _mutation(ledger.record_activities)
    correct_activity: act.Activity = _mutation(ledger.correct_activity)
    retract_activity: act.Activity = _mutation(ledger.retract_activity)
    open_campaign: camp.Campaign = _mutation(camp.open_campaign)
    submit_form: camp.Submission = _mutation(camp.submit_form)
    close_campaign: camp.CampaignClosing = _mutation(camp.close_campaign)
    publish_factor: factor_admin.FactorAccepted = _mutation(factor_admin.publish_factor)
    revise_factor: factor_admin.FactorAccepted = _mutation(factor_admin.revise_factor)
    retire_factor: factor_admin.FactorAccepted = _mutation(factor_admin.retire_factor)
    generate_report: rep.Report = _mutation(rep.generate_report)


@strawberry.type
class Subscription:
    footprint_changed: AsyncGenerator[changes.FootprintChange, None] = strawberry.subscription(
        resolver=changes.footprint_changed,
        description="Every change of the caller's organisation's footprint.",
    )


schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    extensions=[
        TypedErrors,
        lambda: QueryDepthLimiter(max_depth=MAX_DEPTH),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
        # Parsing and validating the same few documents again and again was most of the
        # gateway's own time per request; the limits above are properties of the document
        # alone, so a cached verdict is the same verdict.
        CachedParse,
        CachedValidation,
    ],
)
