import type { Db, Queryable } from '../platform/db/index.js';
import { pgErrorCode, UNIQUE_VIOLATION } from '../platform/db/index.js';
import { newId } from '../platform/ids.js';
import { AppError } from '../http/errors.js';
import { canonicalEmail } from './email.js';
import { checkPasswordPolicy, hashPassword } from './password.js';
import { ROLES, type Role } from './policy.js';
import { UsersRepository, type UserRow } from './repository.js';

export type UserChangeHook = (
  userId: string,
  change: { role?: Role | undefined; disabled?: boolean | undefined },
) => Promise<void>;

export interface PublicUser {
  id: string;
  email: string;
  name: string;
  role: string;
  disabled: boolean;
  mustChangePassword: boolean;
  createdAt: string;
}

/** The most privileged of a user's roles is shown as "the" role. */
export function primaryRole(roles: readonly string[]): string {
  for (const r of ROLES) if (roles.includes(r)) return r;
  return roles[0] ?? 'user';
}

export function toPublicUser(u: UserRow): PublicUser {
  return {
    id: u.id,
    email: u.email,
    name: u.name,
    role: primaryRole(u.roles),
    disabled: u.disabled,
    mustChangePassword: u.mustChangePassword,
    createdAt: u.createdAt.toISOString(),
  };
}

export interface NewUserInput {
  email: string;
  name: string;
  password: string;
  role?: Role;
  mustChangePassword?: boolean;
}

/** A checked new account with its password hash, ready to insert (UsersService.prepare). */
export interface PreparedUser {
  email: string;
  name: string;
  passwordHash: string;
  role: Role;
  mustChangePassword: boolean;
}

export class UsersService {
  readonly repo: UsersRepository;

  constructor(
    private readonly db: Db,
    private readonly passwordMinScore: number,
  ) {
    this.repo = new UsersRepository(db);
  }

  async create(
    input: NewUserInput,
    tx?: Queryable,
    /** Runs in the same transaction after the insert (e.g. the audit event of the account). */
    afterInsert?: (user: UserRow, tx: Queryable) => Promise<void>,
  ): Promise<UserRow> {
    return this.insert(await this.prepare(input), tx, afterInsert);
  }

  /**
   * What a new account needs before any row is written: the checks (400s) and the argon2 hash.
   * Nothing here reads the database, so its work and time do not depend on whether the email
   * is taken (registration with EMAIL_VERIFICATION=required runs it before answering).
   */
  async prepare(input: NewUserInput): Promise<PreparedUser> {
    const email = input.email.trim();
    // Every way in (API, admin, CLI) obeys the one rule of src/users/email.ts.
    if (canonicalEmail(email) === null)
      throw new AppError(400, 'VALIDATION_FAILED', 'Request validation failed', 'email must be a valid email address');
    const name = input.name.trim();
    if (name === '')
      throw new AppError(400, 'VALIDATION_FAILED', 'Request validation failed', 'name must not be blank');
    await checkPasswordPolicy(input.password, this.passwordMinScore, [email, name]);
    const passwordHash = await hashPassword(input.password);
    return {
      email,
      name,
      passwordHash,
      role: input.role ?? 'user',
      mustChangePassword: input.mustChangePassword ?? false,
    };
  }

  /** Writes a prepared account; EMAIL_TAKEN (409) when the email already has one. */
  async insert(
    user: PreparedUser,
    tx?: Queryable,
    afterInsert?: (user: UserRow, tx: Queryable) => Promise<void>,
  ): Promise<UserRow> {
    const id = newId();
    const write = async (q: Queryable) => {
      await this.repo.create({ id, ...user }, q);
      const row = await this.repo.get(id, q);
      if (!row) throw new Error('user vanished after insert');
      await afterInsert?.(row, q);
      return row;
    };
    try {
      return tx ? await write(tx) : await this.db.transaction(write);
    } catch (err) {
      if (pgErrorCode(err) === UNIQUE_VIOLATION) {
        throw new AppError(409, 'EMAIL_TAKEN', 'Conflict', 'An account with this email already exists');
      }
      throw err;
    }
  }

  async get(id: string): Promise<UserRow> {
    const user = await this.repo.get(id);
    if (!user) throw new AppError(404, 'USER_NOT_FOUND', 'Not found', 'User not found');
    return user;
  }

  private readonly changeHooks: UserChangeHook[] = [];

  /** Called after a user's roles or status changed and committed (token security rereads them). */
  onChanged(hook: UserChangeHook): void {
    this.changeHooks.push(hook);
  }

  async update(
    id: string,
    patch: { name?: string | undefined; role?: Role | undefined; disabled?: boolean | undefined },
  ): Promise<UserRow> {
    const updated = await this.db.transaction(async (tx) => {
      const user = await this.repo.get(id, tx);
      if (!user) throw new AppError(404, 'USER_NOT_FOUND', 'Not found', 'User not found');
      await this.repo.update(id, { name: patch.name?.trim(), disabled: patch.disabled }, tx);
      if (patch.role) await this.repo.setRole(id, patch.role, tx);
      const updated = await this.repo.get(id, tx);
      if (!updated) throw new Error('user vanished after update');
      return updated;
    });
    if (patch.role !== undefined || patch.disabled !== undefined) {
      for (const hook of this.changeHooks) await hook(id, { role: patch.role, disabled: patch.disabled });
    }
    return updated;
  }
}
