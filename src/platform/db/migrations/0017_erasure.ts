import type { Migration } from '../migrate.js';

/**
 * Erasure of accounts (issue 19, part 2; src/security/privacy/erasure/, docs/PRIVACY.md).
 *
 * - `users.deletion_requested_at` / `deletion_due_at`: an erasure is pending: requested then, due
 *   then (ACCOUNT_DELETION_GRACE_DAYS later). Cleared by a cancel.
 * - `users.deletion_requested_by`: who asked (the account itself, or the admin who ordered it; an
 *   admin's order is not cancelled by the account signing in: the account is disabled).
 * - `users.erasure_started_at`: the job claimed the erasure (a cancel is refused from then on); a
 *   crash after it leaves the row to be resumed by the next pass.
 * - `users.erased_at`: the row is a tombstone: no personal data, only the id (audit events and
 *   content other people keep still point at it) and placeholders that satisfy NOT NULL/UNIQUE.
 * - `users.erasure_ledgered_at`: the erasure is written to the erasure ledger outside the database
 *   (DATA_DIR/privacy/erasures/); set after the file write, so a crash in between writes it again.
 *
 * A pending erasure does not count as a holder of user:manage (the last-admin rule).
 */
export const m0017: Migration = {
  id: 17,
  name: 'erasure',
  sql: `
alter table users add column deletion_requested_at timestamptz;
alter table users add column deletion_due_at timestamptz;
alter table users add column deletion_requested_by uuid;
alter table users add column erasure_started_at timestamptz;
alter table users add column erased_at timestamptz;
alter table users add column erasure_ledgered_at timestamptz;
create index users_deletion_due_idx on users (deletion_due_at) where deletion_due_at is not null;
create index users_erasure_unledgered_idx on users (erased_at) where erased_at is not null and erasure_ledgered_at is null;
`,
};
