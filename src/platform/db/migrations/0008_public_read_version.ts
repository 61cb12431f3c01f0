import type { Migration } from '../migrate.js';

/**
 * The public read's content version (src/content/public-read/): raised, in the writer's
 * transaction, by every write that can change what an anonymous reader of the portfolio sees (the
 * portfolio, a child, a medium, the site default, the owner's status). Each node's cache entry
 * remembers the version it was built from and is served only while that is still current.
 */
export const m0008: Migration = {
  id: 8,
  name: 'public_read_version',
  sql: `
alter table portfolios add column public_version bigint not null default 0;
`,
};
