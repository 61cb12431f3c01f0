/** Problem codes of site languages (and of language checks other content modules share). */
import { AppError } from '../../http/errors.js';

export const languageErrors = {
  notFound: (code: string) => new AppError(404, 'NOT_FOUND', 'Not found', `Language "${code}" not found`),
  invalidTag: (path: string, value: string) =>
    new AppError(
      400,
      'INVALID_LANGUAGE_TAG',
      'Bad request',
      `${path}: "${value.slice(0, 40)}" is not a language tag such as en, es or pt-BR`,
    ),
  exists: (code: string) => new AppError(409, 'LANGUAGE_EXISTS', 'Conflict', `The language "${code}" already exists`),
  /** A language that is missing or disabled where an enabled one is needed (fallbacks, texts). */
  notEnabled: (path: string, code: string) =>
    new AppError(400, 'LANGUAGE_NOT_ENABLED', 'Bad request', `${path}: "${code}" is not an enabled language`, {
      extensions: { language: code },
    }),
  fallbackCycle: (cycle: readonly string[]) =>
    new AppError(400, 'LANGUAGE_FALLBACK_CYCLE', 'Bad request', `The fallback chain would loop: ${cycle.join(' → ')}`, {
      extensions: { cycle },
    }),
  isDefault: (code: string, what: string) =>
    new AppError(
      409,
      'LANGUAGE_IS_DEFAULT',
      'Conflict',
      `"${code}" is the default language and cannot be ${what}; make another language the default first`,
    ),
  /** Deleting a language that content uses, without ?force=true. */
  inUse: (code: string, usage: Record<string, number>) =>
    new AppError(
      409,
      'LANGUAGE_IN_USE',
      'Conflict',
      `Content uses "${code}"; delete with ?force=true to remove its translations everywhere`,
      { extensions: { usage } },
    ),
  /** A portfolio is written in this language: neither force nor disabling can take it away. */
  portfolioDefault: (code: string, portfolios: number) =>
    new AppError(
      409,
      'LANGUAGE_IS_PORTFOLIO_DEFAULT',
      'Conflict',
      `${portfolios} portfolio(s) are written in "${code}" (defaultLanguage); change them first`,
      { extensions: { portfolios } },
    ),
  /** Another enabled language falls back to this one: disabling it would break their chains. */
  inFallback: (code: string, by: readonly string[]) =>
    new AppError(409, 'LANGUAGE_IN_FALLBACK', 'Conflict', `"${code}" is in the fallback chain of ${by.join(', ')}`, {
      extensions: { usedBy: by },
    }),
  /**
   * Roles limited to this language (translators): neither force nor disabling takes it from them,
   * because changing a role needs `user:manage` and a recent sign-in; change the roles first.
   */
  heldByRoles: (code: string, roles: readonly string[]) =>
    new AppError(
      409,
      'LANGUAGE_HELD_BY_ROLE',
      'Conflict',
      `The role(s) ${roles.join(', ')} are limited to "${code}"; change their languages first`,
      { extensions: { roles: [...roles] } },
    ),
  limit: (max: number) =>
    new AppError(409, 'CONTENT_LIMIT_REACHED', 'Conflict', `At most ${max} languages are allowed`),
  defaultConflict: () =>
    new AppError(
      409,
      'DEFAULT_LANGUAGE_CONFLICT',
      'Conflict',
      'Another request changed the default language at the same time; try again',
    ),
};
