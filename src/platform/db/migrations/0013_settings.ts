import type { Migration } from '../migrate.js';

/**
 * Site settings (issue 17, item 11; src/settings/, docs/SETTINGS.md): one row per setting an
 * admin changed, its value as JSON (the schema in src/settings/schema.ts checks it on the way in
 * and on the way out). No row: the setting's default. Environment variables win over a row
 * (PUBLIC_CACHE_MAX_AGE), and the default language is not stored here: the languages table
 * (`is_default`) is its one source of truth.
 */
export const m0013: Migration = {
  id: 13,
  name: 'settings',
  sql: `
create table site_settings (
  key text primary key check (key ~ '^[a-zA-Z][a-zA-Z0-9]{0,63}$'),
  value jsonb not null,
  updated_by text,
  updated_at timestamptz not null
);
`,
};
