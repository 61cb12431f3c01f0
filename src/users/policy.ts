/**
 * The one place that answers "may this actor do this to that object". Handlers never compare
 * owner ids themselves: they call `authorize`, which knows the permission model and the rule
 * that another user's object is reported as missing (404), so its existence is not revealed.
 */
import { AppError } from '../http/errors.js';

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

export const ROLES = ['admin', 'editor', 'user'] as const;
export type Role = (typeof ROLES)[number];

export interface Actor {
  userId: string;
  roles: readonly string[];
  permissions: ReadonlySet<string>;
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

export function hasPermission(actor: Actor, permission: Permission): boolean {
  return actor.permissions.has(permission);
}

export function canOnContent(actor: Actor, action: ContentAction, object: Owned): boolean {
  const own = object.ownerId === actor.userId;
  if (action === 'read') {
    return (own && hasPermission(actor, 'portfolio:read')) || hasPermission(actor, 'content:read_any');
  }
  return (own && hasPermission(actor, 'portfolio:write')) || hasPermission(actor, 'content:write_any');
}

/**
 * Throws unless the actor may act on the object. An object the actor cannot even read answers
 * 404 with the same body as a missing one; an object it can read but not change answers 403.
 */
export function authorizeContent(
  actor: Actor,
  action: ContentAction,
  object: Owned | null | undefined,
  what: string,
): asserts object is Owned {
  if (!object || !canOnContent(actor, 'read', object)) {
    throw new AppError(404, 'NOT_FOUND', 'Not found', `${what} not found`);
  }
  if (action === 'write' && !canOnContent(actor, 'write', object)) {
    throw new AppError(403, 'FORBIDDEN', 'Forbidden', `You may not change this ${what.toLowerCase()}`);
  }
}

export function requirePermission(actor: Actor, permission: Permission): void {
  if (!hasPermission(actor, permission)) {
    throw new AppError(403, 'FORBIDDEN', 'Forbidden', `This needs the ${permission} permission`);
  }
}
