import type { Migration } from '../migrate.js';

/**
 * Roles managed from the admin (docs/ROLES.md). The three roles that were fixed in code (admin,
 * editor, user) are already rows of `roles` since 0001, with their permissions in
 * `role_permissions` and every account's roles in `user_roles`; this migration turns that table
 * into the one source of roles without changing what anyone holds:
 *
 * - `roles.languages`: a role may be limited to languages (a translator). NULL, the value of every
 *   existing role, is "not limited", so every existing account keeps exactly its permissions.
 * - `roles.created_at` / `updated_at`, for the admin list.
 * - Role names are slugs (lower-case letters, digits, single hyphens), checked for new and changed
 *   rows (NOT VALID: a hand-made row of an older installation is kept, never a failed start).
 * - `user_roles (role, user_id)`: "who holds this role" (role in use, a role edit rereads its
 *   holders' tokens) is an index scan instead of a table scan.
 *
 * Nothing is granted or taken here: what each account may do is the same before and after
 * (src/users/roles-migration.test.ts compares every account's permissions across it).
 */
export const m0010: Migration = {
  id: 10,
  name: 'roles',
  sql: `
alter table roles add column languages text[];
alter table roles add column created_at timestamptz not null default now();
alter table roles add column updated_at timestamptz not null default now();
alter table roles add constraint roles_name_slug
  check (name ~ '^[a-z][a-z0-9]*(-[a-z0-9]+)*$' and length(name) <= 40) not valid;
alter table roles add constraint roles_languages_not_empty
  check (languages is null or cardinality(languages) between 1 and 20);

create index user_roles_role_idx on user_roles (role, user_id);
`,
};
