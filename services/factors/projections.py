"""The catalogue read model: factor versions (with when they were recorded), releases.

Every version row keeps its `recorded_at`, so a query can answer with the catalogue as it
was known at any instant. Inserts ignore rows already there, so replaying is harmless.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.factors import (
    EVENTS,
    FactorPublished,
    FactorRetired,
    FactorRevised,
    FactorValues,
    ReleasePublished,
)
from kernel.envelope import RecordedEvent

_TABLES: dict[str, CatalogueTables] = {}


@dataclass(frozen=True)
class CatalogueTables:
    factors: sa.Table
    versions: sa.Table
    releases: sa.Table
    members: sa.Table

    @property
    def all(self) -> Sequence[sa.Table]:
        return (self.members, self.releases, self.versions, self.factors)


def catalogue_tables(schema: str) -> CatalogueTables:
    """The (cached) catalogue tables of `schema`, as migration 0002 creates them."""
    if schema not in _TABLES:
        _TABLES[schema] = _define(sa.MetaData(schema=schema))
    return _TABLES[schema]


def _define(md: sa.MetaData) -> CatalogueTables:
    text, when = sa.Text, sa.DateTime(timezone=True)
    factors = sa.Table(
        "factors", md,
        sa.Column("factor_id", text, primary_key=True),
        sa.Column("tenant_id", text, nullable=False),
        sa.Column("activity_kind", text, nullable=False),
        sa.Column("component", text, nullable=False),
        sa.Column("latest_version", sa.Integer, nullable=False),
        sa.Column("retired_from", sa.Date),
        sa.Column("retired_at", when),
    )  # fmt: skip
    versions = sa.Table(
        "factor_versions", md,
        sa.Column("factor_id", text, primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("tenant_id", text, nullable=False),
        sa.Column("activity_kind", text, nullable=False),
        sa.Column("component", text, nullable=False),
        sa.Column("region", text, nullable=False),
        sa.Column("source", text, nullable=False),
        sa.Column("scope", sa.SmallInteger, nullable=False),
        sa.Column("year", sa.SmallInteger, nullable=False),
        sa.Column("search_text", text, nullable=False),
        sa.Column("factor_values", JSONB, nullable=False),
        sa.Column("recorded_at", when, nullable=False),
        sa.Index("factor_versions_by_kind", "activity_kind", "tenant_id"),
    )  # fmt: skip
    releases = sa.Table(
        "releases", md,
        sa.Column("release_id", text, primary_key=True),
        sa.Column("tenant_id", text, nullable=False),
        sa.Column("name", text, nullable=False),
        sa.Column("description", text, nullable=False),
        sa.Column("recorded_at", when, nullable=False),
        sa.UniqueConstraint("tenant_id", "name", name="releases_tenant_id_name_key"),
    )  # fmt: skip
    members = sa.Table(
        "release_members", md,
        sa.Column("release_id", text, primary_key=True),
        sa.Column("factor_id", text, primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
    )  # fmt: skip
    return CatalogueTables(factors, versions, releases, members)


class Catalogue:
    """The projection: how each factors event changes the catalogue tables."""

    def __init__(self, schema: str) -> None:
        self.t = catalogue_tables(schema)
        self.tables = self.t.all

    async def apply(self, event: RecordedEvent, conn: AsyncConnection) -> None:
        payload = EVENTS.decode(event)
        if isinstance(payload, FactorPublished):
            await self._published(payload, event, conn)
        elif isinstance(payload, FactorRevised):
            await self._revised(payload, event, conn)
        elif isinstance(payload, FactorRetired):
            await self._retired(payload, event, conn)
        elif isinstance(payload, ReleasePublished):
            await self._release(payload, event, conn)

    async def _published(
        self, e: FactorPublished, event: RecordedEvent, conn: AsyncConnection
    ) -> None:
        row = {"factor_id": e.factor_id, "tenant_id": event.tenant_id, "latest_version": 1}
        row |= {"activity_kind": e.activity_kind, "component": e.component}
        await conn.execute(pg_insert(self.t.factors).values(row).on_conflict_do_nothing())
        await self._version(e.factor_id, 1, e.values, event, conn)

    async def _revised(self, e: FactorRevised, event: RecordedEvent, conn: AsyncConnection) -> None:
        f = self.t.factors
        await conn.execute(
            f.update().where(f.c.factor_id == e.factor_id).values(latest_version=e.version)
        )
        await self._version(e.factor_id, e.version, e.values, event, conn)

    async def _version(
        self,
        factor_id: str,
        version: int,
        values: FactorValues,
        event: RecordedEvent,
        conn: AsyncConnection,
    ) -> None:
        f = self.t.factors
        kind, component = (
            await conn.execute(
                sa.select(f.c.activity_kind, f.c.component).where(f.c.factor_id == factor_id)
            )
        ).one()
        words = (kind, component, values.region, values.source, values.description)
        row = {
            "factor_id": factor_id, "version": version, "tenant_id": event.tenant_id,
            "activity_kind": kind, "component": component, "region": values.region,
            "source": values.source, "scope": values.scope, "year": values.year,
            "search_text": " ".join(words).lower(),
            "factor_values": values.model_dump(mode="json"), "recorded_at": event.recorded_at,
        }  # fmt: skip
        await conn.execute(pg_insert(self.t.versions).values(row).on_conflict_do_nothing())

    async def _retired(self, e: FactorRetired, event: RecordedEvent, conn: AsyncConnection) -> None:
        f = self.t.factors
        await conn.execute(
            f.update()
            .where(f.c.factor_id == e.factor_id)
            .values(retired_from=e.retired_from, retired_at=event.recorded_at)
        )

    async def _release(
        self, e: ReleasePublished, event: RecordedEvent, conn: AsyncConnection
    ) -> None:
        row: dict[str, object] = {"release_id": e.release_id, "tenant_id": event.tenant_id}
        row |= {"name": e.name}
        row |= {"description": e.description, "recorded_at": event.recorded_at}
        await conn.execute(pg_insert(self.t.releases).values(row).on_conflict_do_nothing())
        members = [m.model_dump() | {"release_id": e.release_id} for m in e.members]
        await conn.execute(pg_insert(self.t.members).values(members).on_conflict_do_nothing())
