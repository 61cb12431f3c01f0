import type { Migration } from '../migrate.js';

/**
 * Stored public reads (src/content/public-read/, docs/PUBLIC_READ.md "Stored answers"): the exact
 * bytes a node sends for a published portfolio in one language, stamped with the content version
 * (`portfolios.public_version`) they were rendered from. A node's cache miss reads one row here
 * (the version compared in the same statement) instead of running the one-statement read; a row
 * whose version is not the portfolio's current one is never served, and a render never replaces
 * a newer one. `selector`: '0' (no language asked) or a lower-cased language tag the read
 * negotiated. `format`: a fingerprint of the statement and the response schema that made `body`.
 * `links_expire_at`: when its first signed media link expires, ms (null: no links).
 */
export const m0022: Migration = {
  id: 22,
  name: 'public_snapshots',
  sql: `
create table public_snapshots (
  portfolio_id uuid not null references portfolios (id) on delete cascade,
  selector text not null,
  version bigint not null,
  format text not null,
  body text not null,
  links_expire_at double precision,
  rendered_at timestamptz not null default now(),
  primary key (portfolio_id, selector)
);
`,
};
