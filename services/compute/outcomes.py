"""One place that decides how an activity is computed: cloud usage by the Boavizta method,
everything else by resolved factors. Used for recorded activities and what-if estimates."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncConnection

from services.compute.cloud_usage import CLOUD_KIND, cloud_outcome
from services.compute.domain import ActivityState, Outcome, calculate
from services.compute.projections import ReadModels


async def outcome_for(
    conn: AsyncConnection, models: ReadModels, activity: ActivityState,
    releases: Sequence[str], *, allow_fallback: bool, stamp: int | None = None,
) -> Outcome:  # fmt: skip
    """The activity's emission from compute's read models, or why there is none.

    `stamp`: the kind's factor stamp, when read already in this transaction (factor_cache).
    """
    if activity.kind == CLOUD_KIND:
        return cloud_outcome(activity, await models.cloud_release(conn))
    resolution = await models.factors.resolved(
        conn, activity, releases, allow_fallback=allow_fallback, stamp=stamp
    )
    return calculate(activity, resolution)
