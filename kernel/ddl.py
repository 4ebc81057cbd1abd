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
    index_events_by_type(bind, schema, indexed=True)  # as revision 0001 did; kernel_0004 drops it
    for statement in _guards(schema, tables.notify_channel):
        bind.execute(sa.text(statement))


def store_payloads_as(bind: sa.Connection, schema: str, payload_type: str = "json") -> None:
    """Revision kernel_0002: payloads kept as the canonical JSON text, not re-parsed as jsonb.

    Rows written as jsonb keep their (equivalent) jsonb rendering; `verify_chain` hashes the
    canonical form of the parsed payload, so old and new rows verify alike.
    """
    q, t = f'"{schema}"', payload_type
    alter = f"ALTER TABLE {q}.events ALTER COLUMN payload TYPE {t} USING payload::{t}"
    bind.execute(sa.text(alter))
    bind.execute(sa.text(f"DROP FUNCTION IF EXISTS {q}.append_events({FIRST_ARGUMENTS})"))
    bind.execute(sa.text(append_function(q, t)))


def index_events_by_type(bind: sa.Connection, schema: str, *, indexed: bool) -> None:
    """Revision kernel_0004 drops the (type, global_position) index (`indexed=False`).

    No read needs it: reads by type also follow the log in position order (the primary key)
    and no service reads by type; every append paid an index insert per event for it.
    """
    q = f'"{schema}"'
    if indexed:
        create = f"CREATE INDEX IF NOT EXISTS events_type_idx ON {q}.events (type, global_position)"
        bind.execute(sa.text(create))
    else:
        bind.execute(sa.text(f"DROP INDEX IF EXISTS {q}.events_type_idx"))


# The argument types of revision 0001's append_events (before p_versions), to drop it.
FIRST_ARGUMENTS = (
    "uuid[], text[], text[], integer[], text[], timestamptz[], uuid[], uuid[], text[], text[], "
    "bytea[], text[], integer[], text, bytea"
)


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
        append_function(q),
    ]


def append_function(q: str, payload_type: str = "json") -> str:
    """`append_events`: a whole append in one statement (see kernel/store.py for the why).

    Errors it raises on purpose: SQLSTATE EMCON (expected version does not hold; the message
    is a JSON array [stream, expected, actual]) and EMIDK (idempotency key reused with another
    request; the message is the key).
    """
    return f"""
CREATE OR REPLACE FUNCTION {q}.append_events(
  p_event_ids uuid[], p_stream_ids text[], p_types text[], p_schema_versions integer[],
  p_tenant_ids text[], p_occurred_at timestamptz[], p_causation_ids uuid[],
  p_correlation_ids uuid[], p_actors text[], p_payloads text[], p_contents bytea[],
  p_expected_streams text[], p_expected_versions integer[],
  p_idem_key text, p_idem_fingerprint bytea, p_versions integer[])
RETURNS TABLE (out_positions bigint[], out_versions integer[], out_recorded_at timestamptz,
               out_first_prev_hash bytea, out_hashes bytea[], out_replayed boolean)
LANGUAGE plpgsql AS $$
DECLARE
  head_position bigint; head_hash bytea; ts timestamptz; micros bigint;
  earlier {q}.idempotency_keys%ROWTYPE; clash record;
  versions integer[]; positions bigint[]; prevs bytea[]; hashes bytea[];
  n integer := cardinality(p_event_ids); i integer := 0; content bytea;
BEGIN
  -- Every statement below takes a fresh snapshot, so after this lock it sees the last commit.
  SELECT h.position, h.hash INTO head_position, head_hash
    FROM {q}.log_head h WHERE h.id = 1 FOR UPDATE;
  IF p_idem_key IS NOT NULL THEN
    SELECT * INTO earlier FROM {q}.idempotency_keys k
      WHERE k.tenant_id = p_tenant_ids[1] AND k.key = p_idem_key;
    IF FOUND THEN
      IF length(p_idem_fingerprint) > 0 AND earlier.request_hash <> p_idem_fingerprint THEN
        RAISE EXCEPTION USING ERRCODE = 'EMIDK', MESSAGE = p_idem_key;
      END IF;
      RETURN QUERY SELECT earlier.positions, NULL::integer[], NULL::timestamptz,
        NULL::bytea, NULL::bytea[], true;
      RETURN;
    END IF;
  END IF;
  SELECT e.s, e.v, coalesce(c.v, 0) AS actual INTO clash
    FROM unnest(p_expected_streams, p_expected_versions) AS e(s, v)
    LEFT JOIN LATERAL (SELECT max(x.stream_version) AS v FROM {q}.events x
                       WHERE x.stream_id = e.s) c ON true
    WHERE coalesce(c.v, 0) <> e.v LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'EMCON',
      MESSAGE = json_build_array(clash.s, clash.v, clash.actual)::text;
  END IF;
  -- The caller numbers the events of streams whose version it stated (checked just above):
  -- the usual case, and it saves a query that was a sixth of the function's time.
  versions := p_versions;
  -- Otherwise one index probe per distinct stream (never `stream_id = ANY(...)`: with a
  -- generic plan that became a scan of the whole log, growing with it).
  IF versions IS NULL THEN
  SELECT array_agg(coalesce(c.v, 0) + t.rn ORDER BY t.ord) INTO versions
    FROM (SELECT u.s, u.ord, row_number() OVER (PARTITION BY u.s ORDER BY u.ord) AS rn
          FROM unnest(p_stream_ids) WITH ORDINALITY AS u(s, ord)) t
    JOIN (SELECT d.s, (SELECT max(x.stream_version) FROM {q}.events x WHERE x.stream_id = d.s) AS v
          FROM (SELECT DISTINCT s FROM unnest(p_stream_ids) AS s) d) c
      ON c.s = t.s;
  END IF;
  ts := clock_timestamp();
  micros := (extract(epoch FROM ts) * 1000000)::bigint;
  positions := array(SELECT head_position + g FROM generate_series(1, n) g);
  prevs := array_fill(NULL::bytea, ARRAY[n]);
  hashes := prevs;
  -- FOREACH, not p_contents[i]: subscripting an array of variable-length values is O(i).
  FOREACH content IN ARRAY p_contents LOOP
    i := i + 1;
    prevs[i] := head_hash;
    head_hash := sha256(head_hash || content || int8send(positions[i])
                        || int4send(versions[i]) || int8send(micros));
    hashes[i] := head_hash;
  END LOOP;
  INSERT INTO {q}.events (global_position, event_id, stream_id, stream_version, type,
      schema_version, tenant_id, occurred_at, recorded_at, causation_id, correlation_id,
      actor, payload, prev_hash, hash)
    SELECT u.pos, u.id, u.sid, u.ver, u.typ, u.sv, u.ten, u.occ, ts, u.cau, u.cor, u.act,
      u.pay::{payload_type}, u.prv, u.hsh
    FROM unnest(positions, p_event_ids, p_stream_ids, versions, p_types, p_schema_versions,
      p_tenant_ids, p_occurred_at, p_causation_ids, p_correlation_ids, p_actors, p_payloads,
      prevs, hashes) AS u(pos, id, sid, ver, typ, sv, ten, occ, cau, cor, act, pay, prv, hsh);
  UPDATE {q}.log_head SET position = positions[n], hash = head_hash WHERE id = 1;
  IF p_idem_key IS NOT NULL THEN
    INSERT INTO {q}.idempotency_keys (tenant_id, key, request_hash, positions, recorded_at)
      VALUES (p_tenant_ids[1], p_idem_key, p_idem_fingerprint, positions, ts);
  END IF;
  -- One row of arrays, not a row per event: the caller decodes one record per append.
  RETURN QUERY SELECT positions, versions, ts, prevs[1], hashes, false;
END $$"""
