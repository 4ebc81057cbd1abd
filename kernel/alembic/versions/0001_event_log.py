"""The service's event log: events, head, idempotency keys, checkpoints, processed messages.

Revision ID: 0001
Revises:
"""

from alembic import context, op

from kernel.ddl import create_event_log, drop_event_log

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_event_log(op.get_bind(), context.config.attributes["schema"])


def downgrade() -> None:
    drop_event_log(op.get_bind(), context.config.attributes["schema"])
