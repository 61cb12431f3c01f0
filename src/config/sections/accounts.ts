/**
 * Account security: registration policy and invitations, password reset, email verification,
 * password history, lockout, suspicious sign-ins and the contact form (src/security/accounts/,
 * src/security/invitations/, docs/ACCOUNT_SECURITY.md).
 */

import { cidrList, int, list, oneOf, type Parser, type SchemaSection } from '../parsers.js';

/** LOCKOUT_DURATIONS: positive second counts, at most a day each. */
export const durationList: Parser<number[]> = (raw) => {
  const items = list(raw);
  if (items.length === 0 || items.length > 10) throw new Error('must list 1 to 10 durations in seconds');
  return items.map((item) => int(1, 86400)(item));
};

export const accountSchema = {
  PASSWORD_RESET_TTL: {
    group: 'Account security',
    doc: 'Seconds a password reset link stays valid.',
    default: '3600',
    parse: int(300, 24 * 3600),
  },
  EMAIL_VERIFICATION: {
    group: 'Account security',
    doc: 'required: new accounts must verify their email (registration answers the same for taken emails); optional: they may. Unset: required in production, optional elsewhere.',
    example: 'required',
    parse: oneOf(['required', 'optional'] as const),
  },
  REGISTRATION: {
    group: 'Account security',
    doc: 'Who may create an account: open (anyone, POST /api/auth/register), invite (only through an invitation from an admin; registration answers 403 REGISTRATION_CLOSED) or closed (the same 403; invitations still work). Unset: invite in production, open elsewhere.',
    example: 'invite',
    parse: oneOf(['open', 'invite', 'closed'] as const),
  },
  INVITATION_TTL: {
    group: 'Account security',
    doc: 'Seconds an invitation link (POST /api/admin/invitations, `invitations create`) stays valid.',
    default: '604800',
    parse: int(3600, 30 * 86400),
  },
  EMAIL_VERIFICATION_TTL: {
    group: 'Account security',
    doc: 'Seconds an email verification link stays valid.',
    default: '86400',
    parse: int(600, 30 * 86400),
  },
  PASSWORD_HISTORY: {
    group: 'Account security',
    doc: 'How many previous passwords a new password may not repeat (the current one is always refused); 0 checks only the current one.',
    default: '5',
    parse: int(0, 24),
  },
  LOCKOUT_THRESHOLD: {
    group: 'Account security',
    doc: 'Failed sign-ins (password, TOTP or backup code) per account identifier that lock it.',
    default: '5',
    parse: int(1, 100),
  },
  LOCKOUT_DURATIONS: {
    group: 'Account security',
    doc: 'Seconds of the first, second, ... lockout (comma-separated); the last applies to every later one.',
    default: '300,600,1800',
    parse: durationList,
  },
  LOCKOUT_RESET_AFTER: {
    group: 'Account security',
    doc: 'Seconds without a failure after which an identifier starts again at the first lockout stage.',
    default: '86400',
    parse: int(60, 30 * 86400),
  },
  SUSPICIOUS_LOGIN_DENY_NETWORKS: {
    group: 'Account security',
    doc: 'Client addresses/CIDRs whose sign-ins are high risk (e.g. known abusive ranges): the account owner must pass MFA, or is mailed "was this you?". Empty: none.',
    default: '',
    example: '198.51.100.0/24,2001:db8:bad::/48',
    parse: cidrList,
  },
  CONTACT_MAX_PER_DAY: {
    group: 'Account security',
    doc: 'Contact-form messages one portfolio owner receives per day (from all senders together), so the form cannot flood an inbox.',
    default: '50',
    parse: int(1, 10000),
  },
} satisfies SchemaSection;
