"""The factor catalogue's read model: factors, their versions, releases and their members.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    schema = context.config.attributes["schema"]
    op.create_table(
        "factors",
        sa.Column("factor_id", sa.Text, primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("activity_kind", sa.Text, nullable=False),
        sa.Column("component", sa.Text, nullable=False),
        sa.Column("latest_version", sa.Integer, nullable=False),
        sa.Column("retired_from", sa.Date),
        sa.Column("retired_at", _WHEN),
        schema=schema,
    )
    op.create_table(
        "factor_versions",
        sa.Column("factor_id", sa.Text, primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("activity_kind", sa.Text, nullable=False),
        sa.Column("component", sa.Text, nullable=False),
        sa.Column("region", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("scope", sa.SmallInteger, nullable=False),
        sa.Column("year", sa.SmallInteger, nullable=False),
        sa.Column("search_text", sa.Text, nullable=False),
        sa.Column("factor_values", JSONB, nullable=False),
        sa.Column("recorded_at", _WHEN, nullable=False),
        schema=schema,
    )
    op.create_index(
        "factor_versions_by_kind", "factor_versions", ["activity_kind", "tenant_id"], schema=schema
    )
    op.create_table(
        "releases",
        sa.Column("release_id", sa.Text, primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("recorded_at", _WHEN, nullable=False),
        sa.UniqueConstraint("tenant_id", "name"),
        schema=schema,
    )
    op.create_table(
        "release_members",
        sa.Column("release_id", sa.Text, primary_key=True),
        sa.Column("factor_id", sa.Text, primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        schema=schema,
    )


def downgrade() -> None:
    schema = context.config.attributes["schema"]
    for table in ("release_members", "releases", "factor_versions", "factors"):
        op.drop_table(table, schema=schema)
