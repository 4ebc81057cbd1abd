"""Request logs keep their schema check (RequestLogReceived v2); null for v1 ones.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _schema() -> str:
    schema: str = context.config.attributes["schema"]
    return schema


def upgrade() -> None:
    op.add_column("request_logs", sa.Column("schema_check", JSONB), schema=_schema())


def downgrade() -> None:
    op.drop_column("request_logs", "schema_check", schema=_schema())
