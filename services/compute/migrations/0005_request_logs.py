"""Request logs: compute's copy of each RequestLogReceived, for restatements.

Revision ID: compute_0005
Revises: compute_0004

When a grid factor the per-request core used is revised, compute reads the log's file again
and restates its emission; it needs what the event said (object name, hash, format, period,
schema check). Logs received before this revision have no copy and are not restated
automatically (their emission stays as computed; replaying inventory's events fills the copy).
"""

import sqlalchemy as sa
from alembic import context, op

revision = "compute_0005"
down_revision = "compute_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    schema = context.config.attributes["schema"]
    op.execute(
        sa.text(
            f'CREATE TABLE IF NOT EXISTS "{schema}".request_logs ('
            "log_id UUID PRIMARY KEY, tenant_id TEXT NOT NULL, event_id UUID NOT NULL, "
            "stream_version INTEGER NOT NULL, schema_version INTEGER NOT NULL, "
            "payload JSONB NOT NULL)"
        )
    )
    op.execute(
        sa.text(
            f'CREATE INDEX IF NOT EXISTS request_logs_tenant_idx ON "{schema}".request_logs '
            "(tenant_id)"
        )
    )


def downgrade() -> None:
    schema = context.config.attributes["schema"]
    op.execute(sa.text(f'DROP TABLE IF EXISTS "{schema}".request_logs'))
