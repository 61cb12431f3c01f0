/** Problem codes of categories and category types (docs/CONTENT.md). */
import { AppError } from '../../http/errors.js';

export const categoryErrors = {
  notFound: () => new AppError(404, 'NOT_FOUND', 'Not found', 'Category not found'),
  typeExists: (code: string) =>
    new AppError(409, 'CATEGORY_TYPE_EXISTS', 'Conflict', `The category type "${code}" already exists`),
  exists: (typeCode: string, code: string) =>
    new AppError(409, 'CATEGORY_EXISTS', 'Conflict', `The type "${typeCode}" already has a category "${code}"`),
  unknownType: (code: string) =>
    new AppError(400, 'UNKNOWN_CATEGORY_TYPE', 'Bad request', `body/typeCode: "${code}" is not a category type`),
  inUse: (usage: number) =>
    new AppError(
      409,
      'CATEGORY_IN_USE',
      'Conflict',
      `${usage} portfolio(s), project(s) or skill(s) carry this category; delete with ?force=true to remove it from them`,
      { extensions: { usage } },
    ),
  limit: (what: string, max: number) =>
    new AppError(409, 'CONTENT_LIMIT_REACHED', 'Conflict', `At most ${max} ${what} are allowed`),
};
