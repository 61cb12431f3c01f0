/**
 * Authentication: signing keys, token lifetimes, token binding, cookies and password strength
 * (src/auth/, src/security/tokens/).
 */

import { bool, int, list, minLength, nonEmpty, oneOf, type Parser, type SchemaSection } from '../parsers.js';

export type BindingPart = 'ua' | 'ip' | 'ip-prefix';

/** TOKEN_BINDING_PARTS: ua, ip and/or ip-prefix (not both ip and ip-prefix). */
const bindingParts: Parser<BindingPart[]> = (raw) => {
  const parts = list(raw);
  if (parts.length === 0) throw new Error('must name at least one of ua, ip, ip-prefix');
  for (const p of parts) {
    if (p !== 'ua' && p !== 'ip' && p !== 'ip-prefix') throw new Error(`unknown part "${p}": use ua, ip or ip-prefix`);
  }
  if (parts.includes('ip') && parts.includes('ip-prefix')) throw new Error('use either ip or ip-prefix, not both');
  return [...new Set(parts)] as BindingPart[];
};

export const authSchema = {
  JWT_SECRET: {
    group: 'Authentication',
    doc: 'Key-encryption secret for the JWT signing keys stored in the database (AES-256-GCM), at least 32 characters; every node needs the same value. Unset outside production: generated once and kept in DATA_DIR/secrets.',
    example: 'change-me-to-64-random-characters',
    parse: minLength(32),
    secret: true,
  },
  JWT_ISSUER: {
    group: 'Authentication',
    doc: 'The iss claim of issued tokens.',
    default: 'portfolio-backend',
    parse: nonEmpty,
  },
  JWT_AUDIENCE: {
    group: 'Authentication',
    doc: 'The aud claim of issued tokens.',
    default: 'portfolio-api',
    parse: nonEmpty,
  },
  ACCESS_TOKEN_TTL: {
    group: 'Authentication',
    doc: 'Access token lifetime in seconds.',
    default: '1800',
    parse: int(60, 24 * 3600),
  },
  REFRESH_TOKEN_TTL: {
    group: 'Authentication',
    doc: 'Refresh token lifetime in seconds.',
    default: '1209600',
    parse: int(300, 365 * 24 * 3600),
  },
  JWT_ALGORITHM: {
    group: 'Authentication',
    doc: 'Signature algorithm of new signing keys: EdDSA (Ed25519) or ES256 (P-256). Keys already in the ring keep their own.',
    default: 'EdDSA',
    parse: oneOf(['EdDSA', 'ES256'] as const),
  },
  JWT_PRIVATE_KEY_FILE: {
    group: 'Authentication',
    doc: 'PKCS#8 PEM file with the signing key (Ed25519 or P-256), e.g. from a secrets manager. Unset: keys are generated into the database ring, encrypted with JWT_SECRET, and rotated with `keys rotate`.',
    parse: nonEmpty,
  },
  JWT_CLOCK_TOLERANCE: {
    group: 'Authentication',
    doc: 'Seconds of clock skew tolerated when checking exp, nbf and iat.',
    default: '5',
    parse: int(0, 120),
  },
  REFRESH_REUSE_GRACE: {
    group: 'Authentication',
    doc: 'Seconds during which a second use of a just-rotated refresh token by the same client returns the same successor (parallel tabs); any other reuse revokes the session.',
    default: '10',
    parse: int(0, 120),
  },
  TOKEN_BINDING: {
    group: 'Authentication',
    doc: 'Token binding to the client fingerprint: off, permissive (a mismatch is logged as token.binding.mismatch) or strict (a mismatch is refused with 401).',
    default: 'permissive',
    parse: oneOf(['off', 'permissive', 'strict'] as const),
  },
  TOKEN_BINDING_PARTS: {
    group: 'Authentication',
    doc: 'What the fingerprint covers, comma-separated: ua (User-Agent), ip (client address) and/or ip-prefix (its /24 or /48 network, for mobile clients).',
    default: 'ua,ip',
    parse: bindingParts,
  },
  AUTH_COOKIES: {
    group: 'Authentication',
    doc: 'Browser mode: also send access and refresh tokens as httpOnly, Secure, SameSite=Strict cookies, with CSRF protection (double-submit token plus Origin check) on state-changing requests.',
    default: 'false',
    parse: bool,
  },
  REAUTH_MAX_AGE: {
    group: 'Authentication',
    doc: 'Seconds after sign-in during which sensitive actions are allowed; older sessions get 401 REAUTH_REQUIRED and must sign in again.',
    default: '600',
    parse: int(30, 24 * 3600),
  },
  TOKEN_CACHE_SIZE: {
    group: 'Authentication',
    doc: 'Verified access tokens remembered per node (LRU), so a token is verified once rather than on every request; revocation is still checked each time.',
    default: '10000',
    parse: int(0, 1_000_000),
  },
  PASSWORD_MIN_SCORE: {
    group: 'Authentication',
    doc: 'Lowest zxcvbn strength score (0-4) a new password must reach.',
    default: '3',
    parse: int(0, 4),
  },
} satisfies SchemaSection;
