"""The versions' period index goes: no read used it, every write paid for it.

Revision ID: reporting_0009
Revises: reporting_0008

Every period filter of the ledger applies after the latest version per source is picked
(`latest.period_start` in walk.py, ledger.py, series.py), or to the current tables, so
`emission_versions_period_idx (tenant_id, period_start)` could only serve as a way to a
tenant's rows, which the source index `(tenant_id, source_id, compute_position)` gives as
well. Checked: 72 footprint queries (every shape of the reporting tests, now and as of a
position) on a 5,000-event ledger scanned it 0 times. Copying 50,000 versions into a table
with it took 360-385 ms, without it 303-306 ms (alternated, one transaction each).
"""

import sqlalchemy as sa
from alembic import context, op

revision = "reporting_0009"
down_revision = "reporting_0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    schema = context.config.attributes["schema"]
    op.execute(sa.text(f'DROP INDEX IF EXISTS "{schema}".emission_versions_period_idx'))


def downgrade() -> None:
    schema = context.config.attributes["schema"]
    op.execute(
        sa.text(
            "CREATE INDEX IF NOT EXISTS emission_versions_period_idx "
            f'ON "{schema}".emission_versions (tenant_id, period_start)'
        )
    )
