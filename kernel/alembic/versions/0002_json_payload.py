"""Event payloads stored as the canonical JSON text (json, not jsonb).

Revision ID: kernel_0002
Revises: 0001

The text written is the exact bytes the content hash covers, and parsing into jsonb was a
fifth of an append's time in PostgreSQL. Services' own revisions branch from 0001 too, so a
schema has two heads (the kernel's and the service's) and is upgraded to `heads`.
"""

from alembic import context, op

from kernel.ddl import store_payloads_as

revision = "kernel_0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    store_payloads_as(op.get_bind(), context.config.attributes["schema"], "json")


def downgrade() -> None:
    store_payloads_as(op.get_bind(), context.config.attributes["schema"], "jsonb")
