"""Factor stamps: a number per activity kind that changes with every change of its factors.

Revision ID: compute_0004
Revises: compute_0003

Compute caches parsed factors per kind and checks this stamp before using them
(services/compute/factor_cache.py). Kinds with no row read as stamp 0, so a database
migrated with factors already in place starts consistent; the next factor event bumps it.
"""

import sqlalchemy as sa
from alembic import context, op

revision = "compute_0004"
down_revision = "compute_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    schema = context.config.attributes["schema"]
    op.execute(sa.text(f'CREATE SEQUENCE IF NOT EXISTS "{schema}".factor_stamp_seq'))
    op.execute(
        sa.text(
            f'CREATE TABLE IF NOT EXISTS "{schema}".factor_stamps '
            "(activity_kind TEXT PRIMARY KEY, stamp BIGINT NOT NULL)"
        )
    )


def downgrade() -> None:
    schema = context.config.attributes["schema"]
    op.execute(sa.text(f'DROP TABLE IF EXISTS "{schema}".factor_stamps'))
    op.execute(sa.text(f'DROP SEQUENCE IF EXISTS "{schema}".factor_stamp_seq'))
