"""Campaigns keep their template and headcount (CampaignOpened v2) and their closing.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

COLUMNS = (
    ("template", JSONB),
    ("headcount", sa.Integer),
    ("closed_at", sa.DateTime(timezone=True)),
    ("respondents", sa.Integer),
    ("factor", sa.Float),
)


def _schema() -> str:
    schema: str = context.config.attributes["schema"]
    return schema


def upgrade() -> None:
    for name, kind in COLUMNS:
        op.add_column("campaigns", sa.Column(name, kind), schema=_schema())


def downgrade() -> None:
    for name, _ in reversed(COLUMNS):
        op.drop_column("campaigns", name, schema=_schema())
