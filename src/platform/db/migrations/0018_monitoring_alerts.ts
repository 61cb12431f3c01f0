import type { Migration } from '../migrate.js';

/**
 * Detection rules and operator alerts (issue 20; src/security/monitoring/, docs/MONITORING.md).
 *
 * - `monitoring_cursor`: how far the detection consumer has read the sealed audit chain (by seq).
 *   Advanced in the same transaction that writes the alerts those events raised, so a crash never
 *   loses or doubles an alert; the row lock also keeps two overlapping leaders in line. Starts at
 *   the chain's head at upgrade time (an existing history is not re-alerted).
 * - `alerts`: one row per rule and dedup key per dedup window (`window_ends`); a repeat inside the
 *   window bumps `count`/`last_seen` and is not delivered again. `state` open or acknowledged.
 * - `alert_webhook_deliveries`: the durable webhook queue (body stored as signed, retried with
 *   backoff, survives a restart). Mail goes through the platform outbox (`mail_outbox`).
 * - `monitoring_admin_networks`: the networks (/24, /64) each admin has acted from, for the
 *   "admin action from a new network" rule.
 */
export const m0018: Migration = {
  id: 18,
  name: 'monitoring_alerts',
  sql: `
create table monitoring_cursor (
  name text primary key,
  seq bigint not null check (seq >= 0),
  updated_at timestamptz not null
);
-- An existing deployment starts detecting from now: its history is not re-alerted on upgrade.
insert into monitoring_cursor (name, seq, updated_at) select 'detection', coalesce(max(seq), 0), now() from audit_events;

create table alerts (
  id uuid primary key,
  rule text not null,
  severity text not null check (severity in ('info', 'warning', 'critical')),
  dedup_key text not null,
  summary text not null,
  count integer not null check (count >= 1),
  first_seen timestamptz not null,
  last_seen timestamptz not null,
  window_ends timestamptz not null,
  first_seq bigint,
  last_seq bigint,
  state text not null default 'open' check (state in ('open', 'acknowledged')),
  acked_at timestamptz,
  acked_by text,
  created_at timestamptz not null
);
create index alerts_dedup_idx on alerts (rule, dedup_key, window_ends);
create index alerts_state_idx on alerts (state, severity, id);

create table alert_webhook_deliveries (
  id uuid primary key,
  alert_id uuid not null references alerts (id) on delete cascade,
  body text not null,
  status text not null default 'pending' check (status in ('pending', 'sent', 'dead')),
  attempts integer not null default 0,
  next_attempt_at timestamptz not null,
  claimed_until timestamptz,
  last_error text,
  sent_at timestamptz,
  created_at timestamptz not null
);
create index alert_webhook_due_idx on alert_webhook_deliveries (next_attempt_at) where status = 'pending';

create table monitoring_admin_networks (
  actor text not null,
  network text not null,
  first_seen timestamptz not null,
  primary key (actor, network)
);
`,
};
