"""Compute's read models: factors and activities from the events it consumes, and the
current state of every emission from its own log.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts import factors as f
from contracts.factors import FactorValues, FactorView
from kernel.envelope import RecordedEvent
from services.compute.activity_copy import activity_row, activity_state
from services.compute.current_emissions import read_statuses
from services.compute.domain import ActivityState, EmissionStatus
from services.compute.factor_cache import FactorCandidates
from services.compute.tables import ComputeTables


class ReadModels:
    """Reads and writes of compute's tables in one schema."""

    def __init__(self, tables: ComputeTables, *, factor_cache: bool = True) -> None:
        self.t = tables
        self.factors = FactorCandidates(tables, cache=factor_cache)

    # ---- factors ---------------------------------------------------------------------

    async def apply_factor_event(self, event: RecordedEvent, conn: AsyncConnection) -> set[str]:
        """Update the factor copy; return the activity kinds the event touches."""
        kinds = await self._apply_factor_payload(event, conn)
        await self.factors.bump(conn, kinds)  # same transaction: see factor_cache.py
        return kinds

    async def _apply_factor_payload(self, event: RecordedEvent, conn: AsyncConnection) -> set[str]:
        payload = f.EVENTS.decode(event)
        if isinstance(payload, f.FactorPublished):
            await self._add_version(
                conn,
                event,
                payload.factor_id,
                1,
                payload.values,
                payload.activity_kind,
                payload.component,
            )
            return {payload.activity_kind}
        if isinstance(payload, f.FactorRevised):
            return _kinds(await self._revise(conn, event, payload))
        if isinstance(payload, f.FactorRetired):
            return _kinds(await self._retire(conn, payload))
        if isinstance(payload, f.ReleasePublished):
            return await self._add_release(conn, payload)
        if isinstance(payload, f.CloudReleasePublished):
            await self._add_cloud_release(conn, event, payload)
            return {"cloud_instance_usage"}
        return set()

    async def _add_cloud_release(
        self, conn: AsyncConnection, event: RecordedEvent, cloud: f.CloudReleasePublished
    ) -> None:
        row = {"name": cloud.name, "content_sha256": cloud.content_sha256,
               "release": cloud.release, "recorded_at": event.recorded_at}  # fmt: skip
        stmt = insert(self.t.cloud_releases).values(**row)
        await conn.execute(stmt.on_conflict_do_update(index_elements=["name"], set_=row))

    async def cloud_release(self, conn: AsyncConnection) -> dict[str, Any] | None:
        """The most recently received Boavizta cloud release, or None."""
        t = self.t.cloud_releases
        query = sa.select(t.c.release).order_by(t.c.recorded_at.desc()).limit(1)
        found = (await conn.execute(query)).scalar_one_or_none()
        return None if found is None else dict(found)

    async def _add_version(
        self, conn: AsyncConnection, event: RecordedEvent, factor_id: str, version: int,
        values: FactorValues, kind: str, component: str,
    ) -> None:  # fmt: skip
        row = {
            "factor_id": factor_id,
            "version": version,
            "latest_version": version,
            "tenant_id": event.tenant_id,
            "activity_kind": kind,
            "component": component,
            "factor_values": values.model_dump(mode="json"),
            "releases": [],
            "recorded_at": event.recorded_at,
        }
        await conn.execute(insert(self.t.factors).values(**row).on_conflict_do_nothing())
        fv = self.t.factors
        await conn.execute(
            fv.update()
            .where(fv.c.factor_id == factor_id)
            .values(latest_version=sa.func.greatest(fv.c.latest_version, version))
        )

    async def _revise(
        self, conn: AsyncConnection, event: RecordedEvent, revised: f.FactorRevised
    ) -> str | None:
        first = await self._first_version(conn, revised.factor_id)
        if first is None:
            return None
        await self._add_version(
            conn,
            event,
            revised.factor_id,
            revised.version,
            revised.values,
            first.activity_kind,
            first.component,
        )
        return str(first.activity_kind)

    async def _retire(self, conn: AsyncConnection, retired: f.FactorRetired) -> str | None:
        fv = self.t.factors
        await conn.execute(
            fv.update()
            .where(fv.c.factor_id == retired.factor_id)
            .values(retired_from=retired.retired_from)
        )
        first = await self._first_version(conn, retired.factor_id)
        return None if first is None else str(first.activity_kind)

    async def _add_release(self, conn: AsyncConnection, release: f.ReleasePublished) -> set[str]:
        fv = self.t.factors
        kinds: set[str] = set()
        for member in release.members:
            changed = await conn.execute(
                fv.update()
                .where(
                    fv.c.factor_id == member.factor_id,
                    fv.c.version == member.version,
                    sa.literal(release.name) != sa.all_(fv.c.releases),
                )
                .values(releases=sa.func.array_append(fv.c.releases, release.name))
                .returning(fv.c.activity_kind)
            )
            kinds.update(str(kind) for kind in changed.scalars())
        return kinds

    async def _first_version(self, conn: AsyncConnection, factor_id: str) -> sa.Row | None:  # type: ignore[type-arg]
        fv = self.t.factors
        query = sa.select(fv).where(fv.c.factor_id == factor_id).order_by(fv.c.version).limit(1)
        return (await conn.execute(query)).first()

    async def candidates(
        self, conn: AsyncConnection, kind: str, tenant_id: str
    ) -> list[FactorView]:
        return await self.factors.of(conn, kind, tenant_id)

    # ---- activities ------------------------------------------------------------------

    async def apply_activity_event(
        self, event: RecordedEvent, conn: AsyncConnection
    ) -> ActivityState | None:
        """Update the activity copy; return its new state (None for other events)."""
        row = activity_row(event)
        if row is None:
            return None
        return await self._upsertactivity_state(conn, event, row)

    async def _upsertactivity_state(
        self, conn: AsyncConnection, event: RecordedEvent, row: dict[str, object]
    ) -> ActivityState:
        a = self.t.activities
        stmt: sa.Insert | sa.Update
        if "kind" in row:
            stmt = insert(a).values(**row).on_conflict_do_nothing()
        else:  # a later event: only if it is newer than what we hold (redelivery-safe)
            stmt = (
                a.update()
                .where(
                    a.c.activity_id == row["activity_id"], a.c.stream_version < event.stream_version
                )
                .values(**row)
            )
        # The row written comes back in the same round trip; only a redelivered or
        # overtaken event (nothing written) needs the row as it stands.
        found = (await conn.execute(stmt.returning(*a.c))).first() or (
            await conn.execute(sa.select(a).where(a.c.activity_id == row["activity_id"]))
        ).first()
        if found is None:  # a correction overtook its recording: fail, the retry will find it
            raise LookupError(f"activity {row['activity_id']} not recorded yet; retry later")
        return activity_state(found)

    async def activities_of_kind(
        self, conn: AsyncConnection, kind: str, tenant_id: str
    ) -> list[ActivityState]:
        """Live activities a factor of `kind` owned by `tenant_id` may apply to."""
        a = self.t.activities
        query = sa.select(a).where(a.c.kind == kind, sa.not_(a.c.retracted))
        if tenant_id != f.GLOBAL_TENANT:
            query = query.where(a.c.tenant_id == tenant_id)
        return [activity_state(r) for r in await conn.execute(query)]

    # ---- emissions (compute's own log) -----------------------------------------------

    async def emission_status(
        self, conn: AsyncConnection, source_id: UUID
    ) -> EmissionStatus | None:
        return (await read_statuses(conn, self.t.emissions, [source_id])).get(source_id)


def _kinds(kind: str | None) -> set[str]:
    return set() if kind is None else {kind}
