import type { Migration } from '../migrate.js';

/**
 * Categories and relations (issue 17, items 3 and 4; docs/CONTENT.md).
 *
 * - `category_types` (keyed by `code`) and `categories` (`code` unique within its type): a
 *   site-wide taxonomy with translated names (`name` in the site default language,
 *   `translations` for the others, the same shape as content rows).
 * - `portfolio_categories`, `project_categories`, `skill_categories`: what carries which
 *   categories, in the order given. Deleting either side removes the link.
 * - `project_skills`: a project's skills. Both foreign keys name the same `portfolio_id`, so the
 *   database itself refuses a link to another portfolio's skill (the service checks first and
 *   answers 400; this is the backstop).
 * - `sections.project_id` (a section may belong to a project of the same portfolio: the composite
 *   key moves it with its project and deletes it with it) and `sections.display_style`.
 *
 * Skill types become data: a `skill-type` category type with one category per value of the old
 * enum (and any other value found in `skills.type`), and every skill linked to the category of
 * its type. `skills.type` itself is kept as it is (readable and writable for API compatibility).
 */
export const m0014: Migration = {
  id: 14,
  name: 'categories_relations',
  sql: `
create table category_types (
  code text primary key,
  name text not null,
  translations jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table categories (
  id uuid primary key,
  type_code text not null references category_types (code) on update cascade,
  code text not null,
  name text not null,
  translations jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (type_code, code)
);
create index categories_code_idx on categories (code);

create table portfolio_categories (
  portfolio_id uuid not null references portfolios (id) on delete cascade,
  category_id uuid not null references categories (id) on delete cascade,
  position integer not null default 0,
  primary key (portfolio_id, category_id)
);
create index portfolio_categories_category_idx on portfolio_categories (category_id);

create table project_categories (
  project_id uuid not null references projects (id) on delete cascade,
  category_id uuid not null references categories (id) on delete cascade,
  position integer not null default 0,
  primary key (project_id, category_id)
);
create index project_categories_category_idx on project_categories (category_id);

create table skill_categories (
  skill_id uuid not null references skills (id) on delete cascade,
  category_id uuid not null references categories (id) on delete cascade,
  position integer not null default 0,
  primary key (skill_id, category_id)
);
create index skill_categories_category_idx on skill_categories (category_id);

create unique index projects_id_portfolio_key on projects (id, portfolio_id);
create unique index skills_id_portfolio_key on skills (id, portfolio_id);

create table project_skills (
  project_id uuid not null,
  skill_id uuid not null,
  portfolio_id uuid not null,
  position integer not null default 0,
  primary key (project_id, skill_id),
  foreign key (project_id, portfolio_id) references projects (id, portfolio_id) on delete cascade,
  foreign key (skill_id, portfolio_id) references skills (id, portfolio_id) on delete cascade
);
create index project_skills_skill_idx on project_skills (skill_id);

alter table sections add column project_id uuid;
alter table sections add column display_style text not null default 'text'
  check (display_style in ('text', 'list', 'cards', 'timeline', 'gallery'));
alter table sections add constraint sections_project_fkey foreign key (project_id, portfolio_id)
  references projects (id, portfolio_id) on update cascade on delete cascade;
create index sections_project_idx on sections (project_id, position, id) where project_id is not null;

insert into category_types (code, name) values ('skill-type', 'Skill type');
insert into categories (id, type_code, code, name)
select gen_random_uuid(), 'skill-type', v.code, v.name
from (values ('technical', 'Technical'), ('language', 'Language'), ('soft', 'Soft skill'), ('tool', 'Tool'), ('other', 'Other'))
  as v(code, name);
insert into categories (id, type_code, code, name)
select gen_random_uuid(), 'skill-type', t.type, t.type
from (select distinct s.type from skills s) t
where not exists (select 1 from categories c where c.type_code = 'skill-type' and c.code = t.type);
insert into skill_categories (skill_id, category_id, position)
select s.id, c.id, 0 from skills s join categories c on c.type_code = 'skill-type' and c.code = s.type;
`,
};
