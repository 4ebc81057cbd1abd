"""The gateway's API keys (hashed), beside its event log of key creations and revocations.

Revision ID: gateway_0002
Revises: 0001
"""

from alembic import op

from gateway.keys import create_tables

revision = "gateway_0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_tables(op.get_bind())


def downgrade() -> None:
    op.drop_table("api_keys", schema="gateway")
