"""Table definitions of a service's event log, shared by the store, relay, consumer and migrations.

Every service keeps these tables in its own PostgreSQL schema.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSON, UUID

_TABLES: dict[str, LogTables] = {}


@dataclass(frozen=True)
class LogTables:
    """The kernel's tables inside one service schema."""

    schema: str
    events: sa.Table
    head: sa.Table
    idempotency: sa.Table
    checkpoints: sa.Table
    processed: sa.Table

    @property
    def notify_channel(self) -> str:
        return f"{self.schema}_events"


def log_tables(schema: str) -> LogTables:
    """The (cached) table objects for `schema`."""
    if schema not in _TABLES:
        _TABLES[schema] = _define(schema)
    return _TABLES[schema]


def _define(schema: str) -> LogTables:
    md = sa.MetaData(schema=schema)
    return LogTables(
        schema=schema,
        events=_events_table(md),
        head=sa.Table(
            "log_head",
            md,
            sa.Column("id", sa.SmallInteger, primary_key=True),
            sa.Column("position", sa.BigInteger, nullable=False),
            sa.Column("hash", sa.LargeBinary, nullable=False),
        ),
        idempotency=sa.Table(
            "idempotency_keys",
            md,
            sa.Column("tenant_id", sa.Text, primary_key=True),
            sa.Column("key", sa.Text, primary_key=True),
            sa.Column("request_hash", sa.LargeBinary, nullable=False),
            sa.Column("positions", sa.ARRAY(sa.BigInteger), nullable=False),
            sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        ),
        checkpoints=sa.Table(
            "checkpoints",
            md,
            sa.Column("name", sa.Text, primary_key=True),
            sa.Column("position", sa.BigInteger, nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        ),
        processed=sa.Table(
            "processed_messages",
            md,
            sa.Column("consumer", sa.Text, primary_key=True),
            sa.Column("event_id", UUID(as_uuid=True), primary_key=True),
            sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        ),
    )


def _events_table(md: sa.MetaData) -> sa.Table:
    return sa.Table(
        "events",
        md,
        sa.Column("global_position", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("event_id", UUID(as_uuid=True), nullable=False, unique=True),
        sa.Column("stream_id", sa.Text, nullable=False),
        sa.Column("stream_version", sa.Integer, nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("schema_version", sa.Integer, nullable=False),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("causation_id", UUID(as_uuid=True)),
        sa.Column("correlation_id", UUID(as_uuid=True)),
        sa.Column("actor", sa.Text, nullable=False),
        # `json`, not `jsonb`: the stored text is the canonical JSON the content hash was taken
        # over, byte for byte, and the log is never queried by payload (projections are).
        sa.Column("payload", JSON, nullable=False),
        sa.Column("prev_hash", sa.LargeBinary, nullable=False),
        sa.Column("hash", sa.LargeBinary, nullable=False),
        # Each index costs every append a tree insert per event: only those a read or a
        # guarantee needs (kernel_0004 dropped the one by type, which no read used).
        sa.UniqueConstraint("stream_id", "stream_version", name="events_stream_version_key"),
        sa.Index("events_tenant_idx", "tenant_id", "global_position"),
    )
