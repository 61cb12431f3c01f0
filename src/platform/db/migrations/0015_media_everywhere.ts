import type { Migration } from '../migrate.js';

/**
 * Media everywhere (issue 17, item 5; docs/UPLOADS.md).
 *
 * - `section_id` and `experience_id`: a medium may belong to a section or an experience of its
 *   portfolio, as it already may to a project. Deleting the parent deletes the row (as projects).
 * - `language`: an optional site language the medium is for (null: every language). Checked
 *   against the enabled languages when written (no foreign key: a language is deleted with its
 *   content by the languages module).
 * - `alt` and `caption`: texts in the portfolio's default language (or the medium's own
 *   language); `translations` the same shape as content rows: `{es: {alt, caption}}`.
 * - The default resume is now one per portfolio AND language (null counts as one language).
 *
 * Existing rows keep every value: the new columns default to null, '' and '{}'.
 */
export const m0015: Migration = {
  id: 15,
  name: 'media_everywhere',
  sql: `
alter table media add column section_id uuid references sections (id) on delete cascade;
alter table media add column experience_id uuid references experiences (id) on delete cascade;
alter table media add column language text;
alter table media add column alt text not null default '';
alter table media add column caption text not null default '';
alter table media add column translations jsonb not null default '{}'::jsonb;
create index media_section_idx on media (section_id, id) where section_id is not null;
create index media_experience_idx on media (experience_id, id) where experience_id is not null;
drop index media_one_default_resume;
create unique index media_one_default_resume on media (portfolio_id, coalesce(language, '')) where is_default_resume;
`,
};
