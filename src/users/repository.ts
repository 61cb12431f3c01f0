import type { Queryable } from '../platform/db/index.js';
import { canonicalEmail } from './email.js';

export interface UserRow {
  id: string;
  email: string;
  name: string;
  passwordHash: string;
  mustChangePassword: boolean;
  disabled: boolean;
  roles: string[];
  createdAt: Date;
  updatedAt: Date;
}

/** What authentication needs of a user on every request (src/security/tokens). */
export interface UserAuthRow {
  id: string;
  disabled: boolean;
  /** Raised by a "revoke every token": access tokens carrying an older one are refused. */
  tokenVersion: number;
  roles: string[];
  /** Permissions of the user's roles that are not limited to languages. */
  permissions: string[];
  /** Permissions held only through roles limited to languages (a translator), one entry per role and permission. */
  languagePermissions: { permission: string; languages: string[] }[];
}

const USER_COLUMNS = `u.id, u.email, u.name, u.password_hash as "passwordHash",
  u.must_change_password as "mustChangePassword", u.disabled,
  u.created_at as "createdAt", u.updated_at as "updatedAt",
  coalesce((select array_agg(ur.role order by ur.role) from user_roles ur where ur.user_id = u.id), '{}') as roles`;

/** The only code that writes SQL for users and their roles. Every method takes an optional transaction. */
export class UsersRepository {
  constructor(private readonly db: Queryable) {}

  async get(id: string, tx: Queryable = this.db): Promise<UserRow | undefined> {
    const rows = await tx.query<UserRow>(`select ${USER_COLUMNS} from users u where u.id = $1`, [id]);
    return rows[0];
  }

  /**
   * The account an email names: compared as its canonical identifier (src/users/email.ts), byte
   * for byte, never folded by the database. A spelling registration would refuse names no account.
   */
  async getByEmail(email: string, tx: Queryable = this.db): Promise<UserRow | undefined> {
    const canonical = canonicalEmail(email);
    if (canonical === null) return undefined;
    const rows = await tx.query<UserRow>(`select ${USER_COLUMNS} from users u where u.email_canonical = $1`, [
      canonical,
    ]);
    return rows[0];
  }

  /** What authentication needs on every request: one indexed query. */
  async getAuth(id: string, tx: Queryable = this.db): Promise<UserAuthRow | undefined> {
    const rows = await tx.query<UserAuthRow>(
      `select u.id, u.disabled, u.token_version as "tokenVersion",
         coalesce((select array_agg(ur.role) from user_roles ur where ur.user_id = u.id), '{}') as roles,
         coalesce((select array_agg(distinct rp.permission) from user_roles ur
                   join roles r on r.name = ur.role and r.languages is null
                   join role_permissions rp on rp.role = ur.role where ur.user_id = u.id), '{}') as permissions,
         coalesce((select jsonb_agg(jsonb_build_object('permission', rp.permission, 'languages', to_jsonb(r.languages)))
                   from user_roles ur
                   join roles r on r.name = ur.role and r.languages is not null
                   join role_permissions rp on rp.role = ur.role where ur.user_id = u.id), '[]'::jsonb)
           as "languagePermissions"
       from users u where u.id = $1`,
      [id],
    );
    return rows[0];
  }

  async list(page: { limit: number; after?: string | undefined }, tx: Queryable = this.db): Promise<UserRow[]> {
    return tx.query<UserRow>(
      `select ${USER_COLUMNS} from users u where ($1::uuid is null or u.id > $1::uuid) order by u.id limit $2`,
      [page.after ?? null, page.limit],
    );
  }

  async create(
    user: { id: string; email: string; name: string; passwordHash: string; mustChangePassword?: boolean; role: string },
    tx: Queryable = this.db,
  ): Promise<void> {
    await tx.query(
      `insert into users (id, email, name, password_hash, must_change_password) values ($1, $2, $3, $4, $5)`,
      [user.id, user.email, user.name, user.passwordHash, user.mustChangePassword ?? false],
    );
    await tx.query(`insert into user_roles (user_id, role) values ($1, $2)`, [user.id, user.role]);
  }

  async update(
    id: string,
    patch: {
      name?: string | undefined;
      disabled?: boolean | undefined;
      passwordHash?: string | undefined;
      mustChangePassword?: boolean | undefined;
    },
    tx: Queryable = this.db,
  ): Promise<void> {
    await tx.query(
      `update users set
         name = coalesce($2, name),
         disabled = coalesce($3, disabled),
         password_hash = coalesce($4, password_hash),
         must_change_password = coalesce($5, must_change_password),
         updated_at = now()
       where id = $1`,
      [id, patch.name ?? null, patch.disabled ?? null, patch.passwordHash ?? null, patch.mustChangePassword ?? null],
    );
  }

  async setRole(id: string, role: string, tx: Queryable = this.db): Promise<void> {
    await this.setRoles(id, [role], tx);
  }

  /** Replaces every role of the user (the names were checked against the role table). */
  async setRoles(id: string, roles: readonly string[], tx: Queryable = this.db): Promise<void> {
    await tx.query(`delete from user_roles where user_id = $1`, [id]);
    await tx.query(`insert into user_roles (user_id, role) select $1, unnest($2::text[])`, [id, [...roles]]);
  }

  /** Kills every token issued before: returns the new version. */
  async bumpTokenVersion(id: string, tx: Queryable = this.db): Promise<number | undefined> {
    const rows = await tx.query<{ v: number }>(
      `update users set token_version = token_version + 1, updated_at = now() where id = $1 returning token_version as v`,
      [id],
    );
    return rows[0]?.v;
  }

  /**
   * Ends every one-time link of the account at once (src/security/accounts/one-time-tokens.ts):
   * links carry the version they were issued under and are honoured only while it is current.
   */
  async bumpCredentialVersion(id: string, tx: Queryable = this.db): Promise<void> {
    await tx.query(`update users set credential_version = credential_version + 1 where id = $1`, [id]);
  }

  /** The current password hash, the row locked for the caller's transaction; undefined for no such user. */
  async lockPasswordHash(id: string, tx: Queryable): Promise<string | undefined> {
    const rows = await tx.query<{ hash: string }>(`select password_hash as hash from users where id = $1 for update`, [
      id,
    ]);
    return rows[0]?.hash;
  }

  /** The current password hash (password history compares a new password with it). */
  async passwordHash(id: string, tx: Queryable = this.db): Promise<string | undefined> {
    const rows = await tx.query<{ hash: string }>(`select password_hash as hash from users where id = $1`, [id]);
    return rows[0]?.hash;
  }

  /** A new password chosen by the user: it no longer has to change it. */
  async setPassword(id: string, passwordHash: string, at: Date, tx: Queryable = this.db): Promise<void> {
    await tx.query(`update users set password_hash = $2, must_change_password = false, updated_at = $3 where id = $1`, [
      id,
      passwordHash,
      at,
    ]);
  }

  /** Where the account's email verification stands (EMAIL_VERIFICATION). */
  async emailVerification(
    id: string,
    tx: Queryable = this.db,
  ): Promise<{ pending: boolean; verifiedAt: Date | null } | undefined> {
    const rows = await tx.query<{ pending: boolean; verifiedAt: Date | null }>(
      `select email_verification_pending as pending, email_verified_at as "verifiedAt" from users where id = $1`,
      [id],
    );
    return rows[0];
  }

  /** A new account that may not sign in before it verified its email (EMAIL_VERIFICATION=required). */
  async setVerificationPending(id: string, tx: Queryable = this.db): Promise<void> {
    await tx.query(`update users set email_verification_pending = true where id = $1`, [id]);
  }

  /** The owner followed a link mailed to the address: the first such moment is kept. */
  async markEmailVerified(id: string, at: Date, tx: Queryable = this.db): Promise<void> {
    await tx.query(
      `update users set email_verified_at = coalesce(email_verified_at, $2), email_verification_pending = false
       where id = $1`,
      [id, at],
    );
  }

  async count(tx: Queryable = this.db): Promise<number> {
    const rows = await tx.query<{ n: number }>(`select count(*)::int as n from users`);
    return rows[0]?.n ?? 0;
  }
}

export interface PermissionRow {
  name: string;
  description: string;
}

export interface RoleRow {
  name: string;
  description: string;
  builtIn: boolean;
  permissions: string[];
  /** null: not limited; otherwise the only languages whose translations the role may change. */
  languages: string[] | null;
  /** Accounts holding the role. */
  userCount: number;
  createdAt: Date;
  updatedAt: Date;
}

const ROLE_COLUMNS = `r.name, r.description, r.built_in as "builtIn", r.languages,
  coalesce((select array_agg(rp.permission order by rp.permission) from role_permissions rp where rp.role = r.name), '{}')
    as permissions,
  (select count(*)::int from user_roles ur where ur.role = r.name) as "userCount",
  r.created_at as "createdAt", r.updated_at as "updatedAt"`;

/** The role table, its permissions and who holds each role (docs/ROLES.md). */
export class RolesRepository {
  constructor(private readonly db: Queryable) {}

  /**
   * Serializes every change of roles, role assignments and account status: the "last account
   * holding user:manage" check then sees a state no concurrent change can falsify before commit.
   */
  async lock(tx: Queryable): Promise<void> {
    await tx.query(`select pg_advisory_xact_lock(hashtext('portfolio-backend:roles'))`);
  }

  async permissions(tx: Queryable = this.db): Promise<PermissionRow[]> {
    return tx.query<PermissionRow>(`select name, description from permissions order by name`);
  }

  /** The names among `names` that are permissions of the catalogue. */
  async knownPermissions(names: readonly string[], tx: Queryable = this.db): Promise<string[]> {
    const rows = await tx.query<{ name: string }>(`select name from permissions where name = any($1::text[])`, [
      [...names],
    ]);
    return rows.map((r) => r.name);
  }

  /** The names among `names` that are roles (compared byte for byte: role names are lower-case slugs). */
  async existing(names: readonly string[], tx: Queryable = this.db): Promise<string[]> {
    const rows = await tx.query<{ name: string }>(`select name from roles where name = any($1::text[])`, [[...names]]);
    return rows.map((r) => r.name);
  }

  async list(tx: Queryable = this.db): Promise<RoleRow[]> {
    return tx.query<RoleRow>(`select ${ROLE_COLUMNS} from roles r order by r.built_in desc, r.name`);
  }

  async get(
    name: string,
    tx: Queryable = this.db,
    options: { forUpdate?: boolean } = {},
  ): Promise<RoleRow | undefined> {
    if (options.forUpdate) await tx.query(`select 1 from roles where name = $1 for update`, [name]);
    const rows = await tx.query<RoleRow>(`select ${ROLE_COLUMNS} from roles r where r.name = $1`, [name]);
    return rows[0];
  }

  /** Many roles at once, for the escalation check of an assignment. */
  async getMany(names: readonly string[], tx: Queryable = this.db): Promise<RoleRow[]> {
    return tx.query<RoleRow>(`select ${ROLE_COLUMNS} from roles r where r.name = any($1::text[])`, [[...names]]);
  }

  async create(
    role: { name: string; description: string; permissions: readonly string[]; languages: readonly string[] | null },
    tx: Queryable = this.db,
  ): Promise<void> {
    await tx.query(`insert into roles (name, description, built_in, languages) values ($1, $2, false, $3)`, [
      role.name,
      role.description,
      role.languages ? [...role.languages] : null,
    ]);
    await this.setPermissions(role.name, role.permissions, tx);
  }

  async update(
    name: string,
    patch: { description?: string | undefined; languages?: readonly string[] | null | undefined },
    tx: Queryable = this.db,
  ): Promise<void> {
    await tx.query(
      `update roles set description = coalesce($2, description),
         languages = case when $3::boolean then $4::text[] else languages end,
         updated_at = now()
       where name = $1`,
      [name, patch.description ?? null, patch.languages !== undefined, patch.languages ? [...patch.languages] : null],
    );
  }

  async setPermissions(name: string, permissions: readonly string[], tx: Queryable = this.db): Promise<void> {
    await tx.query(`delete from role_permissions where role = $1`, [name]);
    await tx.query(`insert into role_permissions (role, permission) select $1, unnest($2::text[])`, [
      name,
      [...permissions],
    ]);
  }

  async delete(name: string, tx: Queryable = this.db): Promise<void> {
    await tx.query(`delete from roles where name = $1`, [name]);
  }

  /** Ids of the accounts holding the role. */
  async holders(name: string, tx: Queryable = this.db): Promise<string[]> {
    const rows = await tx.query<{ id: string }>(
      `select user_id as id from user_roles where role = $1 order by user_id`,
      [name],
    );
    return rows.map((r) => r.id);
  }

  /** Every holder of `from` holds `to` instead (those already holding `to` simply lose `from`). */
  async reassign(from: string, to: string, tx: Queryable = this.db): Promise<void> {
    await tx.query(
      `insert into user_roles (user_id, role) select user_id, $2 from user_roles where role = $1 on conflict do nothing`,
      [from, to],
    );
    await tx.query(`delete from user_roles where role = $1`, [from]);
  }

  /**
   * The roles limited to `code` among others (compared without letter case), by name: a site
   * language they hold is not disabled nor deleted (src/content/languages).
   */
  async limitedTo(code: string, tx: Queryable = this.db): Promise<string[]> {
    const rows = await tx.query<{ name: string }>(
      `select name from roles where exists (select 1 from unnest(languages) l where lower(l) = lower($1))
       order by name`,
      [code],
    );
    return rows.map((r) => r.name);
  }

  /**
   * Enabled accounts holding `permission` through a role not limited to languages. An account
   * with a pending erasure does not count (docs/PRIVACY.md: it will be gone).
   */
  async countHolders(permission: string, tx: Queryable = this.db): Promise<number> {
    const rows = await tx.query<{ n: number }>(
      `select count(distinct u.id)::int as n from users u
         join user_roles ur on ur.user_id = u.id
         join roles r on r.name = ur.role and r.languages is null
         join role_permissions rp on rp.role = ur.role and rp.permission = $1
       where not u.disabled and u.deletion_due_at is null`,
      [permission],
    );
    return rows[0]?.n ?? 0;
  }
}
