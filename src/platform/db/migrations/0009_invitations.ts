import type { Migration } from '../migrate.js';

/**
 * Invitations (src/security/invitations/, docs/ACCOUNT_SECURITY.md "Registration and invitations").
 *
 * - `invitations`: an admin (or an operator with the CLI) invites an email into roles. Only the
 *   SHA-256 of the mailed token is stored (`token_hash`): a database leak yields no usable link.
 *   `accepted_at` makes it single use, `revoked_at` withdraws it, `expires_at` ends it; the three
 *   are never rewritten once set. Rows are kept after use for the admin's list and the audit.
 * - `roles`: role names as text (checked when the invitation is made and again when it is
 *   accepted), so roles can be renamed or removed without touching old invitations.
 * - At most one open (not accepted, not revoked) invitation per canonical email
 *   (`invitations_open_email_key`): a new invitation for the same address revokes the old one in
 *   its transaction, and two admins inviting the same address at once cannot both succeed.
 */
export const m0009: Migration = {
  id: 9,
  name: 'invitations',
  sql: `
create table invitations (
  id uuid primary key,
  email text not null,
  email_canonical text not null,
  roles text[] not null check (cardinality(roles) between 1 and 20),
  token_hash text not null unique,
  invited_by uuid references users (id) on delete set null,
  created_at timestamptz not null,
  expires_at timestamptz not null,
  accepted_at timestamptz,
  accepted_user_id uuid references users (id) on delete set null,
  revoked_at timestamptz,
  revoked_by uuid references users (id) on delete set null,
  check (accepted_at is null or revoked_at is null)
);
create unique index invitations_open_email_key on invitations (email_canonical)
  where accepted_at is null and revoked_at is null;
`,
};
