/** Problem codes of site texts. */
import { AppError, httpErrors } from '../../http/errors.js';
import type { Problem } from './i18next.js';

export const textErrors = {
  notFound: (key: string) => new AppError(404, 'NOT_FOUND', 'Not found', `Site text "${key}" not found`),
  invalidKey: (path: string, message: string) => httpErrors.validation(`${path}: ${message}`, [{ path, message }]),
  /** `a` beside `a.b`: the i18next format cannot hold both (a key is a text or an object). */
  keyConflict: (pairs: readonly [string, string][]) =>
    new AppError(
      409,
      'TEXT_KEY_CONFLICT',
      'Conflict',
      `A key cannot be both a text and the parent of other keys: ${pairs
        .slice(0, 5)
        .map(([a, b]) => `${a} / ${b}`)
        .join(', ')}`,
      { extensions: { conflicts: pairs.slice(0, 20) } },
    ),
  limit: (max: number) =>
    new AppError(409, 'CONTENT_LIMIT_REACHED', 'Conflict', `At most ${max} site text keys are allowed`),
  /** An import file that is not a valid i18next object; `errors` lists each problem with its path. */
  importInvalid: (problems: readonly Problem[]) =>
    new AppError(
      400,
      'TEXTS_IMPORT_INVALID',
      'Bad request',
      `The file is not an i18next texts object: ${problems[0]?.path ?? 'body'}: ${problems[0]?.message ?? 'invalid'}`,
      { extensions: { errors: problems } },
    ),
};
