import type { Migration } from '../migrate.js';

/**
 * Privacy: exports and consent (issue 19, items 1 and 7; src/security/privacy/, docs/PRIVACY.md).
 *
 * - `privacy_exports`: one row per export (right of access). The background job claims a row
 *   (`status` pending → building, `claimed_until` a lease in the row, so a node that dies mid-build
 *   leaves a row the next pass takes again), writes the zip to the blob store (`archive_key`) and
 *   marks it ready. `downloaded_at` is set by one conditional update: the link works once.
 *   `expires_at`: when the archive is deleted (ready + 7 days) by housekeeping.
 *   `subject_id` is whose data it holds; `requested_by` who may download it (the user, or the
 *   admin who asked for it).
 * - `contact_messages`: the contact form's messages as received by the portfolio's owner, with the
 *   version of the privacy notice the sender accepted and when (null: no notice was configured).
 */
export const m0016: Migration = {
  id: 16,
  name: 'privacy_export_consent',
  sql: `
create table privacy_exports (
  id uuid primary key,
  subject_id uuid not null references users (id) on delete cascade,
  requested_by uuid not null references users (id) on delete cascade,
  status text not null default 'pending'
    check (status in ('pending', 'building', 'ready', 'downloaded', 'failed', 'expired')),
  attempts integer not null default 0,
  claimed_until timestamptz,
  archive_key text,
  archive_size bigint,
  last_error text,
  created_at timestamptz not null,
  ready_at timestamptz,
  downloaded_at timestamptz,
  expires_at timestamptz
);
create index privacy_exports_work_idx on privacy_exports (created_at) where status in ('pending', 'building');
create index privacy_exports_requester_idx on privacy_exports (requested_by, created_at desc);
create index privacy_exports_archive_idx on privacy_exports (expires_at) where archive_key is not null;

create table contact_messages (
  id uuid primary key,
  portfolio_id uuid not null references portfolios (id) on delete cascade,
  recipient_id uuid not null references users (id) on delete cascade,
  sender_name text not null,
  sender_email text not null,
  message text not null,
  mail_id uuid,
  notice_version text,
  notice_accepted_at timestamptz,
  created_at timestamptz not null
);
create index contact_messages_recipient_idx on contact_messages (recipient_id, created_at desc, id);
`,
};
