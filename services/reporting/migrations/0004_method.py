"""Emission versions keep the method that computed them (for lineage and reports).

Revision ID: reporting_0004
Revises: reporting_0003

IF NOT EXISTS: revision 0002 builds its table from tables.py as it is today.
"""

import sqlalchemy as sa
from alembic import context, op

revision = "reporting_0004"
down_revision = "reporting_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    schema = context.config.attributes["schema"]
    op.execute(
        sa.text(f'ALTER TABLE "{schema}".emission_versions ADD COLUMN IF NOT EXISTS method TEXT')
    )


def downgrade() -> None:
    schema = context.config.attributes["schema"]
    op.execute(sa.text(f'ALTER TABLE "{schema}".emission_versions DROP COLUMN IF EXISTS method'))
