"""DDL for a service's event log: tables plus the guards PostgreSQL enforces on its own.

Called from each service's first alembic migration, so every service log is built the same way.
"""

from __future__ import annotations

import sqlalchemy as sa

from kernel.schema import log_tables


def create_event_log(bind: sa.Connection, schema: str) -> None:
    """Create the schema, the kernel tables, the append-only guard and the notify trigger."""
    bind.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    tables = log_tables(schema)
    for table in (
        tables.events,
        tables.head,
        tables.idempotency,
        tables.checkpoints,
        tables.processed,
    ):
        table.create(bind, checkfirst=True)
    for statement in _guards(schema, tables.notify_channel):
        bind.execute(sa.text(statement))


def drop_event_log(bind: sa.Connection, schema: str) -> None:
    """Remove the schema and everything in it (downgrade of the first migration)."""
    bind.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


def _guards(schema: str, channel: str) -> list[str]:
    q = f'"{schema}"'
    return [
        f"INSERT INTO {q}.log_head (id, position, hash) VALUES (1, 0, '\\x{'00' * 32}') "
        "ON CONFLICT DO NOTHING",
        # The database itself refuses to rewrite history, whatever the application does.
        f"""CREATE OR REPLACE FUNCTION {q}.refuse_event_change() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
              RAISE EXCEPTION 'event log %.events is append-only: % refused',
                TG_TABLE_SCHEMA, TG_OP
                USING ERRCODE = 'insufficient_privilege';
            END $$""",
        f"CREATE OR REPLACE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON {q}.events "
        f"FOR EACH ROW EXECUTE FUNCTION {q}.refuse_event_change()",
        f"CREATE OR REPLACE TRIGGER events_no_truncate BEFORE TRUNCATE ON {q}.events "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {q}.refuse_event_change()",
        f"REVOKE UPDATE, DELETE, TRUNCATE ON {q}.events FROM PUBLIC",
        # The relay listens on this channel, so it wakes on commit instead of polling.
        f"""CREATE OR REPLACE FUNCTION {q}.notify_appended() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
              PERFORM pg_notify('{channel}', NEW.position::text);
              RETURN NULL;
            END $$""",
        f"CREATE OR REPLACE TRIGGER log_head_notify AFTER UPDATE ON {q}.log_head "
        f"FOR EACH ROW EXECUTE FUNCTION {q}.notify_appended()",
    ]
