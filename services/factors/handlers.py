"""The factors service's endpoints: load, decide with the domain, append and project, answer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from uuid import NAMESPACE_URL, uuid5

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts import factors as c
from contracts.activity_kinds import ACTIVITY_KINDS
from kernel.appending import IdempotencyKey
from kernel.endpoints import CallContext
from kernel.envelope import NewEvent, RecordedEvent, new_event_id
from kernel.errors import ConcurrencyConflict, IdempotencyKeyReused, RequestRefused
from kernel.projection import apply_all
from kernel.runtime import Route
from kernel.store import EventStore, request_fingerprint
from services.factors import domain, queries
from services.factors.projections import Catalogue
from services.factors.resolution import resolve


class FactorHandlers:
    """One method per endpoint, over one service's event store and catalogue."""

    def __init__(self, store: EventStore) -> None:
        self.store = store
        self.catalogue = Catalogue(store.schema)
        self.t = self.catalogue.t

    def routes(self) -> list[Route[Any, Any]]:
        return [
            Route(c.SEARCH, self.search),
            Route(c.GET, self.get),
            Route(c.RESOLVE, self.resolve),
            Route(c.LIST_RELEASES, self.list_releases),
            Route(c.PUBLISH, self.publish),
            Route(c.REVISE, self.revise),
            Route(c.RETIRE, self.retire),
            Route(c.PUBLISH_RELEASE, self.publish_release),
        ]

    # ---- writes ------------------------------------------------------------------------

    async def publish(self, ctx: CallContext, request: c.PublishFactor) -> c.FactorAccepted:
        draft = domain.check_draft(request.factor)
        factor_id = f"factor-{new_event_id()}"
        values = c.FactorValues.model_validate(
            draft.model_dump(exclude={"activity_kind", "component"})
        )
        event = c.FactorPublished(
            factor_id=factor_id,
            activity_kind=draft.activity_kind,
            component=draft.component,
            values=values,
        )
        key = _key(request.idempotency_key, request)
        recorded = await self._append([event.to_new_event(factor_id, ctx)], {factor_id: 0}, key)
        return c.FactorAccepted(factor_id=recorded[0].stream_id, version=1)

    async def revise(self, ctx: CallContext, request: c.ReviseFactor) -> c.FactorAccepted:
        factor, at = await self._load(request.factor_id, ctx)
        event = domain.revise(factor, request, ctx.tenant_id)
        await self._append([event.to_new_event(factor.factor_id, ctx)], {factor.factor_id: at})
        return c.FactorAccepted(factor_id=factor.factor_id, version=event.version)

    async def retire(self, ctx: CallContext, request: c.RetireFactor) -> c.FactorAccepted:
        factor, at = await self._load(request.factor_id, ctx)
        event = domain.retire(factor, request, ctx.tenant_id)
        await self._append([event.to_new_event(factor.factor_id, ctx)], {factor.factor_id: at})
        return c.FactorAccepted(factor_id=factor.factor_id, version=event.version)

    async def publish_release(self, ctx: CallContext, request: c.PublishRelease) -> c.ReleaseView:
        await self._check_members(request.members, ctx.tenant_id)
        release_id = f"release-{uuid5(NAMESPACE_URL, f'{ctx.tenant_id}/{request.name}')}"
        event = c.ReleasePublished(
            release_id=release_id,
            name=request.name,
            description=request.description,
            members=request.members,
        )
        key = _key(request.idempotency_key, request)
        exists = RequestRefused(
            "release_exists", f"release {request.name!r} is already published", "name"
        )
        await self._append([event.to_new_event(release_id, ctx)], {release_id: 0}, key, exists)
        async with self.store.engine.connect() as conn:
            return (await queries.releases(conn, self.t, ctx.tenant_id, request.name))[0]

    async def publish_cloud_release(
        self, ctx: CallContext, release: Mapping[str, Any]
    ) -> RecordedEvent:
        """Publish a Boavizta cloud release whole (idempotent on its content hash)."""
        digest = request_fingerprint(release).hex()
        name = str(release["release"])
        event = c.CloudReleasePublished(name=name, content_sha256=digest, release=dict(release))
        new = event.to_new_event(f"cloud-release-{name}", ctx)
        key = IdempotencyKey(f"cloud-release:{name}:{digest}", bytes.fromhex(digest))
        [recorded] = await self._append([new], {}, key)
        return recorded

    async def _append(
        self,
        events: Sequence[NewEvent],
        expected: Mapping[str, int],
        key: IdempotencyKey | None = None,
        conflict: RequestRefused | None = None,
    ) -> list[RecordedEvent]:
        try:
            async with self.store.engine.begin() as conn:
                recorded = await self.store.append(
                    events, expected_versions=expected, idempotency=key, conn=conn
                )
                if recorded[0].event_id == events[0].event_id:  # a replay was projected already
                    await apply_all([self.catalogue], recorded, conn)
        except ConcurrencyConflict as error:
            raise conflict or RequestRefused(
                "version_conflict", f"{error}: read it again", "expected_version"
            ) from None
        except IdempotencyKeyReused as error:
            raise RequestRefused("idempotency_key_reused", str(error), "idempotency_key") from None
        return recorded

    async def _load(self, factor_id: str, ctx: CallContext) -> tuple[domain.Factor, int]:
        events = await self.store.read_stream(factor_id) if factor_id.startswith("factor-") else []
        if not events or events[0].tenant_id not in queries.visible(ctx.tenant_id):
            raise RequestRefused("not_found", f"there is no factor {factor_id!r}", "factor_id")
        factor = domain.published(c.FactorPublished.from_recorded(events[0]), events[0].tenant_id)
        for event in events[1:]:
            change = c.EVENTS.decode(event)
            if isinstance(change, c.FactorRevised | c.FactorRetired):
                factor = domain.evolve(factor, change)
        return factor, events[-1].stream_version

    async def _check_members(self, members: list[c.ReleaseMember], tenant_id: str) -> None:
        v = self.t.versions
        pairs = [(m.factor_id, m.version) for m in members]
        query = sa.select(v.c.factor_id, v.c.version).where(
            sa.tuple_(v.c.factor_id, v.c.version).in_(pairs),
            v.c.tenant_id.in_(queries.visible(tenant_id)),
        )
        async with self.store.engine.connect() as conn:
            known = {(row.factor_id, row.version) for row in await conn.execute(query)}
        for index, pair in enumerate(pairs):
            if pair not in known:
                raise RequestRefused(
                    "unknown_member",
                    f"factor {pair[0]!r} has no version {pair[1]} this tenant may use",
                    f"members.{index}",
                )

    # ---- reads -------------------------------------------------------------------------

    async def search(self, ctx: CallContext, request: c.SearchFactors) -> c.FactorPage:
        async with self.store.engine.connect() as conn:
            return await queries.search(conn, self.t, request, ctx.tenant_id)

    async def get(self, ctx: CallContext, request: c.GetFactor) -> c.FactorView:
        async with self.store.engine.connect() as conn:
            found = await queries.factor_versions(
                conn, self.t, ctx.tenant_id, as_of=request.as_of, factor_id=request.factor_id
            )
        when = f" as of {request.as_of.isoformat()}" if request.as_of else ""
        if not found:
            raise RequestRefused(
                "not_found", f"there is no factor {request.factor_id!r}{when}", "factor_id"
            )
        wanted = request.version or found[0].latest_version
        for view in found:
            if view.version == wanted:
                return view
        raise RequestRefused(
            "not_found", f"factor {request.factor_id!r} has no version {wanted}{when}", "version"
        )

    async def resolve(self, ctx: CallContext, request: c.ResolveFactors) -> c.Resolution:
        if request.activity_kind not in ACTIVITY_KINDS:
            raise RequestRefused(
                "unknown_activity_kind",
                f"{request.activity_kind!r} is not an activity kind",
                "activity_kind",
            )
        domain.check_region(request.region, "region")
        async with self.store.engine.connect() as conn:
            await self._check_releases(conn, request.releases, ctx.tenant_id)
            candidates = await queries.factor_versions(
                conn,
                self.t,
                ctx.tenant_id,
                as_of=request.as_of,
                activity_kind=request.activity_kind,
            )
        return resolve(
            candidates,
            activity_kind=request.activity_kind,
            region=request.region,
            on=request.on,
            tenant_id=ctx.tenant_id,
            releases=request.releases,
            allow_fallback=request.allow_fallback,
        )

    async def _check_releases(
        self, conn: AsyncConnection, names: list[str] | None, tenant_id: str
    ) -> None:
        known = {r.name for r in await queries.releases(conn, self.t, tenant_id)}
        for index, name in enumerate(names or []):
            if name not in known:
                raise RequestRefused(
                    "unknown_release", f"there is no release {name!r}", f"releases.{index}"
                )

    async def list_releases(self, ctx: CallContext, request: c.ListReleases) -> c.ReleaseList:
        async with self.store.engine.connect() as conn:
            return c.ReleaseList(releases=await queries.releases(conn, self.t, ctx.tenant_id))


def _key(key: str | None, request: BaseModel) -> IdempotencyKey | None:
    if key is None:
        return None
    return IdempotencyKey(key, request_fingerprint(request.model_dump(mode="json")))
