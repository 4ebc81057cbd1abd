"""DDL of revision kernel_0003: `append_events` taking a batch in fewer, denser arguments."""

from __future__ import annotations

import sqlalchemy as sa

from kernel.ddl import FIRST_ARGUMENTS, append_function

# The argument types of revisions 0001/0002's append_events (one array element per event).
_PER_EVENT_ARGUMENTS = FIRST_ARGUMENTS + ", integer[]"


def send_appends_compactly(bind: sa.Connection, schema: str, *, compact: bool = True) -> None:
    """Revision kernel_0003: `append_events` takes a batch in fewer, denser arguments.

    `compact=False` (the downgrade) restores revision kernel_0002's function.
    """
    q = f'"{schema}"'
    drop, create = (_PER_EVENT_ARGUMENTS, _compact_append_function(q))
    if not compact:
        drop, create = (_COMPACT_ARGUMENTS, append_function(q, "json"))
    bind.execute(sa.text(f"DROP FUNCTION IF EXISTS {q}.append_events({drop})"))
    bind.execute(sa.text(create))


_COMPACT_ARGUMENTS = (
    "uuid[], text[], text[], integer[], text[], timestamptz[], uuid[], uuid[], text[], json, "
    "bytea, text[], integer[], text, bytea, integer[]"
)


# The columns the caller may send as one element for the whole batch (store._batch_column).
_SHARED_COLUMNS = (
    "p_stream_ids", "p_types", "p_schema_versions", "p_tenant_ids", "p_occurred_at",
    "p_causation_ids", "p_correlation_ids", "p_actors",
)  # fmt: skip


def _spread_shared_columns() -> str:
    return "\n".join(
        f"  IF n > 1 AND cardinality({c}) = 1 THEN {c} := array_fill({c}[1], ARRAY[n]); END IF;"
        for c in _SHARED_COLUMNS
    )


def _compact_append_function(q: str) -> str:
    """`append_events` of revision kernel_0003: what it does is revision 0001's.

    What the caller sends changed, to save encoding one value per event per column on both
    ends: an array of one element stands for every event of the batch (stream, type, tenant
    and so on are most often the same throughout); the payloads come as one JSON array, the
    content hashes as one bytea of 32 bytes each.
    """
    return f"""
CREATE OR REPLACE FUNCTION {q}.append_events(
  p_event_ids uuid[], p_stream_ids text[], p_types text[], p_schema_versions integer[],
  p_tenant_ids text[], p_occurred_at timestamptz[], p_causation_ids uuid[],
  p_correlation_ids uuid[], p_actors text[], p_payloads json, p_contents bytea,
  p_expected_streams text[], p_expected_versions integer[],
  p_idem_key text, p_idem_fingerprint bytea, p_versions integer[])
RETURNS TABLE (out_positions bigint[], out_versions integer[], out_recorded_at timestamptz,
               out_first_prev_hash bytea, out_hashes bytea[], out_replayed boolean)
LANGUAGE plpgsql AS $$
DECLARE
  head_position bigint; head_hash bytea; first_prev bytea; ts timestamptz; micros bigint;
  earlier {q}.idempotency_keys%ROWTYPE; clash record;
  versions integer[]; positions bigint[]; hashes bytea[];
  n integer := cardinality(p_event_ids);
BEGIN
  IF length(p_contents) <> 32 * n THEN
    RAISE EXCEPTION 'append_events: % content hashes for % events', length(p_contents) / 32, n;
  END IF;
  -- One element for the whole batch: spread it to every event.
{_spread_shared_columns()}
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
  -- The caller numbers the events of streams whose version it stated (checked just above).
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
  hashes := array_fill(NULL::bytea, ARRAY[n]);
  first_prev := head_hash;
  FOR i IN 1..n LOOP
    head_hash := sha256(head_hash || substring(p_contents FROM i * 32 - 31 FOR 32)
                        || int8send(positions[i]) || int4send(versions[i]) || int8send(micros));
    hashes[i] := head_hash;
  END LOOP;
  -- Each event's prev_hash is the hash before it: the chain shifted by one.
  INSERT INTO {q}.events (global_position, event_id, stream_id, stream_version, type,
      schema_version, tenant_id, occurred_at, recorded_at, causation_id, correlation_id,
      actor, payload, prev_hash, hash)
    SELECT u.pos, u.id, u.sid, u.ver, u.typ, u.sv, u.ten, u.occ, ts, u.cau, u.cor, u.act,
      u.pay, u.prv, u.hsh
    FROM ROWS FROM (unnest(positions), unnest(p_event_ids), unnest(p_stream_ids),
      unnest(versions), unnest(p_types), unnest(p_schema_versions), unnest(p_tenant_ids),
      unnest(p_occurred_at), unnest(p_causation_ids), unnest(p_correlation_ids),
      unnest(p_actors), json_array_elements(p_payloads),
      unnest(array_prepend(first_prev, hashes[1:n - 1])), unnest(hashes))
      AS u(pos, id, sid, ver, typ, sv, ten, occ, cau, cor, act, pay, prv, hsh);
  UPDATE {q}.log_head SET position = positions[n], hash = head_hash WHERE id = 1;
  IF p_idem_key IS NOT NULL THEN
    INSERT INTO {q}.idempotency_keys (tenant_id, key, request_hash, positions, recorded_at)
      VALUES (p_tenant_ids[1], p_idem_key, p_idem_fingerprint, positions, ts);
  END IF;
  -- One row of arrays, not a row per event: the caller decodes one record per append.
  RETURN QUERY SELECT positions, versions, ts, first_prev, hashes, false;
END $$"""
