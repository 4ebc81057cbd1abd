"""Whole lines implied, not stored: their parts go, and the current figures say them.

Revision ID: reporting_0007
Revises: reporting_0006

A line whose only part on a dimension is its default member (device "unspecified", the
version's country) carrying all of the line is the part a reader now infers from the line
itself (services/reporting/parts.py). The upgrade deletes exactly those rows (checked equal
to the line's figures), adds the current figures' `device` and `country` columns, and fills
the current tables again from the versions up to the watermark, with the SQL the projection
keeps them with. Every answer stays the same; most activities keep one figure row per line
instead of three, and no part row.
"""

import sqlalchemy as sa
from alembic import context, op

from services.reporting.current import follow_statements

revision = "reporting_0007"
down_revision = "reporting_0006"
branch_labels = None
depends_on = None

_DEFAULT = "CASE {p}.dimension WHEN 'device' THEN 'unspecified' ELSE v.country END"
_LINE_KG = "(v.lines->{p}.line->'kg'->>'{bound}')::float8"
_IMPLIED = (
    'DELETE FROM "{s}".emission_parts AS p USING "{s}".emission_versions AS v '
    "WHERE v.compute_position = p.compute_position "
    f"AND p.member = {_DEFAULT.format(p='p')} "
    f"AND p.value = {_LINE_KG.format(p='p', bound='value')} "
    f"AND p.min = {_LINE_KG.format(p='p', bound='min')} "
    f"AND p.max = {_LINE_KG.format(p='p', bound='max')} "
    'AND NOT EXISTS (SELECT 1 FROM "{s}".emission_parts AS o '
    "WHERE o.compute_position = p.compute_position AND o.dimension = p.dimension "
    "AND o.line = p.line AND o.member <> p.member)"
)
# The downgrade's: every line without a part on a dimension gets its whole one back.
_RESTORED = (
    'INSERT INTO "{s}".emission_parts '
    "(compute_position, dimension, line, member, value, min, max) "
    "SELECT v.compute_position, d.dimension, (l.n - 1)::int, "
    f"{_DEFAULT.format(p='d')}, "
    "(l.value->'kg'->>'value')::float8, (l.value->'kg'->>'min')::float8, "
    "(l.value->'kg'->>'max')::float8 "
    'FROM "{s}".emission_versions AS v '
    "CROSS JOIN LATERAL jsonb_array_elements(v.lines) WITH ORDINALITY AS l(value, n) "
    "CROSS JOIN (VALUES ('device'), ('country')) AS d(dimension) "
    'WHERE NOT EXISTS (SELECT 1 FROM "{s}".emission_parts AS o '
    "WHERE o.compute_position = v.compute_position AND o.dimension = d.dimension "
    "AND o.line = l.n - 1)"
)
_COLUMNS = ("device", "country")


def upgrade() -> None:
    schema = context.config.attributes["schema"]
    figures = f'"{schema}".current_figures'
    for column in _COLUMNS:  # IF NOT EXISTS: reporting_0006 creates today's table
        op.execute(sa.text(f"ALTER TABLE {figures} ADD COLUMN IF NOT EXISTS {column} text"))
    op.execute(sa.text(_IMPLIED.format(s=schema)))
    _refill(schema)


def downgrade() -> None:
    schema = context.config.attributes["schema"]
    op.execute(sa.text(_RESTORED.format(s=schema)))
    _refill(schema)  # every line has its parts again: the line rows say no member
    for column in _COLUMNS:
        op.execute(sa.text(f'ALTER TABLE "{schema}".current_figures DROP COLUMN {column}'))


def _refill(schema: str) -> None:
    bind = op.get_bind()
    for table in ("current_figures", "current_sources", "current_stamps"):
        bind.execute(sa.text(f'DELETE FROM "{schema}".{table}'))
    watermark = bind.execute(
        sa.text(f'SELECT coalesce(max(position), 0) FROM "{schema}".compute_watermark')
    ).scalar_one()
    for statement in follow_statements(schema):
        bind.execute(statement, {"start": 0, "end": watermark})
