import { AppError } from '../../../http/errors.js';

/**
 * Problem codes of the privacy notice (stable: docs/PRIVACY.md). A contact message without the
 * current version is PRIVACY_NOTICE_NOT_ACCEPTED, raised by the contact form (accounts/errors.ts).
 */
export const noticeErrors = {
  notConfigured: () =>
    new AppError(404, 'PRIVACY_NOTICE_NOT_CONFIGURED', 'Not found', 'This site has no privacy notice configured'),
};
