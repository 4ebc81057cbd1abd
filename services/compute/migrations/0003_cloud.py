"""Cloud usage: activities keep their attributes; the Boavizta cloud releases compute received.

Revision ID: compute_0003
Revises: compute_0002

Written with IF NOT EXISTS because revision 0002 builds its tables from tables.py as it is
today, so a database created after this change already has them.
"""

import sqlalchemy as sa
from alembic import context, op

revision = "compute_0003"
down_revision = "compute_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    schema = context.config.attributes["schema"]
    op.execute(
        sa.text(
            f'ALTER TABLE "{schema}".activities '
            "ADD COLUMN IF NOT EXISTS attributes JSONB NOT NULL DEFAULT '{}'"
        )
    )
    op.execute(
        sa.text(
            f'CREATE TABLE IF NOT EXISTS "{schema}".cloud_releases (name TEXT PRIMARY KEY, '
            "content_sha256 TEXT NOT NULL, release JSONB NOT NULL, "
            "recorded_at TIMESTAMPTZ NOT NULL)"
        )
    )


def downgrade() -> None:
    schema = context.config.attributes["schema"]
    op.execute(sa.text(f'DROP TABLE IF EXISTS "{schema}".cloud_releases'))
    op.execute(sa.text(f'ALTER TABLE "{schema}".activities DROP COLUMN IF EXISTS attributes'))
