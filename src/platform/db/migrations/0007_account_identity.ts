import type { Migration } from '../migrate.js';

/**
 * One identifier per account, and one-time links that die with the credentials they were
 * issued under (docs/ACCOUNT_SECURITY.md).
 *
 * - `users.email_canonical`: the account's identifier, generated from the stored email. Every
 *   stored email passed `canonicalEmail()` (src/users/email.ts: trimmed, a valid ASCII address),
 *   and `translate` folds A-Z and nothing else, exactly as `canonicalEmail` then does, in any
 *   locale; so the column equals `canonicalEmail(email)`. Unique; lookups compare it with the
 *   canonical form of what was typed, as bytes. It replaces the unique index on `lower(email)`:
 *   lower() depends on the database's locale and folds non-ASCII letters ("İ" to "i", the Kelvin
 *   sign to "k") that the application's counters did not, so the database no longer decides which
 *   spellings are the same account.
 * - `users.credential_version`: raised by every password change or reset, an admin reset and
 *   disabling the account. `one_time_tokens.credential_version` is the version a link was issued
 *   under; a link is honoured only while the two are equal.
 */
export const m0007: Migration = {
  id: 7,
  name: 'account_identity',
  sql: `
alter table users add column email_canonical text not null
  generated always as (translate(btrim(email), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')) stored;
create unique index users_email_canonical_key on users (email_canonical);
drop index users_email_lower_key;

alter table users add column credential_version integer not null default 0;
alter table one_time_tokens add column credential_version integer not null default 0;
`,
};
