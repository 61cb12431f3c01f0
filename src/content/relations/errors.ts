/**
 * Problem codes of relations. A reference to something that is not there and a reference to
 * another portfolio's (or another user's) row answer the same code and text: the answer never
 * says whether an id exists elsewhere.
 */
import { AppError } from '../../http/errors.js';

export const relationErrors = {
  unknownCategory: () =>
    new AppError(
      400,
      'UNKNOWN_CATEGORY',
      'Bad request',
      'body/categoryIds: every id must be a category (GET /api/categories)',
    ),
  skillNotInPortfolio: () =>
    new AppError(
      400,
      'SKILL_NOT_IN_PORTFOLIO',
      'Bad request',
      "body/skillIds: every id must be a skill of the project's portfolio",
    ),
  projectNotInPortfolio: () =>
    new AppError(
      400,
      'PROJECT_NOT_IN_PORTFOLIO',
      'Bad request',
      "body/projectId: must be a project of the section's portfolio",
    ),
};
