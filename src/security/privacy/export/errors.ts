import { AppError } from '../../../http/errors.js';

/**
 * Problem codes of the data export (stable: clients and docs/PRIVACY.md rely on them). A link that
 * is not ours (another user's, a changed signature or id) is 404; only a genuine link is told it
 * is spent (used, expired, or its archive deleted): 410. Both EXPORT_LINK_INVALID.
 */
export const exportErrors = {
  notFound: () => new AppError(404, 'EXPORT_NOT_FOUND', 'Not found', 'Export not found'),
  linkInvalid: () =>
    new AppError(404, 'EXPORT_LINK_INVALID', 'Not found', 'This download link is not valid for your account'),
  linkSpent: () =>
    new AppError(
      410,
      'EXPORT_LINK_INVALID',
      'Gone',
      'This download link was already used or has expired: ask for a new link, or a new export',
    ),
  inProgress: (id: string) =>
    new AppError(409, 'EXPORT_IN_PROGRESS', 'Conflict', 'An export is already being prepared', {
      extensions: { id },
    }),
};
