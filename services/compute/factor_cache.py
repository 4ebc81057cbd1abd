"""Parsed candidate factors kept in memory between activities, checked against a stamp in
PostgreSQL.

Resolving an activity needs every factor version of its kind (hundreds for electricity);
loading and validating them for each activity cost about 5 ms. They change only when a
factor event is applied, so compute keeps them parsed and asks PostgreSQL only for the
kind's stamp (one row by primary key).

Why a stamp in the database and not only an in-process invalidation: compute's factor
consumer is ONE durable JetStream consumer (`compute_factors`, kernel/consumer.py) that all
replicas pull from, so each factor event is applied by one replica only; the other
replicas share the read model but never see that event. So every factor change bumps its
kind's stamp in the same transaction, and a cached entry is used only while its stamp is
current. Stamps come from a sequence, never handed out twice: an entry cached inside a
transaction that then rolls back carries a stamp nobody will read again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.factors import GLOBAL_TENANT, FactorValues, FactorView, Resolution
from services.compute.domain import ActivityState, resolve_preferring
from services.compute.tables import ComputeTables

Key = tuple[str, str]  # (activity kind, owning tenant)
# (stamp, kind, tenant, region, date, releases, fallback): all a resolution depends on.
Asked = tuple[int, str, str, str, date, tuple[str, ...], bool]
MAX_RESOLUTIONS = 4096  # then start afresh: entries of old stamps are never asked again


class FactorCandidates:
    """The factor versions an activity of a kind may use, parsed once per stamp of the kind."""

    def __init__(self, tables: ComputeTables, *, cache: bool = True) -> None:
        self.t, self.cache = tables, cache
        self._entries: dict[Key, tuple[int, list[FactorView]]] = {}
        self._resolutions: dict[Asked, Resolution] = {}

    async def bump(self, conn: AsyncConnection, kinds: Iterable[str]) -> None:
        """Mark the factors of `kinds` changed (call in the transaction that changes them)."""
        s = self.t.factor_stamps
        for kind in sorted(kinds):  # one order for every writer: no lock-order deadlock
            stmt = insert(s).values(activity_kind=kind, stamp=self.t.factor_stamp_seq.next_value())
            set_ = {"stamp": stmt.excluded.stamp}
            await conn.execute(
                stmt.on_conflict_do_update(index_elements=["activity_kind"], set_=set_)
            )

    async def of(self, conn: AsyncConnection, kind: str, tenant_id: str) -> list[FactorView]:
        """Versions of `kind` owned by `tenant_id` or the global catalogue."""
        # The stamp is read BEFORE the rows: rows read later are at least as new as the
        # stamp, so an entry is never older than the stamp it is filed under.
        return await self._at(conn, kind, tenant_id, await self._stamp(conn, kind))

    async def resolved(
        self, conn: AsyncConnection, activity: ActivityState, releases: Sequence[str],
        *, allow_fallback: bool, stamp: int | None = None,
    ) -> Resolution:  # fmt: skip
        """`resolve_preferring` over the activity's candidates, remembered per stamp.

        `stamp`: the kind's stamp when the caller already read it (`stamps`) in this
        transaction, before any row of the kind.
        """
        a = activity
        if stamp is None:
            stamp = await self._stamp(conn, a.kind)  # before the rows, as in `of`
        asked = (stamp, a.kind, a.tenant_id, a.region, a.period_start, tuple(releases),
                 allow_fallback)  # fmt: skip
        found = self._resolutions.get(asked)
        if found is None:
            views = await self._at(conn, a.kind, a.tenant_id, stamp)
            found = resolve_preferring(views, a, releases, allow_fallback=allow_fallback)
            self._remember(asked, found)
        return found

    def _remember(self, asked: Asked, resolution: Resolution) -> None:
        if not self.cache:
            return
        if len(self._resolutions) >= MAX_RESOLUTIONS:
            self._resolutions.clear()
        self._resolutions[asked] = resolution

    async def _at(
        self, conn: AsyncConnection, kind: str, tenant_id: str, stamp: int
    ) -> list[FactorView]:
        owners = dict.fromkeys([tenant_id, GLOBAL_TENANT])
        return [view for owner in owners for view in await self._owned(conn, kind, owner, stamp)]

    async def stamps(self, conn: AsyncConnection, kinds: Iterable[str]) -> dict[str, int]:
        """The current stamp of each of `kinds`, in one query (0 for a kind never bumped)."""
        s, wanted = self.t.factor_stamps, sorted(set(kinds))
        query = sa.select(s.c.activity_kind, s.c.stamp).where(s.c.activity_kind.in_(wanted))
        found = {str(kind): int(stamp) for kind, stamp in await conn.execute(query)}
        return {kind: found.get(kind, 0) for kind in wanted}

    async def _stamp(self, conn: AsyncConnection, kind: str) -> int:
        s = self.t.factor_stamps
        found = await conn.scalar(sa.select(s.c.stamp).where(s.c.activity_kind == kind))
        return int(found or 0)

    async def _owned(
        self, conn: AsyncConnection, kind: str, owner: str, stamp: int
    ) -> list[FactorView]:
        cached = self._entries.get((kind, owner))
        if cached is not None and cached[0] == stamp:
            return cached[1]
        fv = self.t.factors
        query = sa.select(fv).where(fv.c.activity_kind == kind, fv.c.tenant_id == owner)
        views = [factor_view(r) for r in await conn.execute(query)]
        if self.cache:
            self._entries[(kind, owner)] = (stamp, views)
        return views


def factor_view(row: sa.Row) -> FactorView:  # type: ignore[type-arg]
    return FactorView(
        factor_id=row.factor_id,
        version=row.version,
        latest_version=row.latest_version,
        tenant_id=row.tenant_id,
        activity_kind=row.activity_kind,
        component=row.component,
        values=FactorValues.model_validate(row.factor_values),
        retired_from=row.retired_from,
        recorded_at=row.recorded_at,
        releases=list(row.releases),
    )
