import { AppError, httpErrors } from '../../http/errors.js';

/** Error codes of account security (stable: clients and docs rely on them). */
export const accountErrors = {
  /** Unknown, tampered, used, expired or other-purpose token: one answer for all. */
  invalidToken: () =>
    new AppError(
      400,
      'INVALID_TOKEN',
      'Invalid or expired link',
      'This link is invalid, was already used, or has expired',
    ),
  contactLimit: (retryAfterSeconds: number) =>
    new AppError(
      429,
      'CONTACT_LIMIT_REACHED',
      'Too many messages',
      'This portfolio has received as many messages as it accepts today; try again tomorrow',
      {
        headers: { 'retry-after': String(retryAfterSeconds) },
      },
    ),
  /** A privacy notice is configured and the message did not accept its current version (docs/PRIVACY.md). */
  privacyNoticeNotAccepted: (version: string) =>
    new AppError(
      400,
      'PRIVACY_NOTICE_NOT_ACCEPTED',
      'Privacy notice not accepted',
      `Read the privacy notice (/privacy) and send privacyNoticeVersion "${version}" to accept it`,
      {
        extensions: {
          privacyNoticeVersion: version,
          errors: [{ path: '/privacyNoticeVersion', message: `must be the current version, ${version}` }],
        },
      },
    ),
  invalidField: (path: string, message: string) =>
    httpErrors.validation(`${path.slice(1)}: ${message}`, [{ path, message }]),
};
