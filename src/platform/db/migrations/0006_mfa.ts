import type { Migration } from '../migrate.js';

/**
 * Multi-factor authentication (src/security/mfa/).
 *
 * - `mfa_totp`: one TOTP secret per user, AES-256-GCM encrypted with the key named by `key_id`
 *   (MFA_ENCRYPTION_KEY), never in clear text. `confirmed_at` is null while an enrollment waits
 *   for its first code. `last_used_step` is the replay guard: a code is accepted only through a
 *   compare-and-set that raises it, so one time step is used once per user, on every node.
 * - `mfa_backup_codes`: single-use recovery codes, stored as keyed hashes (HMAC-SHA-256); a code
 *   is spent by `used_at is null` compare-and-set.
 * - `mfa_challenges`: the short-lived state between steps: the `mfaToken` of a login waiting for
 *   its second factor, WebAuthn ceremonies. Only the SHA-256 of the token is kept, with the
 *   binding to the login attempt (client address and user agent) and the attempt counter.
 * - `trusted_devices`: "remember this device" tokens (hashed), bound to their user.
 * - `webauthn_credentials`: passkeys (public key, signature counter).
 * - `mfa_enforcement`: when a user was first seen needing MFA (by role) without it: the start of
 *   the enrollment grace period. Kept across MFA resets, so a reset never grants a new grace.
 */
export const m0006: Migration = {
  id: 6,
  name: 'mfa',
  sql: `
create table mfa_totp (
  user_id uuid primary key references users (id) on delete cascade,
  secret_ciphertext text not null,
  key_id text not null,
  confirmed_at timestamptz,
  last_used_step bigint not null default -1,
  created_at timestamptz not null,
  updated_at timestamptz not null
);

create table mfa_backup_codes (
  id uuid primary key,
  user_id uuid not null references users (id) on delete cascade,
  code_hash text not null,
  key_id text not null,
  used_at timestamptz,
  created_at timestamptz not null
);
create index mfa_backup_codes_user_idx on mfa_backup_codes (user_id, code_hash);

create table mfa_challenges (
  id uuid primary key,
  kind text not null check (kind in ('login', 'passkey_register', 'passkey_login')),
  token_hash text not null,
  user_id uuid references users (id) on delete cascade,
  binding_hash text not null,
  webauthn_challenge text,
  attempts integer not null default 0,
  expires_at timestamptz not null,
  used_at timestamptz,
  created_at timestamptz not null
);
create unique index mfa_challenges_token_key on mfa_challenges (token_hash);
create index mfa_challenges_expires_idx on mfa_challenges (expires_at);

create table trusted_devices (
  id uuid primary key,
  user_id uuid not null references users (id) on delete cascade,
  token_hash text not null,
  label text not null,
  created_at timestamptz not null,
  last_used_at timestamptz,
  expires_at timestamptz not null,
  revoked_at timestamptz
);
create unique index trusted_devices_token_key on trusted_devices (token_hash);
create index trusted_devices_user_idx on trusted_devices (user_id, id);

create table webauthn_credentials (
  id uuid primary key,
  user_id uuid not null references users (id) on delete cascade,
  credential_id text not null,
  public_key text not null,
  counter bigint not null default 0,
  transports jsonb not null default '[]'::jsonb,
  name text not null,
  device_type text not null,
  backed_up boolean not null default false,
  created_at timestamptz not null,
  last_used_at timestamptz
);
create unique index webauthn_credentials_credential_key on webauthn_credentials (credential_id);
create index webauthn_credentials_user_idx on webauthn_credentials (user_id, id);

create table mfa_enforcement (
  user_id uuid primary key references users (id) on delete cascade,
  required_since timestamptz not null
);
`,
};
