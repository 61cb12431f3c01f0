/** Multi-factor authentication: TOTP, trusted devices and passkeys (src/security/mfa/, docs/MFA.md). */

import { parseEncryptionKeys, parseRequiredRoles, parseRpId } from '../../security/mfa/config.js';
import { int, nonEmptyOriginList, type SchemaSection } from '../parsers.js';

export const mfaSchema = {
  MFA_ISSUER: {
    group: 'MFA',
    doc: 'Issuer shown by authenticator apps next to the account email (the otpauth:// URI issuer) and passkey relying-party name. When set it wins; unset, the site name setting is used (docs/SETTINGS.md; its default is this one).',
    default: 'Portfolio',
    parse: (raw: string) => {
      const v = raw.trim();
      if (v === '' || v.length > 64 || v.includes(':')) throw new Error('must be 1-64 characters without ":"');
      return v;
    },
  },
  MFA_ENCRYPTION_KEY: {
    group: 'MFA',
    doc: 'AES-256-GCM key(s) that encrypt TOTP secrets at rest, at least 32 characters each; comma-separated to rotate (the first encrypts, all decrypt). Required in production; unset elsewhere: generated once in DATA_DIR/secrets.',
    example: 'change-me-to-43-random-base64url-characters',
    parse: parseEncryptionKeys,
    secret: true,
  },
  MFA_REQUIRED_ROLES: {
    group: 'MFA',
    doc: 'Roles that must use MFA (comma-separated), or none. Past the grace period their login token only allows MFA enrollment.',
    default: 'admin',
    parse: parseRequiredRoles,
  },
  MFA_ENROLLMENT_GRACE_DAYS: {
    group: 'MFA',
    doc: 'Days a user who must use MFA may still sign in without it (counted from the first such sign-in); 0 means none.',
    default: '7',
    parse: int(0, 365),
  },
  TRUSTED_DEVICE_DAYS: {
    group: 'MFA',
    doc: 'Days a device remembered at MFA verification ("remember this device") skips the second factor.',
    default: '30',
    parse: int(1, 365),
  },
  WEBAUTHN_RP_ID: {
    group: 'MFA',
    doc: 'WebAuthn relying-party id for passkeys: the site domain (e.g. example.com). Unset: the host of PUBLIC_URL.',
    example: 'example.com',
    parse: parseRpId,
  },
  WEBAUTHN_ORIGIN: {
    group: 'MFA',
    doc: 'Browser origins allowed in passkey ceremonies (comma-separated, e.g. https://example.com). Unset: the origin of PUBLIC_URL.',
    example: 'https://example.com',
    parse: nonEmptyOriginList,
  },
} satisfies SchemaSection;
