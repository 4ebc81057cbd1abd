"""The ledger as known now: current sources, their figures flat, and a stamp per tenant.

Revision ID: reporting_0006
Revises: reporting_0005

The tables are filled from the versions already there, up to the watermark, with the SQL
the projection keeps them with (services/reporting/current.py), as if the watermark moved
from 0 to where it is.
"""

import sqlalchemy as sa
from alembic import context, op

from services.reporting.current import follow_statements
from services.reporting.tables import reporting_tables

revision = "reporting_0006"
down_revision = "reporting_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    schema = context.config.attributes["schema"]
    bind = op.get_bind()
    reporting_tables(schema).current.metadata.create_all(bind)  # IF NOT EXISTS
    watermark = bind.execute(
        sa.text(f'SELECT coalesce(max(position), 0) FROM "{schema}".compute_watermark')
    ).scalar_one()
    for statement in follow_statements(schema):
        bind.execute(statement, {"start": 0, "end": watermark})


def downgrade() -> None:
    schema = context.config.attributes["schema"]
    for table in ("current_figures", "current_sources", "current_stamps"):
        op.execute(sa.text(f'DROP TABLE IF EXISTS "{schema}".{table}'))
