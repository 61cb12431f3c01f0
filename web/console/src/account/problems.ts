/** A problem on a "My account" screen in plain words: the account's own codes first, then the console's. */
import type { Problem } from '../api';
import type { Translate } from '../i18n';
import { problemMessage } from '../problems';

const ACCOUNT_CODES = new Set([
  'INVALID_CURRENT_PASSWORD',
  'INVALID_CREDENTIALS',
  'MFA_ALREADY_ENABLED',
  'MFA_NOT_ENABLED',
  'MFA_ENROLLMENT_NOT_STARTED',
  'SESSION_NOT_FOUND',
  'NOT_FOUND',
  'REAUTH_REQUIRED',
  'UNAUTHORIZED',
  'INVALID_TOKEN',
]);

export function accountProblem(t: Translate, problem: Problem): string {
  return ACCOUNT_CODES.has(problem.code) ? t(`account.err.${problem.code}`) : problemMessage(t, problem);
}

/** The first field of `fields` a problem names, by code or by `errors[].path`. */
export function problemField(
  problem: Problem,
  byCode: Record<string, string>,
  fields: readonly string[],
): string | null {
  const fromCode = byCode[problem.code];
  if (fromCode) return fromCode;
  for (const e of problem.errors) {
    const name = e.path.replace(/^\//, '').split('/')[0] ?? '';
    if (fields.includes(name)) return name;
  }
  return null;
}

export function formatDate(locale: string, iso: string | null): string {
  if (iso === null) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(locale, { dateStyle: 'medium', timeStyle: 'short' });
}
