import type { Migration } from '../migrate.js';

/**
 * The tamper-evident audit log (src/security/audit/).
 *
 * - `audit_inbox`: where `audit.record(event, tx)` writes, inside the caller's transaction, so an
 *   event commits (or rolls back) with the state change that caused it. A single sealer moves
 *   committed rows from here into the chain in batches.
 * - `audit_events`: the sealed, hash-chained log. `seq` is assigned by the sealer: gapless and
 *   strictly increasing. Never updated; rows leave only through `audit_prune_batch`.
 * - `audit_checkpoints`: Ed25519-signed `{seq, hash, time, kid}` (also written outside the database).
 * - `audit_prunes`: one row per retention run: the range removed and the anchor the chain continues from.
 *
 * The triggers stop the application's own SQL (a bug, an injected statement) from rewriting
 * history. They are not what makes tampering detectable: an attacker with owner rights can drop
 * them, and the chain plus the signed checkpoints outside the database catch that.
 */
export const m0002: Migration = {
  id: 2,
  name: 'audit',
  sql: `
create table audit_inbox (
  id bigint generated always as identity primary key,
  time timestamptz not null,
  action text not null,
  actor text not null,
  outcome text not null,
  ip text,
  user_agent text,
  target_type text,
  target_id text,
  request_id text,
  metadata jsonb not null default '{}'::jsonb
);

create table audit_events (
  seq bigint primary key check (seq > 0),
  v smallint not null,
  time timestamptz not null,
  action text not null,
  actor text not null,
  outcome text not null check (outcome in ('success', 'failure', 'denied')),
  ip text,
  user_agent text,
  target_type text,
  target_id text,
  request_id text,
  metadata jsonb not null,
  prev_hash text not null,
  hash text not null
);
create index audit_events_time_idx on audit_events (time);
create index audit_events_actor_idx on audit_events (actor, seq);
-- text_pattern_ops: "action starts with auth.login" is a btree range scan in any collation.
create index audit_events_action_idx on audit_events (action text_pattern_ops, seq);
create index audit_events_target_idx on audit_events (target_type, target_id, seq);

create table audit_checkpoints (
  seq bigint primary key,
  hash text not null,
  time timestamptz not null,
  kid text not null,
  signature text not null
);

create table audit_prunes (
  to_seq bigint primary key,
  from_seq bigint not null,
  anchor_hash text not null,
  bundle_sha256 text not null,
  bundle_file text not null,
  time timestamptz not null
);

create function audit_events_guard() returns trigger language plpgsql as $$
begin
  if tg_op = 'DELETE'
     and current_setting('audit.prune', true) = 'on'
     and old.seq <= coalesce((select max(to_seq) from audit_prunes), 0) then
    return old;
  end if;
  raise exception 'audit_events is append-only: % refused (only audit_prune_batch may delete pruned rows)', tg_op;
end
$$;
create trigger audit_events_append_only before update or delete on audit_events
  for each row execute function audit_events_guard();

create function audit_refuse_change() returns trigger language plpgsql as $$
begin
  raise exception '% is append-only: % refused', tg_table_name, tg_op;
end
$$;
create trigger audit_events_no_truncate before truncate on audit_events
  for each statement execute function audit_refuse_change();
create trigger audit_checkpoints_append_only before update or delete or truncate on audit_checkpoints
  for each statement execute function audit_refuse_change();
create trigger audit_prunes_append_only before update or delete or truncate on audit_prunes
  for each statement execute function audit_refuse_change();

-- Inbox rows are never edited; only the sealer removes them, in the transaction that chains them.
-- Statement-level: checked once per sealed batch, not once per event.
create function audit_inbox_guard() returns trigger language plpgsql as $$
begin
  if tg_op = 'DELETE' and current_setting('audit.seal', true) = 'on' then
    return null;
  end if;
  raise exception 'audit_inbox rows are only removed by the sealer: % refused', tg_op;
end
$$;
create trigger audit_inbox_guard before update or delete or truncate on audit_inbox
  for each statement execute function audit_inbox_guard();

-- The sealer's intake, in one round trip: takes the sealer lock (one sealer at a time across all
-- nodes, per schema), then removes and returns the oldest committed inbox rows.
create function audit_take_inbox(batch integer) returns setof audit_inbox language plpgsql as $$
begin
  perform pg_advisory_xact_lock(hashtext('portfolio-backend:audit-sealer:' || current_schema()));
  perform set_config('audit.seal', 'on', true);
  return query
    delete from audit_inbox where id in (select id from audit_inbox order by id limit batch) returning *;
  perform set_config('audit.seal', 'off', true);
end
$$;

-- The retention procedure: deletes at most batch rows covered by a recorded prune, in the
-- caller's (short) transaction, so no long table lock is held.
create function audit_prune_batch(up_to bigint, batch integer) returns integer language plpgsql as $$
declare
  n integer;
begin
  if up_to > coalesce((select max(to_seq) from audit_prunes), 0) then
    raise exception 'audit_prune_batch: seq % is not covered by a recorded prune', up_to;
  end if;
  perform set_config('audit.prune', 'on', true);
  delete from audit_events
   where seq in (select seq from audit_events where seq <= up_to order by seq limit batch);
  get diagnostics n = row_count;
  perform set_config('audit.prune', 'off', true);
  return n;
end
$$;
`,
};
