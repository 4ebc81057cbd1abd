"""Keys that grow at their right edge: current figures by version, versions' event ids bare.

Revision ID: reporting_0008
Revises: reporting_0007

* current_figures was keyed by (tenant, source, dimension, line, member): every batch's rows
  went into that index at random places (the source ids are random uuids), and a rebuild
  wrote all of them so. A source has exactly one version in the current tables, the one
  its current_sources row names, so (compute_position, dimension, line, member) is as
  unique, and a batch's positions are the highest yet. Measured on a rebuild's 143,000
  figure rows copied table to table in one transaction: 275-295 ms into the new key against
  392-406 ms into the old one (115 ms with no index).
* emission_versions' unique index on compute_event_id guarded nothing the primary key does
  not: compute gives each event one position and each position one event (its log's
  primary key and unique event id). Nothing looks a version up by event id.

Both tables keep their rows; only indexes change. Revision 0006 creates current_figures
from today's tables.py, so a schema built from scratch already has the new key and this
revision rebuilds the same one.
"""

import sqlalchemy as sa
from alembic import context, op

revision = "reporting_0008"
down_revision = "reporting_0007"
branch_labels = None
depends_on = None

_EVENT_IDS = "emission_versions_compute_event_id_key"
_OLD_KEY = "tenant_id, source_id, dimension, line, member"
_NEW_KEY = "compute_position, dimension, line, member"


def _alter(table: str, change: str) -> None:
    schema = context.config.attributes["schema"]
    op.execute(sa.text(f'ALTER TABLE "{schema}".{table} {change}'))


def _figures_key(columns: str) -> None:
    _alter("current_figures", f"DROP CONSTRAINT current_figures_pkey, ADD PRIMARY KEY ({columns})")


def upgrade() -> None:
    _alter("emission_versions", f"DROP CONSTRAINT IF EXISTS {_EVENT_IDS}")
    _figures_key(_NEW_KEY)


def downgrade() -> None:
    _alter("emission_versions", f"ADD CONSTRAINT {_EVENT_IDS} UNIQUE (compute_event_id)")
    _figures_key(_OLD_KEY)
