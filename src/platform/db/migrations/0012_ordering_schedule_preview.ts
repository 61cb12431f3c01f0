import type { Migration } from '../migrate.js';

/**
 * Ordering, scheduled publishing and preview links (issue 17, items 6 to 8; docs/CONTENT.md).
 *
 * - `publish_at` / `unpublish_at` on portfolios and projects: when the schedule job
 *   (src/content/schedule/) sets `published` to true / false and clears the time. Both set means
 *   unpublish after publish (a check; the API says so first). Partial indexes keep the job's scan
 *   to the rows that have a time at all.
 * - `projects.published` (default true: every existing project stays visible): an unpublished
 *   project is left out of the public read.
 * - `preview_links`: a hashed (SHA-256) bearer token that shows one portfolio as if it were
 *   published, until it expires or is revoked (the row is deleted); the portfolio's deletion takes
 *   its links with it (FK cascade). Ordering needs no schema: positions are rewritten 0..n-1.
 */
export const m0012: Migration = {
  id: 12,
  name: 'ordering_schedule_preview',
  sql: `
alter table portfolios
  add column publish_at timestamptz,
  add column unpublish_at timestamptz,
  add constraint portfolios_schedule_order check (publish_at is null or unpublish_at is null or unpublish_at > publish_at);
create index portfolios_publish_at_idx on portfolios (publish_at) where publish_at is not null;
create index portfolios_unpublish_at_idx on portfolios (unpublish_at) where unpublish_at is not null;

alter table projects
  add column published boolean not null default true,
  add column publish_at timestamptz,
  add column unpublish_at timestamptz,
  add constraint projects_schedule_order check (publish_at is null or unpublish_at is null or unpublish_at > publish_at);
create index projects_publish_at_idx on projects (publish_at) where publish_at is not null;
create index projects_unpublish_at_idx on projects (unpublish_at) where unpublish_at is not null;

create table preview_links (
  id uuid primary key,
  portfolio_id uuid not null references portfolios (id) on delete cascade,
  token_hash text not null,
  created_by uuid references users (id) on delete set null,
  created_at timestamptz not null,
  expires_at timestamptz not null
);
create unique index preview_links_token_hash_key on preview_links (token_hash);
create index preview_links_portfolio_idx on preview_links (portfolio_id, expires_at);
`,
};
