import type { Migration } from '../migrate.js';

/**
 * Mail and account security (src/platform/mail/, src/security/accounts/).
 *
 * - `mail_outbox`: every mail is a row first, written in the caller's transaction, so a mail is
 *   sent if and only if the change that caused it commits, and an SMTP outage delays it instead of
 *   failing the request or losing it. A worker claims due rows (`claim_token`, `claimed_until`:
 *   a lease, so a node that dies mid-send releases its rows), sends, and marks them `sent` or
 *   reschedules them with exponential backoff until `dead`. Bodies hold one-time links, so they are
 *   erased once the mail is sent or given up (`body_purged`).
 * - `one_time_tokens`: reset, verification, unlock and "was this you?" tokens. Only the SHA-256 of
 *   the token is stored: a database leak yields no usable link. `used_at` makes them single use.
 * - `password_history`: argon2 hashes of passwords a user had before, newest first.
 * - `login_networks`: IP prefixes a user has signed in from (suspicious-login detection).
 * - `login_devices`: user-agent families ("firefox|windows") a user has signed in with.
 * - `users.email_verified_at`: set once the owner follows the verification link.
 * - `users.email_verification_pending`: a self-registered account (EMAIL_VERIFICATION=required)
 *   that has not verified yet: it cannot sign in. Accounts made by an admin or the CLI never are.
 */
export const m0005: Migration = {
  id: 5,
  name: 'accounts',
  sql: `
create table mail_outbox (
  id uuid primary key,
  template text not null,
  to_address text not null,
  to_name text,
  reply_to text,
  subject text not null,
  text_body text not null,
  html_body text,
  status text not null default 'pending' check (status in ('pending', 'sending', 'sent', 'dead')),
  attempts integer not null default 0,
  next_attempt_at timestamptz not null,
  claim_token uuid,
  claimed_until timestamptz,
  last_error text,
  body_purged boolean not null default false,
  created_at timestamptz not null,
  sent_at timestamptz
);
-- The worker's query: due rows still to send, oldest first.
create index mail_outbox_due_idx on mail_outbox (next_attempt_at) where status in ('pending', 'sending');

create table one_time_tokens (
  token_hash text primary key,
  purpose text not null check (purpose ~ '^[a-z][a-z_]{0,39}$'),
  user_id uuid not null references users (id) on delete cascade,
  metadata jsonb not null default '{}'::jsonb,
  created_at timestamptz not null,
  expires_at timestamptz not null,
  used_at timestamptz
);
create index one_time_tokens_user_idx on one_time_tokens (user_id, purpose);
create index one_time_tokens_expiry_idx on one_time_tokens (expires_at);

create table password_history (
  id uuid primary key,
  user_id uuid not null references users (id) on delete cascade,
  password_hash text not null,
  created_at timestamptz not null
);
create index password_history_user_idx on password_history (user_id, created_at desc, id desc);

create table login_networks (
  user_id uuid not null references users (id) on delete cascade,
  prefix text not null,
  first_seen timestamptz not null,
  last_seen timestamptz not null,
  primary key (user_id, prefix)
);

create table login_devices (
  user_id uuid not null references users (id) on delete cascade,
  family text not null,
  first_seen timestamptz not null,
  last_seen timestamptz not null,
  primary key (user_id, family)
);

alter table users add column email_verified_at timestamptz;
alter table users add column email_verification_pending boolean not null default false;
`,
};
