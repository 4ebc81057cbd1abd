"""Reporting's read model of generated reports, and the contiguous compute watermark.

Revision ID: reporting_0003
Revises: reporting_0002
"""

from alembic import context, op

from services.reporting.tables import reporting_tables
from services.reporting.watermark import reset_watermark

revision = "reporting_0003"
down_revision = "reporting_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    tables = reporting_tables(context.config.attributes["schema"])
    tables.reports_metadata.create_all(op.get_bind())
    op.get_bind().execute(reset_watermark(tables))


def downgrade() -> None:
    tables = reporting_tables(context.config.attributes["schema"])
    tables.reports_metadata.drop_all(op.get_bind())
