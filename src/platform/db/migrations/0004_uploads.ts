import type { Migration } from '../migrate.js';

/**
 * Uploaded media (src/security/uploads/). One row per upload, from the moment its first byte is
 * accepted: the row moves through `staged → validated → scanned → sanitised → available`, or ends
 * in `quarantined` / `rejected`. Only `available` rows are ever served.
 *
 * - `portfolio_id` is always set (authorization goes through the portfolio's owner); a project's
 *   media also carry `project_id`.
 * - `variants` describes the stored, sanitised objects: `{display: {key, size, sha256,
 *   contentType, width, height}, thumbnail: {...}}` for images, `{original: {...}}` for PDFs.
 *   Each SHA-256 is of the stored bytes and is checked on every read.
 * - `quarantine_key` is the blob holding the original while it waits (scan failed, scanner
 *   unavailable, infected): never served, read only by the retry worker and the admin release.
 * - `scanner_version` is the clamd signature version the last verdict was made with; when the
 *   scanner reports another one, available media are rescanned.
 */
export const m0004: Migration = {
  id: 4,
  name: 'uploads',
  sql: `
create table media (
  id uuid primary key,
  portfolio_id uuid not null references portfolios (id) on delete cascade,
  project_id uuid references projects (id) on delete cascade,
  uploaded_by uuid references users (id) on delete set null,
  kind text not null check (kind in ('image', 'document')),
  category text not null check (category in ('main', 'thumbnail', 'gallery', 'background', 'resume', 'document')),
  is_default_resume boolean not null default false,
  status text not null check (status in ('staged', 'validated', 'scanned', 'sanitised', 'available', 'quarantined', 'rejected')),
  status_reason text,
  original_name text not null default 'file',
  extension text,
  declared_type text,
  detected_type text,
  size bigint not null default 0,
  sha256 text,
  width integer,
  height integer,
  variants jsonb not null default '{}'::jsonb,
  quarantine_key text,
  scan_verdict text check (scan_verdict in ('clean', 'infected', 'error')),
  scan_signature text,
  scanner_version text,
  scanned_at timestamptz,
  scan_attempts integer not null default 0,
  next_scan_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check (not is_default_resume or category = 'resume')
);
create index media_portfolio_idx on media (portfolio_id, id);
create index media_project_idx on media (project_id, id) where project_id is not null;
create index media_retry_idx on media (next_scan_at) where status = 'quarantined' and next_scan_at is not null;
create index media_status_idx on media (status, id);
-- One default resume per portfolio.
create unique index media_one_default_resume on media (portfolio_id) where is_default_resume;
`,
};
