"""Closing a campaign: for a survey, the respondents' activities extrapolated to the headcount.

Pure. The respondents' live activities (retracted ones left out, corrected ones as they
stand) are summed by kind, unit, site and region; each sum gets one more activity for the
people who did not answer: sum x (headcount - respondents) / respondents, flagged
`extrapolated` with the factor headcount / respondents. Answers stay as recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from uuid import UUID

from contracts.campaigns import CampaignClosed, CampaignOpened
from contracts.inventory import ActivityRecorded
from kernel.errors import RequestRefused
from services.inventory.domain import recorded, require_activity

Group = tuple[str, str, str, str]  # kind, unit, site, region


@dataclass(frozen=True)
class Answered:
    """A respondent's activity as it stands now."""

    kind: str
    quantity: float
    unit: str
    site: str
    region: str


@dataclass(frozen=True)
class SubmittedForm:
    submission_id: UUID
    activities: list[Answered]


def decide_closing(
    campaign: CampaignOpened,
    forms: Sequence[SubmittedForm],
    headcount: int | None,
    new_id: Callable[[], UUID],
) -> tuple[CampaignClosed, list[ActivityRecorded]]:
    """The closing, and the extrapolation activities when the campaign is a survey."""
    headcount = campaign.headcount if headcount is None else headcount
    respondents = len(forms)
    if headcount is not None and respondents > headcount:
        raise RequestRefused(
            "invalid_headcount", f"{respondents} forms were submitted for a headcount of "
            f"{headcount}; close with the actual headcount", "headcount",
        )  # fmt: skip
    survey = campaign.template is not None and campaign.template.survey
    extrapolate = survey and headcount is not None and respondents > 0
    activities = _extrapolated(campaign, forms, headcount, new_id) if extrapolate else []
    closed = CampaignClosed(
        campaign_id=campaign.campaign_id,
        headcount=headcount,
        respondents=respondents,
        response_rate=None if not headcount else respondents / headcount,
        factor=headcount / respondents if extrapolate and headcount else None,
        submission_ids=[f.submission_id for f in forms],
        activity_ids=[a.activity_id for a in activities],
    )
    return closed, activities


def _extrapolated(
    campaign: CampaignOpened,
    forms: Sequence[SubmittedForm],
    headcount: int | None,
    new_id: Callable[[], UUID],
) -> list[ActivityRecorded]:
    assert headcount is not None
    respondents = len(forms)
    share = (headcount - respondents) / respondents
    if share == 0:
        return []  # everyone answered: nothing to add
    sums: dict[Group, float] = {}
    for form in forms:
        for a in form.activities:
            group = (a.kind, a.unit, a.site, a.region)
            sums[group] = sums.get(group, 0.0) + a.quantity
    attributes = {
        "campaign_id": str(campaign.campaign_id),
        "extrapolated": True,
        "factor": headcount / respondents,
        "headcount": headcount,
        "respondents": respondents,
        "response_rate": respondents / headcount,
    }
    return [
        recorded(
            require_activity(_item(campaign, group, total * share, attributes, total)), new_id()
        )
        for group, total in sums.items()
        if total > 0
    ]


def _item(
    campaign: CampaignOpened, group: Group, quantity: float, attributes: dict[str, object],
    answered: float,
) -> dict[str, object]:  # fmt: skip
    kind, unit, site, region = group
    return {
        "kind": kind,
        "quantity": quantity,
        "unit": unit,
        "period_start": campaign.period_start,
        "period_end": campaign.period_end,
        "site": site,
        "region": region,
        "source": f"campaign:{campaign.campaign_id}/extrapolation",
        "attributes": {**attributes, "respondents_quantity": answered},
    }
