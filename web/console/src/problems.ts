/** A problem+json answer in plain words, in the console's language. */
import type { Problem } from './api';
import type { Translate } from './i18n';

const KNOWN = new Set([
  'INVALID_TOKEN',
  'WEAK_PASSWORD',
  'VALIDATION_FAILED',
  'INVALID_CREDENTIALS',
  'INVITATION_INVALID',
  'INVITATION_USED',
  'INVITATION_EXPIRED',
  'INVITATION_REVOKED',
  'CLIENT_BLOCKED',
  'NETWORK',
  'MFA_CODE_INVALID',
  'MFA_TOKEN_INVALID',
  'PASSKEY_INVALID',
  'PASSKEY_CHALLENGE_INVALID',
  'PASSKEY_CANCELLED',
  'LOGIN_UNAVAILABLE',
]);

export function problemMessage(t: Translate, problem: Problem): string {
  if (problem.code === 'RATE_LIMITED' || problem.code === 'ACCOUNT_LOCKED') {
    if (problem.retryAfter === null) return t('error.RATE_LIMITED_NO_TIME');
    return t(`error.${problem.code}`, { seconds: problem.retryAfter });
  }
  if (KNOWN.has(problem.code)) return t(`error.${problem.code}`);
  if (problem.status >= 500) return t('error.SERVER_ERROR');
  return problem.detail !== '' ? problem.detail : t('error.UNKNOWN');
}
