import type { Migration } from '../migrate.js';

/**
 * Token security (src/security/tokens/).
 *
 * - `users.token_version`: the `ver` claim. Bumping it kills every token issued before
 *   (logout-all, password change, account disabled, admin revoke).
 * - `signing_keys`: the JWT key ring. Private keys are stored encrypted (AES-256-GCM under a key
 *   derived from JWT_SECRET); `retired_at` stops signing, `expires_at` stops verification.
 * - `auth_sessions`: one row per login: who, from where, which refresh family is current.
 * - `refresh_tokens`: every refresh token ever issued, until it expires. `spent_at` is set by a
 *   compare-and-set when it is exchanged, with the successor's claims, so a second use within the
 *   grace window returns the same successor and any other reuse is detected after a restart too.
 * - `revoked_tokens`: the access-token jti denylist, each row kept until the token's own expiry.
 */
export const m0003: Migration = {
  id: 3,
  name: 'tokens',
  sql: `
alter table users add column token_version integer not null default 0;

create table signing_keys (
  kid text primary key,
  alg text not null,
  public_jwk jsonb not null,
  private_key text not null,
  created_at timestamptz not null,
  retired_at timestamptz,
  expires_at timestamptz
);

create table auth_sessions (
  id uuid primary key,
  user_id uuid not null references users (id) on delete cascade,
  family_id uuid not null,
  created_at timestamptz not null,
  last_seen_at timestamptz not null,
  expires_at timestamptz not null,
  ip text,
  user_agent text,
  browser text,
  os text,
  device text,
  amr text[] not null default '{}',
  auth_time timestamptz not null,
  revoked_at timestamptz,
  revoked_reason text
);
create index auth_sessions_user_idx on auth_sessions (user_id, created_at desc);

create table refresh_tokens (
  jti uuid primary key,
  session_id uuid not null references auth_sessions (id) on delete cascade,
  family_id uuid not null,
  user_id uuid not null references users (id) on delete cascade,
  fgp text not null,
  issued_at timestamptz not null,
  expires_at timestamptz not null,
  spent_at timestamptz,
  spent_fgp text,
  successor jsonb,
  revoked_at timestamptz
);
create index refresh_tokens_family_idx on refresh_tokens (family_id);
create index refresh_tokens_expiry_idx on refresh_tokens (expires_at);

create table revoked_tokens (
  jti uuid primary key,
  user_id uuid,
  expires_at timestamptz not null,
  revoked_at timestamptz not null,
  reason text not null
);
create index revoked_tokens_expiry_idx on revoked_tokens (expires_at);
`,
};
