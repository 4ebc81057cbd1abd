"""Current emissions point at their event instead of holding the emission again.

Revision ID: compute_0006
Revises: compute_0005

Each row gets the global position of its source's last event (the one at `version`, in the
same schema's log) and loses the `emission` jsonb, which was that event's emission copied
(services/compute/current_emissions.py says why). Written with IF [NOT] EXISTS because
revision 0002 builds its tables from tables.py as it is today: a database created after this
change already has `position` and no `emission`. A row whose event cannot be found stops the
upgrade (the NOT NULL), rather than losing its emission.
"""

import sqlalchemy as sa
from alembic import context, op

revision = "compute_0006"
down_revision = "compute_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    schema = context.config.attributes["schema"]
    table = f'"{schema}".emissions'
    op.execute(sa.text(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS position BIGINT"))
    # a source's stream is emission-<id> (an activity) or emission-log-<id> (a request log)
    op.execute(
        sa.text(
            f'UPDATE {table} AS e SET position = ev.global_position FROM "{schema}".events AS ev '
            "WHERE e.position IS NULL AND ev.stream_version = e.version AND ev.stream_id = "
            "ANY (ARRAY['emission-' || e.source_id, 'emission-log-' || e.source_id])"
        )
    )
    op.execute(sa.text(f"ALTER TABLE {table} ALTER COLUMN position SET NOT NULL"))
    op.execute(sa.text(f"ALTER TABLE {table} DROP COLUMN IF EXISTS emission"))


def downgrade() -> None:
    schema = context.config.attributes["schema"]
    table = f'"{schema}".emissions'
    op.execute(sa.text(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS emission JSONB"))
    op.execute(
        sa.text(
            f"UPDATE {table} AS e SET emission = (ev.payload -> 'emission')::jsonb "
            f'FROM "{schema}".events AS ev '
            "WHERE ev.global_position = e.position AND e.status = 'calculated'"
        )
    )
    op.execute(sa.text(f"ALTER TABLE {table} DROP COLUMN IF EXISTS position"))
