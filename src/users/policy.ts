/**
 * The one place that answers "may this actor do this to that object". Handlers never compare
 * owner ids themselves: they call `authorize`, which knows the permission model and the rule
 * that another user's object is reported as missing (404), so its existence is not revealed.
 */
import { AppError } from '../http/errors.js';
import type { Queryable } from '../platform/db/index.js';
import { roleErrors } from './errors.js';
import { RolesRepository } from './repository.js';

export const PERMISSIONS = [
  'portfolio:read',
  'portfolio:write',
  'content:read_any',
  'content:write_any',
  'user:manage',
  'audit:read',
  'security:manage',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

/**
 * The built-in roles. Roles are rows of the role table (docs/ROLES.md); these three always exist,
 * cannot be deleted, and keep their defining permissions (BUILT_IN_ROLE_PERMISSIONS).
 */
export const ROLES = ['admin', 'editor', 'user'] as const;
export type Role = (typeof ROLES)[number];

/** What each built-in role is for: an edit may add permissions to it, never take one of these away. */
export const BUILT_IN_ROLE_PERMISSIONS: Readonly<Record<Role, readonly Permission[]>> = {
  admin: PERMISSIONS,
  editor: ['portfolio:read', 'portfolio:write', 'content:read_any', 'content:write_any'],
  user: ['portfolio:read', 'portfolio:write'],
};

export function isBuiltInRole(name: string): name is Role {
  return (ROLES as readonly string[]).includes(name);
}

/** A role name is a slug: lower-case letters and digits, single hyphens between them. */
export const ROLE_NAME_PATTERN = '^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$';
export const ROLE_NAME_MAX_LENGTH = 40;
const ROLE_NAME = new RegExp(ROLE_NAME_PATTERN);

/** The permissions a role limited to languages may hold: reading and writing content. */
export const LANGUAGE_SCOPABLE_PERMISSIONS: readonly Permission[] = [
  'portfolio:read',
  'portfolio:write',
  'content:read_any',
  'content:write_any',
];
/** Of those, the ones that only read: a translator reads the whole text it translates. */
const READ_PERMISSIONS: readonly string[] = ['portfolio:read', 'content:read_any'];

/** Who grants a role: an actor's permissions, or the operator at the CLI (root on the host: no ceiling). */
export type RoleGrantor = { readonly permissions: ReadonlySet<string> } | 'operator';

/**
 * THE check of role names, for every way a role is named (an assignment, an invitation, a
 * reassignment, the CLI): each must be a role of the role table, spelled exactly (role names are
 * lower-case slugs, so `Admin` is no role: 400 UNKNOWN_ROLE), and listed once (400
 * DUPLICATE_ROLE). With a grantor other than the operator, each role's every permission must be
 * one the grantor holds (403 ROLE_ESCALATION). Returns the names as given.
 */
export async function validateRoleNames(
  names: readonly string[],
  q: Queryable,
  grantor: RoleGrantor = 'operator',
): Promise<string[]> {
  const seen = new Set<string>();
  for (const name of names) {
    if (typeof name !== 'string' || name.length > ROLE_NAME_MAX_LENGTH || !ROLE_NAME.test(name))
      throw roleErrors.unknownRole(String(name));
    if (seen.has(name)) throw roleErrors.duplicateRole(name);
    seen.add(name);
  }
  if (seen.size === 0) return [];
  const rows = await new RolesRepository(q).getMany([...seen], q);
  const byName = new Map(rows.map((r) => [r.name, r]));
  for (const name of seen) {
    const role = byName.get(name);
    if (!role) throw roleErrors.unknownRole(name);
    if (grantor !== 'operator') {
      const missing = role.permissions.filter((p) => !grantor.permissions.has(p));
      if (missing.length > 0) throw roleErrors.escalation(missing, name);
    }
  }
  return [...seen];
}

export interface Actor {
  userId: string;
  roles: readonly string[];
  permissions: ReadonlySet<string>;
  /**
   * Write permissions held only through roles limited to languages (a translator): permission →
   * the languages whose translations it may change. Never in `permissions`, so every check that
   * knows nothing of languages refuses them; only `authorizeContent` with the change in hand
   * grants them (see `translationOnlyChange`).
   */
  languagePermissions?: ReadonlyMap<string, ReadonlySet<string>>;
  /** How this request authenticated (set by `app.authenticate`; absent for CLI and test actors). */
  auth?: ActorAuth;
}

export interface ActorAuth {
  sessionId: string;
  /** Authentication methods of the sign-in (RFC 8176: pwd, otp, webauthn, ...). */
  amr: readonly string[];
  /** When the user signed in, epoch seconds (step-up checks compare against it). */
  authTime: number;
  /** Set on tokens that may only reach the routes opting in (MFA enrollment, password change). */
  restriction: string | null;
  jti: string;
  /** Access token expiry, epoch seconds. */
  exp: number;
}

/** Actions on owned content (portfolios and everything inside them). */
export type ContentAction = 'read' | 'write';

export interface Owned {
  ownerId: string;
}

/**
 * An account's permissions as its roles give them (the user state read by authentication):
 * permissions of roles not limited to languages are held; of a limited role, the read
 * permissions are held too (a translator reads what it translates), its write permissions only
 * for its languages.
 */
export function actorPermissions(state: {
  permissions: readonly string[];
  languagePermissions?: readonly { permission: string; languages: readonly string[] }[] | null;
}): { permissions: ReadonlySet<string>; languagePermissions: ReadonlyMap<string, ReadonlySet<string>> } {
  const permissions = new Set(state.permissions);
  const limited = new Map<string, Set<string>>();
  for (const { permission, languages } of state.languagePermissions ?? []) {
    if (READ_PERMISSIONS.includes(permission)) permissions.add(permission);
    else if (LANGUAGE_SCOPABLE_PERMISSIONS.includes(permission as Permission)) {
      let set = limited.get(permission);
      if (!set) limited.set(permission, (set = new Set()));
      for (const language of languages) set.add(language);
    }
  }
  for (const permission of permissions) limited.delete(permission);
  return { permissions, languagePermissions: limited };
}

export function hasPermission(actor: Actor, permission: Permission): boolean {
  return actor.permissions.has(permission);
}

/**
 * True when the actor holds `permission` only through roles limited to languages (a translator):
 * such an actor may get as far as `authorizeContent` with an update's body, which decides.
 */
export function holdsForLanguagesOnly(actor: Actor, permission: Permission): boolean {
  return !actor.permissions.has(permission) && (actor.languagePermissions?.get(permission)?.size ?? 0) > 0;
}

export function canOnContent(actor: Actor, action: ContentAction, object: Owned): boolean {
  const own = object.ownerId === actor.userId;
  if (action === 'read') {
    return (own && hasPermission(actor, 'portfolio:read')) || hasPermission(actor, 'content:read_any');
  }
  return (own && hasPermission(actor, 'portfolio:write')) || hasPermission(actor, 'content:write_any');
}

/** The languages whose translations of the object the actor may change through limited roles. */
function translatableLanguages(actor: Actor, object: Owned): ReadonlySet<string> {
  const limited = actor.languagePermissions;
  if (!limited || limited.size === 0) return new Set();
  const out = new Set(limited.get('content:write_any'));
  if (object.ownerId === actor.userId) for (const l of limited.get('portfolio:write') ?? []) out.add(l);
  return out;
}

function sameTexts(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return (
    ka.length === kb.length &&
    ka.every(
      (k) => Object.hasOwn(b, k) && sameTexts((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
    )
  );
}

/**
 * True when `change` (an update's validated body) touches nothing but the object's translations
 * in `languages`: no plain field (the default language's text), no structure, no publication,
 * and every other language's entry exactly as stored (a PATCH replaces `translations` whole, so
 * leaving one out would delete it).
 */
export function translationOnlyChange(
  change: Readonly<Record<string, unknown>>,
  current: unknown,
  languages: ReadonlySet<string>,
): boolean {
  const keys = Object.keys(change).filter((k) => change[k] !== undefined);
  if (keys.length !== 1 || keys[0] !== 'translations') return false;
  const next = change['translations'];
  if (typeof next !== 'object' || next === null || Array.isArray(next)) return false;
  const before = typeof current === 'object' && current !== null && !Array.isArray(current) ? current : {};
  const tags = new Set([...Object.keys(before), ...Object.keys(next)]);
  for (const tag of tags) {
    const unchanged = sameTexts((before as Record<string, unknown>)[tag], (next as Record<string, unknown>)[tag]);
    if (!unchanged && !languages.has(tag)) return false;
  }
  return true;
}

/**
 * Throws unless the actor may act on the object. An object the actor cannot even read answers
 * 404 with the same body as a missing one; an object it can read but not change answers 403.
 *
 * A write by an actor whose write permission on the object comes only from roles limited to
 * languages is allowed for an update whose `change` (the validated body) is a translation-only
 * change in those languages (`translationOnlyChange`); any other write (a create, a delete, a
 * move, media, publication, another language, or a call that passes no change) is refused here.
 * This is the one place translators are limited.
 */
export function authorizeContent(
  actor: Actor,
  action: ContentAction,
  object: (Owned & { translations?: unknown }) | null | undefined,
  what: string,
  change?: Readonly<Record<string, unknown>>,
): asserts object is Owned {
  if (!object || !canOnContent(actor, 'read', object)) {
    throw new AppError(404, 'NOT_FOUND', 'Not found', `${what} not found`);
  }
  if (action === 'write' && !canOnContent(actor, 'write', object)) {
    const languages = translatableLanguages(actor, object);
    if (languages.size > 0 && change !== undefined && translationOnlyChange(change, object.translations, languages))
      return;
    const limitedTo =
      languages.size > 0 ? ` (you may change only its translations in: ${[...languages].sort().join(', ')})` : '';
    throw new AppError(403, 'FORBIDDEN', 'Forbidden', `You may not change this ${what.toLowerCase()}${limitedTo}`);
  }
}

export function requirePermission(actor: Actor, permission: Permission): void {
  if (!hasPermission(actor, permission)) {
    throw new AppError(403, 'FORBIDDEN', 'Forbidden', `This needs the ${permission} permission`);
  }
}

/**
 * No escalation: an account may create, change, grant or take away a role only when it holds
 * every permission the role has (before and after the change), unlimited.
 */
export function assertMayGrant(actor: Actor, permissions: Iterable<string>): void {
  const missing = [...new Set(permissions)].filter((p) => !actor.permissions.has(p)).sort();
  if (missing.length > 0) throw roleErrors.escalation(missing);
}
