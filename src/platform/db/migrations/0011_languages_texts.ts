import type { Migration } from '../migrate.js';

/**
 * Site languages and site texts (issue 17, items 1 and 2; docs/CONTENT.md).
 *
 * - `languages`: the site's languages. Codes are canonical BCP 47 tags (`en`, `pt-BR`,
 *   `zh-Hant-TW`; src/content/languages/tags.ts), unique whatever their letter case. Exactly one
 *   is the default (a partial unique index; switches are serialised by an advisory lock in the
 *   service) and the default is always enabled. `fallback` is the language's own chain of other
 *   codes (`pt-BR` -> `{pt}`), checked by the service: no cycles, each enabled.
 * - `site_texts`: the website's interface strings, one row per key and language. A key exists
 *   while it has a text in some language. The language is a foreign key: deleting a language
 *   (which the service does only when nothing uses it, or with force) takes its texts with it.
 *
 * Seeded from what exists, so every stored portfolio keeps working: every language tag in use
 * (portfolio default languages and the keys of every `translations` value), or `en` when there
 * is none. The default is the site default portfolio's language, else the most used one (ties:
 * the first code in byte order). A regional tag whose primary language is also seeded falls back
 * to it (`pt-BR` -> `pt`), as reads did before this table. Names come from a short list of common
 * languages; other codes are named by their code until an admin renames them.
 */
const KNOWN_NAMES: readonly [string, string, string][] = [
  ['ar', 'Arabic', 'العربية'],
  ['ca', 'Catalan', 'català'],
  ['cs', 'Czech', 'čeština'],
  ['da', 'Danish', 'dansk'],
  ['de', 'German', 'Deutsch'],
  ['el', 'Greek', 'Ελληνικά'],
  ['en', 'English', 'English'],
  ['es', 'Spanish', 'español'],
  ['eu', 'Basque', 'euskara'],
  ['fi', 'Finnish', 'suomi'],
  ['fr', 'French', 'français'],
  ['gl', 'Galician', 'galego'],
  ['he', 'Hebrew', 'עברית'],
  ['hi', 'Hindi', 'हिन्दी'],
  ['hu', 'Hungarian', 'magyar'],
  ['id', 'Indonesian', 'Indonesia'],
  ['it', 'Italian', 'italiano'],
  ['ja', 'Japanese', '日本語'],
  ['ko', 'Korean', '한국어'],
  ['nb', 'Norwegian Bokmål', 'norsk bokmål'],
  ['nl', 'Dutch', 'Nederlands'],
  ['pl', 'Polish', 'polski'],
  ['pt', 'Portuguese', 'português'],
  ['ro', 'Romanian', 'română'],
  ['ru', 'Russian', 'русский'],
  ['sv', 'Swedish', 'svenska'],
  ['tr', 'Turkish', 'Türkçe'],
  ['uk', 'Ukrainian', 'українська'],
  ['vi', 'Vietnamese', 'Tiếng Việt'],
  ['zh', 'Chinese', '中文'],
];
const quoteLiteral = (s: string) => `'${s.replace(/'/g, "''")}'`;
const names = KNOWN_NAMES.map(([code, name, native]) => `(${[code, name, native].map(quoteLiteral).join(', ')})`).join(
  ',\n    ',
);

/** The tables whose rows carry `translations` when this migration was written. */
const TRANSLATED = ['portfolios', 'projects', 'sections', 'experiences', 'skills', 'links'];
/** The canonical tag pattern (src/content/translations.ts LANGUAGE_TAG_PATTERN). */
const TAG = `'^[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?$'`;

export const m0011: Migration = {
  id: 11,
  name: 'languages_texts',
  sql: `
create table languages (
  code text primary key,
  name text not null,
  native_name text not null,
  enabled boolean not null default true,
  is_default boolean not null default false,
  fallback text[] not null default '{}',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check (enabled or not is_default)
);
create unique index languages_code_lower_key on languages (lower(code));
-- At most one default; the service makes it exactly one.
create unique index languages_one_default on languages (is_default) where is_default;

create table site_texts (
  key text not null,
  language text not null references languages (code) on delete cascade,
  text text not null,
  updated_at timestamptz not null default now(),
  primary key (key, language)
);
create index site_texts_language_idx on site_texts (language, key);

-- Seed: every tag in use, counted.
create temporary table seed_language_use on commit drop as
  select tag, count(*)::bigint as uses from (
    select default_language as tag from portfolios
    ${TRANSLATED.map(
      (t) => `union all select e.key from ${t} x,
      jsonb_each(case when jsonb_typeof(x.translations) = 'object' then x.translations else '{}'::jsonb end) e
      where jsonb_typeof(e.value) = 'object'`,
    ).join('\n    ')}
  ) used
  where tag ~ ${TAG}
  group by tag;
insert into seed_language_use (tag, uses)
  select 'en', 0 where not exists (select 1 from seed_language_use);

insert into languages (code, name, native_name)
  select u.tag,
    coalesce(k.name || case when u.tag <> k.code then ' (' || u.tag || ')' else '' end, u.tag),
    coalesce(k.native_name || case when u.tag <> k.code then ' (' || u.tag || ')' else '' end, u.tag)
  from seed_language_use u
  left join (values
    ${names}
  ) k (code, name, native_name) on k.code = split_part(u.tag, '-', 1);

update languages set is_default = true where code = coalesce(
  (select p.default_language from portfolios p join languages l on l.code = p.default_language where p.is_default),
  (select tag from seed_language_use order by uses desc, tag collate "C" limit 1));

update languages l set fallback = array[split_part(l.code, '-', 1)]
  where l.code like '%-%'
    and exists (select 1 from languages p where p.code = split_part(l.code, '-', 1));
`,
};
