"""What compute does with inventory's and factors' events: (re)compute, then record.

Each handler runs inside the consumer's transaction: the read-model update, the appended
emission events, their projection and the processed marker commit together.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import pyarrow as pa
import sqlalchemy as sa
from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts import inventory as inv
from contracts import request_log_rows as log_rows
from contracts.compute import Cause, CauseKind, EmissionUnresolved, Source
from contracts.factors import FactorView
from kernel.envelope import RecordedEvent
from kernel.events import DomainEvent
from kernel.store import EventStore
from services.compute.activity_batch import Change, emission_context, record_changes
from services.compute.activity_copy import record_activities
from services.compute.core import EmissionResult, Method
from services.compute.current_emissions import project
from services.compute.domain import (
    EmissionStatus,
    decide_figures,
)
from services.compute.log_copies import ReceivedLog, RequestLogCopies, received_log
from services.compute.product import (
    GRID_KIND,
    grid_factors,
    grid_from_factors,
    grid_lineage,
    log_emission,
)
from services.compute.projections import ReadModels
from services.compute.request_log_intake import compute_log

GRID_RELEASE = "ember-2024"  # grid intensities as co2.js 0.19 ships them (METHODS §1)
_ACTIVITY_CAUSES: dict[str, CauseKind] = {
    "ActivityRecorded": "activity_recorded",
    "ActivityCorrected": "activity_corrected",
    "ActivityRetracted": "activity_retracted",
}
_FACTOR_CAUSES: dict[str, CauseKind] = {
    "FactorPublished": "factor_published",
    "FactorRevised": "factor_revised",
    "FactorRetired": "factor_retired",
    "ReleasePublished": "release_published",
    "CloudReleasePublished": "release_published",
}


class EmissionWorkflow:
    """Recomputes the emissions an incoming event can change, and records what changed."""

    def __init__(
        self,
        store: EventStore,
        models: ReadModels,
        releases: Sequence[str],
        *,
        allow_fallback: bool,
        js: JetStreamContext | None = None,
        grid_release: str = GRID_RELEASE,
    ) -> None:
        self.store, self.models = store, models
        self.releases, self.allow_fallback = releases, allow_fallback
        self.js, self.grid_release = js, grid_release
        self.logs = RequestLogCopies(models.t)

    async def on_inventory_event(self, event: RecordedEvent, conn: AsyncConnection) -> None:
        await self.on_inventory_events([event], conn)

    async def on_inventory_events(
        self, events: Sequence[RecordedEvent], conn: AsyncConnection
    ) -> None:
        """`on_inventory_event` for a consumer's batch: activities' emissions recorded together.

        A run of recordings is copied in one insert; any other event is applied on its own,
        after what came before it.
        """
        await self._hold_catalogue(conn, shared=True)
        changes: list[Change] = []
        recordings: list[RecordedEvent] = []
        for event in events:
            if event.type == "ActivityRecorded":
                recordings.append(event)
                continue
            changes += await self._recorded(conn, recordings)
            recordings = []
            if event.type in _ACTIVITY_CAUSES:
                changes += await self._changed(conn, event)
            elif event.type == "RequestLogReceived":  # what came before, then the log's own
                await self._record_changes(conn, changes)
                changes = []
                await self.on_request_log(event, conn)
        await self._record_changes(conn, changes + await self._recorded(conn, recordings))

    async def _recorded(
        self, conn: AsyncConnection, recordings: Sequence[RecordedEvent]
    ) -> list[Change]:
        states = await record_activities(conn, self.models.t, recordings)
        return [Change(activity, Cause(kind="activity_recorded", event_id=event.event_id), event)
                for activity, event in zip(states, recordings, strict=True)]  # fmt: skip

    async def _changed(self, conn: AsyncConnection, event: RecordedEvent) -> list[Change]:
        activity = await self.models.apply_activity_event(event, conn)
        cause = Cause(kind=_ACTIVITY_CAUSES[event.type], event_id=event.event_id)
        return [] if activity is None else [Change(activity, cause, event)]

    async def _record_changes(self, conn: AsyncConnection, changes: list[Change]) -> None:
        await record_changes(conn, self.store, self.models, changes, self.releases,
                             allow_fallback=self.allow_fallback)  # fmt: skip

    async def on_factor_event(self, event: RecordedEvent, conn: AsyncConnection) -> None:
        await self._hold_catalogue(conn, shared=False)
        kinds = await self.models.apply_factor_event(event, conn)
        cause = Cause(kind=_FACTOR_CAUSES[event.type], event_id=event.event_id)
        changes = [
            Change(activity, cause, event)
            for kind in sorted(kinds)
            for activity in await self.models.activities_of_kind(conn, kind, event.tenant_id)
        ]
        await self._record_changes(conn, changes)  # one append, however many it restates
        if GRID_KIND in kinds and self.js is not None:
            # Request logs took their grid intensities from these factors: compute them again.
            for log in await self.logs.of_tenant(conn, event.tenant_id):
                await self.recompute_log(conn, log, cause, event)

    async def on_request_log(self, event: RecordedEvent, conn: AsyncConnection) -> None:
        """The product footprint of an uploaded request log, with the file's hash as lineage."""
        await self.logs.remember(conn, event)
        cause = Cause(kind="request_log_received", event_id=event.event_id)
        await self.recompute_log(conn, received_log(event), cause, event)

    async def recompute_log(
        self, conn: AsyncConnection, log: ReceivedLog, cause: Cause, trigger: RecordedEvent
    ) -> None:
        """Compute the log's file with today's grid factors; record what changed, if anything."""
        assert self.js is not None, "request logs need NATS (the object store)"
        received = log.received
        chosen = grid_factors(
            await self.models.candidates(conn, GRID_KIND, log.tenant_id), self.grid_release
        )
        result = await compute_log(
            self.js, received.bucket, received.object_name, received.sha256, received.format,
            Method(), grid_from_factors(chosen, self.grid_release), _rows_kept(received),
            received.server,
        )  # fmt: skip
        previous = await self.models.emission_status(conn, received.log_id)
        decided = _log_event(result, log, chosen, cause, previous)
        if decided is not None:
            stream = f"emission-log-{received.log_id}"
            await self._record(conn, decided, stream, previous, trigger, log.tenant_id)

    async def _hold_catalogue(self, conn: AsyncConnection, *, shared: bool) -> None:
        # Factor changes and activity computations exclude each other until they commit.
        # Otherwise an activity computed with the old factors while a change commits is never
        # restated: the change looks for the activities it affects before that one commits,
        # and the activity read the catalogue before the change did. Activity batches (and
        # replicas) share the lock; held to the end of the transaction. Taken first thing, so
        # no other lock is held while waiting for it: no deadlock.
        mode = "_shared" if shared else ""
        key = f"{self.models.t.factors.schema}.catalogue"
        await conn.execute(sa.text(f"SELECT pg_advisory_xact_lock{mode}(hashtext(:k))"), {"k": key})

    async def _record(
        self, conn: AsyncConnection, decided: DomainEvent, stream: str,
        previous: EmissionStatus | None, trigger: RecordedEvent, tenant_id: str,
    ) -> None:  # fmt: skip
        ctx = emission_context(trigger, tenant_id)
        new = decided.to_new_event(stream, ctx, causation_id=trigger.event_id)
        expected = {stream: previous.version if previous else 0}
        recorded = await self.store.append([new], expected_versions=expected, conn=conn)
        await project(conn, self.models.t.emissions, zip([decided], recorded, strict=True))


def _rows_kept(
    received: inv.RequestLogReceived,
) -> Callable[[pa.RecordBatch], pa.RecordBatch] | None:
    """The filter leaving out the rows the log's schema check rejected (when it did).

    One version of the rules exists (`log_rows.RULES`); a new one must keep the old applicable.
    """
    check = received.schema_check
    if check is None or check.rows_rejected == 0:
        return None
    period = (received.period_start, received.period_end)
    return lambda batch: log_rows.keep_valid(batch, period)


def _log_event(
    result: EmissionResult | str, log: ReceivedLog, chosen: Mapping[str, FactorView],
    cause: Cause, previous: EmissionStatus | None,
) -> DomainEvent | None:  # fmt: skip
    received = log.received
    source = Source(
        kind="request_log",
        id=received.log_id,
        event_id=log.event_id,
        stream_version=log.stream_version,
        sha256=received.sha256,
    )
    period = (received.period_start, received.period_end)
    if isinstance(result, str):
        if previous is not None and previous.status == "unresolved" and previous.reason == result:
            return None
        return EmissionUnresolved(
            source=source,
            activity_kind="data_transfer",
            site=received.site,
            country="multiple",
            period_start=period[0],
            period_end=period[1],
            reason=result,
            cause=cause,
        )
    emission = log_emission(
        result,
        log_id=received.log_id,
        event_id=log.event_id,
        stream_version=log.stream_version,
        sha256=received.sha256,
        site=received.site,
        period=period,
        grid=grid_lineage(result, chosen),
    )
    return decide_figures(emission, previous, cause)
