import type { Db, Queryable } from '../platform/db/index.js';
import { pgErrorCode, UNIQUE_VIOLATION } from '../platform/db/index.js';
import { newId } from '../platform/ids.js';
import { AppError } from '../http/errors.js';
import { canonicalEmail } from './email.js';
import { checkPasswordPolicy, hashPassword } from './password.js';
import { ROLES, assertMayGrant, validateRoleNames, type Actor, type Role } from './policy.js';
import { UsersRepository, type UserRow } from './repository.js';
import { RolesService, USER_MANAGE, type Recorder } from './roles.js';

export type UserChangeHook = (
  userId: string,
  change: { roles?: readonly string[] | undefined; disabled?: boolean | undefined },
) => Promise<void>;

export type UserChangingHook = (tx: Queryable, userId: string, change: { disabled: boolean }) => Promise<void>;

/** What the audit recorder of a user change is told, inside its transaction. */
export interface UserAccessChange {
  userId: string;
  rolesBefore: string[];
  rolesAfter: string[];
  /**
   * The permissions those roles held at the change (sorted, no duplicates): what the detection
   * rule `privileged-role-granted` compares (src/security/monitoring/). Equal when only the
   * status changed.
   */
  permissionsBefore: string[];
  permissionsAfter: string[];
  disabled: boolean | undefined;
}

/** Which second factors an account has: a confirmed authenticator app, how many passkeys. */
export interface SecondFactors {
  totp: boolean;
  passkeys: number;
}
export type SecondFactorSource = (userIds: readonly string[]) => Promise<Map<string, SecondFactors>>;

export interface PublicUser {
  id: string;
  email: string;
  name: string;
  role: string;
  /** Every role the account holds (`role` is the most privileged of the built-in ones). */
  roles: string[];
  disabled: boolean;
  mustChangePassword: boolean;
  createdAt: string;
  /** The admin's view only (UsersService.withSecondFactors). */
  secondFactors?: SecondFactors;
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
    roles: [...u.roles],
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
  /** Every role of the new account (checked against the role table); wins over `role`. */
  roles?: readonly string[];
  mustChangePassword?: boolean;
}

/** A checked new account with its password hash, ready to insert (UsersService.prepare). */
export interface PreparedUser {
  email: string;
  name: string;
  passwordHash: string;
  role: Role;
  roles?: readonly string[] | undefined;
  mustChangePassword: boolean;
}

export class UsersService {
  readonly repo: UsersRepository;
  /** The role table and the permission catalogue (src/users/roles.ts). */
  readonly roles: RolesService;

  constructor(
    private readonly db: Db,
    private readonly passwordMinScore: number,
  ) {
    this.repo = new UsersRepository(db);
    this.roles = new RolesService(db, (ids) => this.notifyChanged(ids));
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
      roles: input.roles,
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
      if (user.roles !== undefined) await this.repo.setRoles(id, await validateRoleNames(user.roles, q), q);
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

  private secondFactorSource: SecondFactorSource | undefined;

  /** The MFA plugin tells which second factors accounts have (a port: users knows nothing of MFA). */
  setSecondFactorSource(source: SecondFactorSource): void {
    this.secondFactorSource = source;
  }

  /** The admin's view of accounts: each with its second factors (never a secret), when MFA is wired. */
  async withSecondFactors(users: readonly UserRow[]): Promise<PublicUser[]> {
    const factors = this.secondFactorSource ? await this.secondFactorSource(users.map((u) => u.id)) : undefined;
    return users.map((u) => {
      const f = factors?.get(u.id);
      return { ...toPublicUser(u), ...(factors ? { secondFactors: f ?? { totp: false, passkeys: 0 } } : {}) };
    });
  }

  private readonly changeHooks: UserChangeHook[] = [];

  /** Called after a user's roles or status changed and committed (token security rereads them). */
  onChanged(hook: UserChangeHook): void {
    this.changeHooks.push(hook);
  }

  private readonly changingHooks: UserChangingHook[] = [];

  /**
   * Called inside the transaction that disables or enables an account, so what depends on the
   * account's status (its portfolios' public read) changes with it or not at all.
   */
  onChanging(hook: UserChangingHook): void {
    this.changingHooks.push(hook);
  }

  /** The permissions of these accounts changed (a role of theirs was edited): every node rereads them. */
  async notifyChanged(userIds: readonly string[]): Promise<void> {
    // A few at a time: each announcement is a publish, and a role may have many holders.
    for (let i = 0; i < userIds.length; i += 50) {
      await Promise.all(
        userIds.slice(i, i + 50).map(async (id) => {
          for (const hook of this.changeHooks) await hook(id, {});
        }),
      );
    }
  }

  /**
   * Changes an account. `roles` replaces every role it holds (`role`, the older form, is one
   * role). Roles and disabling run under the roles lock and may not leave user:manage without an
   * enabled holder. With an `actor`, the roles granted or taken away must be ones whose every
   * permission the actor holds (no escalation).
   */
  async update(
    id: string,
    patch: {
      name?: string | undefined;
      role?: Role | undefined;
      roles?: readonly string[] | undefined;
      disabled?: boolean | undefined;
    },
    options: { actor?: Actor; record?: Recorder<UserAccessChange> } = {},
  ): Promise<UserRow> {
    const roles = patch.roles ?? (patch.role !== undefined ? [patch.role] : undefined);
    const guarded = roles !== undefined || patch.disabled === true;
    const updated = await this.db.transaction(async (tx) => {
      if (guarded) await this.roles.repo.lock(tx);
      const user = await this.repo.get(id, tx);
      if (!user) throw new AppError(404, 'USER_NOT_FOUND', 'Not found', 'User not found');
      if (roles !== undefined) {
        await validateRoleNames(roles, tx);
        const changed = [
          ...roles.filter((r) => !user.roles.includes(r)),
          ...user.roles.filter((r) => !roles.includes(r)),
        ];
        if (options.actor && changed.length > 0) {
          const rows = await this.roles.repo.getMany(changed, tx);
          assertMayGrant(
            options.actor,
            rows.flatMap((r) => r.permissions),
          );
        }
      }
      const before = guarded ? await this.roles.repo.countHolders(USER_MANAGE, tx) : 0;
      await this.repo.update(id, { name: patch.name?.trim(), disabled: patch.disabled }, tx);
      if (patch.disabled !== undefined && patch.disabled !== user.disabled) {
        for (const hook of this.changingHooks) await hook(tx, id, { disabled: patch.disabled });
      }
      if (roles !== undefined) await this.repo.setRoles(id, roles, tx);
      if (guarded) await this.roles.assertManagerLeft(before, tx);
      const updated = await this.repo.get(id, tx);
      if (!updated) throw new Error('user vanished after update');
      if ((roles !== undefined || patch.disabled !== undefined) && options.record) {
        // Roles are data (./roles.ts): their permissions as they are now, in this transaction.
        const held = new Map(
          (await this.roles.repo.getMany([...new Set([...user.roles, ...updated.roles])], tx)).map((r) => [
            r.name,
            r.permissions,
          ]),
        );
        const permissionsOf = (names: readonly string[]) =>
          [...new Set(names.flatMap((n) => held.get(n) ?? []))].sort();
        await options.record(
          {
            userId: id,
            rolesBefore: user.roles,
            rolesAfter: updated.roles,
            permissionsBefore: permissionsOf(user.roles),
            permissionsAfter: permissionsOf(updated.roles),
            disabled: patch.disabled,
          },
          tx,
        );
      }
      return updated;
    });
    if (roles !== undefined || patch.disabled !== undefined) {
      for (const hook of this.changeHooks) await hook(id, { roles, disabled: patch.disabled });
    }
    return updated;
  }
}
