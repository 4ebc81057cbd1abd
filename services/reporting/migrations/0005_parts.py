"""Emission parts: each line of an emission version split by device and by country.

Revision ID: reporting_0005
Revises: reporting_0004

Versions written before this revision have no breakdown kept: the upgrade gives each of
their lines one part, device "unspecified" and the version's own country (for a request log
over several countries, "multiple"). `empreinte reporting rebuild` replays compute's events
and splits those request logs as new ones are.
"""

import sqlalchemy as sa
from alembic import context, op

from services.reporting.tables import reporting_tables

revision = "reporting_0005"
down_revision = "reporting_0004"
branch_labels = None
depends_on = None

_WHOLE_LINES = (
    'INSERT INTO "{schema}".emission_parts '
    "(compute_position, dimension, line, member, value, min, max) "
    "SELECT v.compute_position, d.dimension, (l.n - 1)::int, "
    "CASE d.dimension WHEN 'device' THEN 'unspecified' ELSE v.country END, "
    "(l.value->'kg'->>'value')::float8, (l.value->'kg'->>'min')::float8, "
    "(l.value->'kg'->>'max')::float8 "
    'FROM "{schema}".emission_versions AS v '
    "CROSS JOIN LATERAL jsonb_array_elements(v.lines) WITH ORDINALITY AS l(value, n) "
    "CROSS JOIN (VALUES ('device'), ('country')) AS d(dimension) "
    "ON CONFLICT DO NOTHING"
)


def upgrade() -> None:
    schema = context.config.attributes["schema"]
    reporting_tables(schema).parts_metadata.create_all(op.get_bind())  # IF NOT EXISTS
    op.execute(sa.text(_WHOLE_LINES.format(schema=schema)))


def downgrade() -> None:
    schema = context.config.attributes["schema"]
    op.execute(sa.text(f'DROP TABLE IF EXISTS "{schema}".emission_parts'))
