"""Reporting's read model: every version of every emission, with compute's log position.

Keeping versions (not only the latest) answers "as known at" any position or instant with
one query: the latest version at or below that position, per source.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

_TABLES: dict[str, ReportingTables] = {}


@dataclass(frozen=True)
class ReportingTables:
    """`metadata` holds the tables of revision reporting_0002, `reports_metadata` those of
    reporting_0003, `parts_metadata` those of reporting_0005, `current_metadata` those of
    reporting_0006 (each revision creates its own metadata's tables)."""

    versions: sa.Table
    metadata: sa.MetaData
    reports: sa.Table
    watermark: sa.Table
    reports_metadata: sa.MetaData
    parts: sa.Table
    parts_metadata: sa.MetaData
    current: CurrentTables

    @property
    def projections(self) -> tuple[sa.Table, ...]:
        c = self.current
        return (self.versions, self.parts, self.watermark, self.reports, *c.tables)


@dataclass(frozen=True)
class CurrentTables:
    """The ledger as known now (at the watermark), kept by services/reporting/current.py in
    the transaction that moves the watermark: what a footprint "now" reads instead of
    re-deriving the latest version of every source."""

    sources: sa.Table
    figures: sa.Table
    stamps: sa.Table
    metadata: sa.MetaData

    @property
    def tables(self) -> tuple[sa.Table, ...]:
        return (self.sources, self.figures, self.stamps)


def reporting_tables(schema: str) -> ReportingTables:
    if schema not in _TABLES:
        md, md3, md5, md6 = (sa.MetaData(schema=schema) for _ in range(4))
        current = CurrentTables(_sources(md6), _figures(md6), _stamps(md6), md6)
        _TABLES[schema] = ReportingTables(
            _versions(md), md, _reports(md3), _watermark(md3), md3, _parts(md5), md5, current
        )
    return _TABLES[schema]


def _versions(md: sa.MetaData) -> sa.Table:
    return sa.Table(
        "emission_versions",
        md,
        sa.Column("compute_position", sa.BigInteger, primary_key=True),
        # not unique-indexed: compute's positions and event ids are one to one (its log's
        # primary key and unique index), so the position's key already says it (reporting_0008)
        sa.Column("compute_event_id", UUID(as_uuid=True), nullable=False),
        sa.Column("event_type", sa.Text, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("source_id", UUID(as_uuid=True), nullable=False),
        sa.Column("source_kind", sa.Text, nullable=False),
        sa.Column("source_event_id", UUID(as_uuid=True)),
        sa.Column("sha256", sa.Text),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("activity_kind", sa.Text, nullable=False),
        sa.Column("post", sa.Text, nullable=False),
        sa.Column("site", sa.Text, nullable=False),
        sa.Column("country", sa.Text, nullable=False),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("period_end", sa.Date, nullable=False),
        sa.Column("total_value", sa.Float),
        sa.Column("total_min", sa.Float),
        sa.Column("total_max", sa.Float),
        sa.Column("lines", JSONB, nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("cause", sa.Text),
        sa.Column("method", sa.Text),
        # a tenant's versions, and a source's latest: every ledger read starts here or at the
        # position; none filters versions by period before picking the latest (reporting_0009)
        sa.Index("emission_versions_source_idx", "tenant_id", "source_id", "compute_position"),
    )


def _parts(md: sa.MetaData) -> sa.Table:
    """Each line of an emission version split by device and, separately, by country
    (services/reporting/parts.py); written with its version, in the same transaction."""
    return sa.Table(
        "emission_parts",
        md,
        sa.Column("compute_position", sa.BigInteger, primary_key=True),
        sa.Column("dimension", sa.Text, primary_key=True),
        sa.Column("line", sa.Integer, primary_key=True),
        sa.Column("member", sa.Text, primary_key=True),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("min", sa.Float, nullable=False),
        sa.Column("max", sa.Float, nullable=False),
    )


def _reports(md: sa.MetaData) -> sa.Table:
    """One row per ReportGenerated event of reporting's own log."""
    return sa.Table(
        "reports",
        md,
        sa.Column("position", sa.BigInteger, primary_key=True),
        sa.Column("report_id", UUID(as_uuid=True), nullable=False, unique=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("facts", JSONB, nullable=False),
        sa.Index("reports_tenant_idx", "tenant_id", "position"),
    )


def _watermark(md: sa.MetaData) -> sa.Table:
    """One row: the highest compute position P such that every event up to P is projected.

    Compute's positions have no gaps and each of its events makes one version row, so P is
    where the versions stop being contiguous. A redelivered message can arrive after later
    ones; "now" means P, so an answer never silently misses an event it claims to include."""
    return sa.Table(
        "compute_watermark",
        md,
        sa.Column("id", sa.SmallInteger, primary_key=True),
        sa.Column("position", sa.BigInteger, nullable=False),
    )


def _sources(md: sa.MetaData) -> sa.Table:
    """Per source whose latest version at the watermark is calculated or unresolved, what
    the footprint's filters and its count of unresolved sources read (a withdrawn source
    has no row)."""
    return sa.Table(
        "current_sources",
        md,
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("source_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("compute_position", sa.BigInteger, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("post", sa.Text, nullable=False),
        sa.Column("site", sa.Text, nullable=False),
        sa.Column("activity_kind", sa.Text, nullable=False),
        sa.Column("country", sa.Text, nullable=False),
        sa.Column("period_start", sa.Date, nullable=False),
    )


def _figures(md: sa.MetaData) -> sa.Table:
    """The lines of every calculated source at the watermark, flat: each line whole
    (dimension "line", member "") and its stored parts by device and by country, with the
    columns a footprint groups and filters by; `compute_position` names the version they are
    from. A line row's `device` and `country` are the member the line falls to whole on that
    dimension, NULL where parts split it (parts.py: whole lines are implied, not stored).

    Keyed by version (its position), not by source: a source has one version here, the one
    its current_sources row names, and the positions a batch adds are the highest yet, so
    the key grows at its right edge instead of at random uuids (reporting_0008)."""
    return sa.Table(
        "current_figures",
        md,
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("source_id", UUID(as_uuid=True), nullable=False),
        sa.Column("dimension", sa.Text, nullable=False),
        sa.Column("line", sa.Integer, nullable=False),
        sa.Column("member", sa.Text, nullable=False),
        sa.Column("compute_position", sa.BigInteger, nullable=False),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("scope", sa.Integer),
        sa.Column("scope2_basis", sa.Text),
        sa.Column("category", sa.Integer),
        sa.Column("component", sa.Text),
        sa.Column("post", sa.Text, nullable=False),
        sa.Column("site", sa.Text, nullable=False),
        sa.Column("activity_kind", sa.Text, nullable=False),
        sa.Column("source_kind", sa.Text, nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("min", sa.Float, nullable=False),
        sa.Column("max", sa.Float, nullable=False),
        sa.Column("device", sa.Text),
        sa.Column("country", sa.Text),
        sa.PrimaryKeyConstraint("compute_position", "dimension", "line", "member"),
        sa.Index("current_figures_walk_idx", "tenant_id", "dimension", "period_start"),
    )


def _stamps(md: sa.MetaData) -> sa.Table:
    """Per tenant, the highest position of its versions at or below the watermark: it moves
    whenever the tenant's figures may have, so answers can be cached against it."""
    return sa.Table(
        "current_stamps",
        md,
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("position", sa.BigInteger, nullable=False),
    )
