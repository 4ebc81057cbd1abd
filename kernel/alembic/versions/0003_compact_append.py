"""The append function takes a batch in fewer, denser arguments.

Revision ID: kernel_0003
Revises: kernel_0002

Encoding one array element per event and column was nearly a third of a 100-event append's
client time (the driver checks every element's type): a column whose value is the same for
the whole batch now travels as one element, the payloads as one JSON array and the content
hashes as one bytea. What the function checks and writes is unchanged.
"""

from alembic import context, op

from kernel.ddl_batch import send_appends_compactly

revision = "kernel_0003"
down_revision = "kernel_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    send_appends_compactly(op.get_bind(), context.config.attributes["schema"])


def downgrade() -> None:
    send_appends_compactly(op.get_bind(), context.config.attributes["schema"], compact=False)
