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
    reporting_0003, `parts_metadata` those of reporting_0005 (each revision creates its own
    metadata's tables)."""

    versions: sa.Table
    metadata: sa.MetaData
    reports: sa.Table
    watermark: sa.Table
    reports_metadata: sa.MetaData
    parts: sa.Table
    parts_metadata: sa.MetaData

    @property
    def projections(self) -> tuple[sa.Table, ...]:
        return (self.versions, self.parts, self.watermark, self.reports)


def reporting_tables(schema: str) -> ReportingTables:
    if schema not in _TABLES:
        md, md3, md5 = (sa.MetaData(schema=schema) for _ in range(3))
        _TABLES[schema] = ReportingTables(
            _versions(md), md, _reports(md3), _watermark(md3), md3, _parts(md5), md5
        )
    return _TABLES[schema]


def _versions(md: sa.MetaData) -> sa.Table:
    return sa.Table(
        "emission_versions",
        md,
        sa.Column("compute_position", sa.BigInteger, primary_key=True),
        sa.Column("compute_event_id", UUID(as_uuid=True), nullable=False, unique=True),
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
        sa.Index("emission_versions_source_idx", "tenant_id", "source_id", "compute_position"),
        sa.Index("emission_versions_period_idx", "tenant_id", "period_start"),
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
