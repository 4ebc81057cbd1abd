"""The event log is no longer indexed by type.

Revision ID: kernel_0004
Revises: kernel_0003

Inserting into the events table's indexes was three quarters of an append's time in
PostgreSQL, one tree insert per event and index. The (type, global_position) index served
no read a service makes: `read_all(types=...)` follows the primary key in position order,
as every read of the whole log does. What guarantees correctness stays: the primary key,
unique event ids (relay and consumers deduplicate by them), unique stream versions
(optimistic concurrency); the audit history per tenant keeps its index.
"""

from alembic import context, op

from kernel.ddl import index_events_by_type

revision = "kernel_0004"
down_revision = "kernel_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    index_events_by_type(op.get_bind(), context.config.attributes["schema"], indexed=False)


def downgrade() -> None:
    index_events_by_type(op.get_bind(), context.config.attributes["schema"], indexed=True)
