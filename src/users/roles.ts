/**
 * Roles and permissions managed from the admin (docs/ROLES.md): the permission catalogue, the
 * role table, and who holds which role. Every change here and in UsersService that could take
 * `user:manage` from its last holder runs under one lock and checks the count before commit; after
 * commit, the accounts whose permissions changed are announced (UsersService.notifyChanged: the
 * token layer rereads them on every node at once).
 */
import type { Db, Queryable } from '../platform/db/index.js';
import { pgErrorCode, UNIQUE_VIOLATION } from '../platform/db/index.js';
import { roleErrors } from './errors.js';
import {
  BUILT_IN_ROLE_PERMISSIONS,
  LANGUAGE_SCOPABLE_PERMISSIONS,
  assertMayGrant,
  isBuiltInRole,
  validateRoleNames,
  type Actor,
  type Permission,
} from './policy.js';
import { RolesRepository, type PermissionRow, type RoleRow } from './repository.js';

/** The permission no account can be left without: it is the one that manages every other. */
export const USER_MANAGE: Permission = 'user:manage';
/** Roles are few by nature; the cap keeps every role list, check and token reread small. */
export const MAX_ROLES = 100;

export interface RoleJson {
  name: string;
  description: string;
  builtIn: boolean;
  permissions: string[];
  languages: string[] | null;
  userCount: number;
  createdAt: string;
  updatedAt: string;
}

export function toRoleJson(row: RoleRow): RoleJson {
  return {
    name: row.name,
    description: row.description,
    builtIn: row.builtIn,
    permissions: [...row.permissions].sort(),
    languages: row.languages ? [...row.languages] : null,
    userCount: row.userCount,
    createdAt: new Date(row.createdAt).toISOString(),
    updatedAt: new Date(row.updatedAt).toISOString(),
  };
}

export interface RoleCreate {
  name: string;
  description: string;
  permissions: string[];
  languages?: string[] | null | undefined;
}

export interface RolePatch {
  description?: string | undefined;
  permissions?: string[] | undefined;
  languages?: string[] | null | undefined;
}

/** What an audit recorder is told, inside the transaction of the change. */
export type RoleChange =
  | { kind: 'created'; role: RoleJson }
  | { kind: 'updated'; before: RoleJson; after: RoleJson; affectedUsers: number }
  | { kind: 'deleted'; role: RoleJson; reassignTo: string | null; affectedUsers: number };

export type Recorder<T> = (change: T, tx: Queryable) => Promise<void>;

/** Who gets told that their permissions changed (set by UsersService). */
export type ChangedAnnouncer = (userIds: readonly string[]) => Promise<void>;

/**
 * The site languages' check of a role's `languages` (a port: the users plugin does not depend on
 * the languages plugin; the languages plugin registers it with `setLanguageCheck`). Inside the
 * role's transaction: returns the canonical codes, every one an enabled site language held
 * (share-locked) until the transaction ends, or throws 400 LANGUAGE_NOT_ENABLED naming the first
 * that is not.
 */
export type RoleLanguageCheck = (codes: readonly string[], tx: Queryable) => Promise<string[]>;

export class RolesService {
  readonly repo: RolesRepository;
  private languageCheck: RoleLanguageCheck | undefined;

  constructor(
    private readonly db: Db,
    private readonly announce: ChangedAnnouncer,
  ) {
    this.repo = new RolesRepository(db);
  }

  /** Registers the site languages' check of `languages` (done by the languages plugin). */
  setLanguageCheck(check: RoleLanguageCheck): void {
    this.languageCheck = check;
  }

  /** The languages a role may be limited to, checked against the site languages when a check is set. */
  private async checkLanguages(languages: readonly string[] | null, tx: Queryable): Promise<string[] | null> {
    if (languages === null) return null;
    return this.languageCheck ? this.languageCheck(languages, tx) : [...languages];
  }

  async catalogue(): Promise<PermissionRow[]> {
    return this.repo.permissions();
  }

  async list(): Promise<RoleJson[]> {
    return (await this.repo.list()).map(toRoleJson);
  }

  async get(name: string): Promise<RoleJson> {
    const row = await this.repo.get(name);
    if (!row) throw roleErrors.roleNotFound();
    return toRoleJson(row);
  }

  async create(actor: Actor | null, input: RoleCreate, record?: Recorder<RoleChange>): Promise<RoleJson> {
    const languages = input.languages ?? null;
    await this.checkPermissions(input.permissions, languages);
    if (actor) assertMayGrant(actor, input.permissions);
    if (isBuiltInRole(input.name)) throw roleErrors.roleExists(input.name);
    try {
      return await this.db.transaction(async (tx) => {
        await this.repo.lock(tx);
        if ((await this.repo.list(tx)).length >= MAX_ROLES) throw roleErrors.roleLimit(MAX_ROLES);
        await this.repo.create({ ...input, languages: await this.checkLanguages(languages, tx) }, tx);
        const role = toRoleJson(await this.mustGet(input.name, tx));
        await record?.({ kind: 'created', role }, tx);
        return role;
      });
    } catch (err) {
      if (pgErrorCode(err) === UNIQUE_VIOLATION) throw roleErrors.roleExists(input.name);
      throw err;
    }
  }

  async update(actor: Actor | null, name: string, patch: RolePatch, record?: Recorder<RoleChange>): Promise<RoleJson> {
    const { result, holders } = await this.db.transaction(async (tx) => {
      await this.repo.lock(tx);
      const current = await this.repo.get(name, tx, { forUpdate: true });
      if (!current) throw roleErrors.roleNotFound();
      const permissions = patch.permissions ?? current.permissions;
      const languages = patch.languages !== undefined ? patch.languages : current.languages;
      if (isBuiltInRole(name)) {
        const stripped = BUILT_IN_ROLE_PERMISSIONS[name].filter((p) => !permissions.includes(p));
        if (stripped.length > 0) throw roleErrors.builtIn(`The built-in role "${name}" keeps ${stripped.join(', ')}`);
        if (languages !== null) throw roleErrors.builtIn(`The built-in role "${name}" cannot be limited to languages`);
      }
      await this.checkPermissions(permissions, languages, tx);
      // Touching a role is granting or taking what it holds, before and after, from its holders.
      if (actor) assertMayGrant(actor, [...current.permissions, ...permissions]);
      // Only languages given now are checked: a role keeps what it holds (a held language cannot
      // be disabled nor deleted, src/content/languages).
      const newLanguages = patch.languages === undefined ? undefined : await this.checkLanguages(patch.languages, tx);
      const before = await this.repo.countHolders(USER_MANAGE, tx);
      await this.repo.update(name, { description: patch.description, languages: newLanguages }, tx);
      if (patch.permissions !== undefined) await this.repo.setPermissions(name, patch.permissions, tx);
      await this.assertManagerLeft(before, tx);
      const after = await this.mustGet(name, tx);
      const holders = await this.repo.holders(name, tx);
      const result = toRoleJson(after);
      await record?.(
        { kind: 'updated', before: toRoleJson(current), after: result, affectedUsers: holders.length },
        tx,
      );
      return { result, holders };
    });
    await this.announce(holders);
    return result;
  }

  async delete(
    actor: Actor | null,
    name: string,
    reassignTo: string | undefined,
    record?: Recorder<RoleChange>,
  ): Promise<void> {
    if (isBuiltInRole(name)) throw roleErrors.builtIn(`The built-in role "${name}" cannot be deleted`);
    const holders = await this.db.transaction(async (tx) => {
      await this.repo.lock(tx);
      const current = await this.repo.get(name, tx, { forUpdate: true });
      if (!current) throw roleErrors.roleNotFound();
      if (actor) assertMayGrant(actor, current.permissions);
      const holders = await this.repo.holders(name, tx);
      let target: RoleRow | undefined;
      if (reassignTo !== undefined) {
        if (reassignTo === name) throw roleErrors.badReassign('reassignTo must name another role');
        await validateRoleNames([reassignTo], tx);
        target = await this.mustGet(reassignTo, tx);
        // Reassigning grants the target role to every holder.
        if (actor) assertMayGrant(actor, target.permissions);
      } else if (holders.length > 0) {
        throw roleErrors.inUse(name, holders.length);
      }
      const before = await this.repo.countHolders(USER_MANAGE, tx);
      if (target) await this.repo.reassign(name, target.name, tx);
      await this.repo.delete(name, tx);
      await this.assertManagerLeft(before, tx);
      await record?.(
        { kind: 'deleted', role: toRoleJson(current), reassignTo: target?.name ?? null, affectedUsers: holders.length },
        tx,
      );
      return holders;
    });
    await this.announce(holders);
  }

  /**
   * Inside a transaction that holds `lock`: refuses (and so rolls back) a change that took
   * user:manage from its last enabled holder. `before` is the count before the change; an
   * installation with no holder at all (a fresh database) is not blocked by its own state.
   */
  async assertManagerLeft(before: number, tx: Queryable): Promise<void> {
    if (before > 0 && (await this.repo.countHolders(USER_MANAGE, tx)) === 0) throw roleErrors.lastUserManager();
  }

  /** Every permission is in the catalogue; a role limited to languages holds only content permissions. */
  private async checkPermissions(
    permissions: readonly string[],
    languages: readonly string[] | null,
    tx?: Queryable,
  ): Promise<void> {
    const known = new Set(await this.repo.knownPermissions(permissions, tx));
    const unknown = permissions.filter((p) => !known.has(p));
    if (unknown.length > 0) throw roleErrors.unknownPermission(unknown);
    if (languages !== null) {
      const notContent = permissions.filter((p) => !LANGUAGE_SCOPABLE_PERMISSIONS.includes(p as Permission));
      if (notContent.length > 0) throw roleErrors.languagesContentOnly(notContent);
    }
  }

  private async mustGet(name: string, tx: Queryable): Promise<RoleRow> {
    const row = await this.repo.get(name, tx);
    if (!row) throw new Error('role vanished inside its transaction');
    return row;
  }
}
