import type { Migration } from '../migrate.js';

/**
 * Crypto-shredding of the audit log's personal data (src/security/audit/pii.ts, docs/AUDIT.md
 * "Personal data"):
 *
 * - `audit_pii_keys`: one data key per subject and month (`u:<user id>/2026-12`), wrapped by
 *   AUDIT_PII_KEY (never in the database). Destroying one sets `wrapped` to null; a row without a
 *   month (`u:<user id>`) marks an erased subject, so nothing of theirs is encrypted again.
 * - `audit_pii_rechain`: events sealed before this migration hold their personal data in clear and
 *   their hashes cover it. When a table has any, one `pending` row asks the application (which has
 *   the keys) to verify the chain, encrypt those values and re-chain the rows over the ciphertext
 *   once, then seal an `audit.pii.rechained` event under a new signed checkpoint. The append-only
 *   trigger lets exactly that update through, and only while the row is pending.
 */
export const m0020: Migration = {
  id: 20,
  name: 'audit_pii',
  sql: `
create table audit_pii_keys (
  subject text primary key,
  wrapped text,
  bucket_end timestamptz,
  created_at timestamptz not null,
  destroyed_at timestamptz,
  destroyed_reason text
);
create index audit_pii_keys_bucket_idx on audit_pii_keys (bucket_end) where wrapped is not null;

create table audit_pii_rechain (
  id integer primary key check (id = 1),
  state text not null check (state in ('pending', 'done', 'refused')),
  after_seq bigint,
  head_seq bigint,
  seal_seq bigint,
  detail text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
insert into audit_pii_rechain (id, state)
  select 1, 'pending' where exists (select 1 from audit_events);

create or replace function audit_events_guard() returns trigger language plpgsql as $$
begin
  if tg_op = 'DELETE'
     and current_setting('audit.prune', true) = 'on'
     and old.seq <= coalesce((select max(to_seq) from audit_prunes), 0) then
    return old;
  end if;
  if tg_op = 'UPDATE'
     and current_setting('audit.rechain', true) = 'on'
     and new.seq = old.seq
     and exists (select 1 from audit_pii_rechain where id = 1 and state = 'pending') then
    return new;
  end if;
  raise exception 'audit_events is append-only: % refused (only audit_prune_batch may delete pruned rows)', tg_op;
end
$$;
`,
};
