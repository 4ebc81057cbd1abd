"""Compute's tables: its read models of factors and activities, and the current emissions.

The factor and activity tables are compute's own copies, built from the factors and
inventory events it consumes (event-carried state), so a calculation never calls another
service. The emission table is the projection of compute's own log.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

_TABLES: dict[str, ComputeTables] = {}


@dataclass(frozen=True)
class ComputeTables:
    factors: sa.Table
    activities: sa.Table
    emissions: sa.Table
    cloud_releases: sa.Table
    factor_stamps: sa.Table
    factor_stamp_seq: sa.Sequence
    request_logs: sa.Table
    metadata: sa.MetaData


def compute_tables(schema: str) -> ComputeTables:
    """The (cached) tables of `schema`."""
    if schema not in _TABLES:
        md = sa.MetaData(schema=schema)
        _TABLES[schema] = ComputeTables(
            _factors(md), _activities(md), _emissions(md), _cloud_releases(md),
            _factor_stamps(md), sa.Sequence("factor_stamp_seq", metadata=md),
            _request_logs(md), md,
        )  # fmt: skip
    return _TABLES[schema]


def _factors(md: sa.MetaData) -> sa.Table:
    return sa.Table(
        "factor_versions",
        md,
        sa.Column("factor_id", sa.Text, primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("latest_version", sa.Integer, nullable=False),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("activity_kind", sa.Text, nullable=False),
        sa.Column("component", sa.Text, nullable=False),
        sa.Column("factor_values", JSONB, nullable=False),
        sa.Column("retired_from", sa.Date),
        sa.Column("releases", sa.ARRAY(sa.Text), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Index("factor_versions_kind_idx", "activity_kind", "tenant_id"),
    )


def _activities(md: sa.MetaData) -> sa.Table:
    return sa.Table(
        "activities",
        md,
        sa.Column("activity_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("quantity", sa.Float, nullable=False),
        sa.Column("unit", sa.Text, nullable=False),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("period_end", sa.Date, nullable=False),
        sa.Column("site", sa.Text, nullable=False),
        sa.Column("region", sa.Text, nullable=False),
        sa.Column("event_id", UUID(as_uuid=True), nullable=False),
        sa.Column("stream_version", sa.Integer, nullable=False),
        sa.Column("retracted", sa.Boolean, nullable=False),
        sa.Column("attributes", JSONB, nullable=False, server_default="{}"),
        sa.Index("activities_kind_idx", "kind", "tenant_id"),
    )


def _emissions(md: sa.MetaData) -> sa.Table:
    return sa.Table(
        "emissions",
        md,
        sa.Column("source_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("activity_kind", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("country", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        # the global position of the event at `version`: a calculated emission is read from
        # it (compute_0006), not stored again
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Index("emissions_status_idx", "tenant_id", "status", "source_id"),
    )


def _cloud_releases(md: sa.MetaData) -> sa.Table:
    return sa.Table(
        "cloud_releases",
        md,
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("content_sha256", sa.Text, nullable=False),
        sa.Column("release", JSONB, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )


def _factor_stamps(md: sa.MetaData) -> sa.Table:
    # Changes with every change of a kind's factor versions (services/compute/factor_cache.py).
    return sa.Table(
        "factor_stamps",
        md,
        sa.Column("activity_kind", sa.Text, primary_key=True),
        sa.Column("stamp", sa.BigInteger, nullable=False),
    )


def _request_logs(md: sa.MetaData) -> sa.Table:
    # What each RequestLogReceived said, so a grid-factor change can compute the file again.
    return sa.Table(
        "request_logs",
        md,
        sa.Column("log_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("event_id", UUID(as_uuid=True), nullable=False),
        sa.Column("stream_version", sa.Integer, nullable=False),
        sa.Column("schema_version", sa.Integer, nullable=False),
        sa.Column("payload", JSONB, nullable=False),
        sa.Index("request_logs_tenant_idx", "tenant_id"),
    )
