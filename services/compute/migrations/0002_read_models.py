"""Compute's read models: factor versions, activities, current emissions.

Revision ID: compute_0002
Revises: 0001
"""

from alembic import context, op

from services.compute.tables import compute_tables

revision = "compute_0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The first revision builds the tables as tables.py defines them today; later changes
    # get revisions of their own with explicit operations.
    compute_tables(context.config.attributes["schema"]).metadata.create_all(op.get_bind())


def downgrade() -> None:
    tables = compute_tables(context.config.attributes["schema"])
    tables.metadata.drop_all(op.get_bind())
