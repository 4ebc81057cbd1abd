"""Reporting's read model of emissions, one row per version.

Revision ID: reporting_0002
Revises: 0001
"""

from alembic import context, op

from services.reporting.tables import reporting_tables

revision = "reporting_0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Built from tables.py as it stands at this revision; later changes get their own.
    reporting_tables(context.config.attributes["schema"]).metadata.create_all(op.get_bind())


def downgrade() -> None:
    reporting_tables(context.config.attributes["schema"]).metadata.drop_all(op.get_bind())
