/**
 * Content error codes. Another user's object and a missing one share NOT_FOUND with the same body
 * (see users/policy.ts): a distinct code would let anyone probe which ids or slugs exist.
 */
import { AppError, httpErrors } from '../http/errors.js';

export const contentErrors = {
  notFound: (what: string) => new AppError(404, 'NOT_FOUND', 'Not found', `${what} not found`),
  slugTaken: () => new AppError(409, 'SLUG_TAKEN', 'Conflict', 'Another portfolio already uses this slug'),
  slugReserved: (slug: string) =>
    new AppError(400, 'SLUG_RESERVED', 'Bad request', `The slug "${slug}" is reserved; choose another`),
  defaultConflict: () =>
    new AppError(
      409,
      'DEFAULT_PORTFOLIO_CONFLICT',
      'Conflict',
      'Another request changed the default portfolio at the same time; try again',
    ),
  limitReached: (what: string, max: number) =>
    new AppError(409, 'CONTENT_LIMIT_REACHED', 'Conflict', `At most ${max} ${what} are allowed`),
  /** A reorder must name every row of the kind in the portfolio exactly once, and nothing else. */
  orderMismatch: (what: string, detail: string) =>
    new AppError(
      400,
      'ORDER_MISMATCH',
      'Bad request',
      `ids must be exactly the portfolio's current ${what}, each once: ${detail}`,
    ),
  /** Cross-field rules the schema cannot express; same code and shape as schema failures. */
  invalid: (path: string, message: string) => httpErrors.validation(`${path}: ${message}`, [{ path, message }]),
};
