/**
 * Error codes of roles and role assignments (docs/ROLES.md). Stable: clients branch on `code`.
 */
import { AppError } from '../http/errors.js';

export const roleErrors = {
  /** A role name that is not a role of the table (wrong case, not a slug, or simply unknown). */
  unknownRole: (name: string) => new AppError(400, 'UNKNOWN_ROLE', 'Bad request', `Unknown role "${name}"`),
  duplicateRole: (name: string) =>
    new AppError(400, 'DUPLICATE_ROLE', 'Bad request', `The role "${name}" is listed twice`),
  unknownPermission: (names: readonly string[]) =>
    new AppError(400, 'UNKNOWN_PERMISSION', 'Bad request', `Unknown permission: ${names.join(', ')}`, {
      extensions: { permissions: [...names] },
    }),
  roleNotFound: () => new AppError(404, 'ROLE_NOT_FOUND', 'Not found', 'Role not found'),
  roleExists: (name: string) => new AppError(409, 'ROLE_EXISTS', 'Conflict', `A role named "${name}" already exists`),
  roleLimit: (max: number) => new AppError(409, 'ROLE_LIMIT_REACHED', 'Conflict', `At most ${max} roles are allowed`),
  builtIn: (detail: string) => new AppError(409, 'BUILT_IN_ROLE', 'Conflict', detail),
  inUse: (name: string, holders: number) =>
    new AppError(
      409,
      'ROLE_IN_USE',
      'Conflict',
      `${holders} account(s) hold the role "${name}": name the role they get instead with ?reassignTo=`,
      { extensions: { userCount: holders } },
    ),
  badReassign: (detail: string) => new AppError(400, 'INVALID_REASSIGNMENT', 'Bad request', detail),
  languagesContentOnly: (names: readonly string[]) =>
    new AppError(
      400,
      'LANGUAGES_CONTENT_ONLY',
      'Bad request',
      `A role limited to languages may hold only content permissions; not: ${names.join(', ')}`,
    ),
  /** No escalation: granting, changing or taking a role needs every permission it has. */
  escalation: (missing: readonly string[], role?: string) =>
    new AppError(
      403,
      'ROLE_ESCALATION',
      'Forbidden',
      `${role ? `You cannot grant the role "${role}": it has` : 'This needs'} permissions you do not hold (${missing.join(', ')})`,
      { extensions: { permissions: [...missing] } },
    ),
  lastUserManager: () =>
    new AppError(
      409,
      'LAST_USER_MANAGER',
      'Conflict',
      'This would leave no enabled account holding user:manage: grant it to another account first',
    ),
};
