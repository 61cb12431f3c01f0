import { AppError } from '../../http/errors.js';

/** The MFA module's error codes (UPPER_SNAKE, stable). */
export const MFA_ERROR_CODES = [
  'MFA_CODE_INVALID',
  'MFA_TOKEN_INVALID',
  'MFA_ALREADY_ENABLED',
  'MFA_NOT_ENABLED',
  'MFA_ENROLLMENT_NOT_STARTED',
  'MFA_METHOD_UNAVAILABLE',
  'INVALID_CREDENTIALS',
  'PASSKEY_INVALID',
  'PASSKEY_CHALLENGE_INVALID',
  'MFA_UNAVAILABLE',
] as const;

const unauthorized = (code: string, detail: string, extensions: Record<string, unknown> = {}) =>
  new AppError(401, code, 'Unauthorized', detail, { extensions });

export const mfaErrors = {
  /** A wrong, reused or out-of-window code: one message, so the client learns nothing about which. */
  codeInvalid: (extensions: Record<string, unknown> = {}) =>
    unauthorized('MFA_CODE_INVALID', 'The code is not valid', extensions),
  /** Unknown, expired, already used, out of attempts or from another login attempt: one answer. */
  tokenInvalid: () => unauthorized('MFA_TOKEN_INVALID', 'The MFA token is invalid or expired; sign in again'),
  passwordInvalid: () => unauthorized('INVALID_CREDENTIALS', 'The password is incorrect'),
  alreadyEnabled: () =>
    new AppError(409, 'MFA_ALREADY_ENABLED', 'Conflict', 'An authenticator app is already set up; disable it first'),
  notEnabled: () => new AppError(409, 'MFA_NOT_ENABLED', 'Conflict', 'Multi-factor authentication is not set up'),
  enrollmentNotStarted: () =>
    new AppError(
      409,
      'MFA_ENROLLMENT_NOT_STARTED',
      'Conflict',
      'Start the enrollment first (POST /api/auth/mfa/totp/enroll)',
    ),
  methodUnavailable: (detail: string) => new AppError(400, 'MFA_METHOD_UNAVAILABLE', 'Bad request', detail),
  passkeyInvalid: (detail = 'The passkey response could not be verified') => unauthorized('PASSKEY_INVALID', detail),
  passkeyChallengeInvalid: () =>
    unauthorized('PASSKEY_CHALLENGE_INVALID', 'The passkey challenge is invalid or expired; start again'),
  /** The stored secret cannot be decrypted (key removed from MFA_ENCRYPTION_KEY): an operator problem, not the user's. */
  unavailable: (detail: string) =>
    new AppError(503, 'MFA_UNAVAILABLE', 'Service unavailable', detail, { headers: { 'retry-after': '60' } }),
};
