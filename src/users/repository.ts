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

export interface UserAuthRow {
  id: string;
  disabled: boolean;
  roles: string[];
  permissions: string[];
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
      `select u.id, u.disabled,
         coalesce((select array_agg(ur.role) from user_roles ur where ur.user_id = u.id), '{}') as roles,
         coalesce((select array_agg(distinct rp.permission) from user_roles ur
                   join role_permissions rp on rp.role = ur.role where ur.user_id = u.id), '{}') as permissions
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
    await tx.query(`delete from user_roles where user_id = $1`, [id]);
    await tx.query(`insert into user_roles (user_id, role) values ($1, $2)`, [id, role]);
  }

  async count(tx: Queryable = this.db): Promise<number> {
    const rows = await tx.query<{ n: number }>(`select count(*)::int as n from users`);
    return rows[0]?.n ?? 0;
  }
}
