/**
 * The one schema for every environment variable the server reads.
 *
 * Each entry carries its documentation, its default and its parser, so the same table drives
 * boot-time validation, `.env.example` and the README's configuration table
 * (`npm run docs:env` regenerates both; a test fails when they drift).
 */

import { contactList, expiresInstant, languageTags, uriOf } from '../http/security-txt-rfc.js';
import { parseSigningKey, parseTrustedKeys } from '../security/audit/signing.js';

import { policyFileParser, policyListParser } from '../security/ratelimit/policy-spec.js';
import { parseEncryptionKeys, parseOrigins, parseRequiredRoles, parseRpId } from '../security/mfa/config.js';

export type Parser<T> = (raw: string) => T;

export interface VarSpec<T> {
  /** One sentence for operators: what it does and what a sensible value looks like. */
  doc: string;
  /** Section heading in the docs table. */
  group: string;
  /** Raw default as it would be written in `.env`; undefined = unset (optional). */
  default?: string;
  /** Parses a raw string or throws an Error whose message says why the value is bad. */
  parse: Parser<T>;
  /** Shown in `.env.example` instead of the default (e.g. a placeholder). */
  example?: string;
  /** Never print this value (logs, errors). */
  secret?: boolean;
}

// ---- parsers --------------------------------------------------------------------------------

export type BindingPart = 'ua' | 'ip' | 'ip-prefix';

const bindingParts: Parser<BindingPart[]> = (raw) => {
  const parts = raw
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (parts.length === 0) throw new Error('must name at least one of ua, ip, ip-prefix');
  for (const p of parts) {
    if (p !== 'ua' && p !== 'ip' && p !== 'ip-prefix') throw new Error(`unknown part "${p}": use ua, ip or ip-prefix`);
  }
  if (parts.includes('ip') && parts.includes('ip-prefix')) throw new Error('use either ip or ip-prefix, not both');
  return [...new Set(parts)] as BindingPart[];
};

export const str: Parser<string> = (raw) => raw;

export const nonEmpty: Parser<string> = (raw) => {
  if (raw.trim() === '') throw new Error('must not be empty');
  return raw.trim();
};

export function int(min: number, max: number): Parser<number> {
  return (raw) => {
    if (!/^-?\d+$/.test(raw.trim())) throw new Error(`must be an integer, got "${raw}"`);
    const n = Number(raw);
    if (n < min || n > max) throw new Error(`must be between ${min} and ${max}, got ${n}`);
    return n;
  };
}

export const bool: Parser<boolean> = (raw) => {
  const v = raw.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off'].includes(v)) return false;
  throw new Error(`must be true or false, got "${raw}"`);
};

export function oneOf<const T extends readonly string[]>(values: T): Parser<T[number]> {
  return (raw) => {
    const v = raw.trim();
    if (!(values as readonly string[]).includes(v)) {
      throw new Error(`must be one of ${values.join(', ')}, got "${raw}"`);
    }
    return v as T[number];
  };
}

export function url(protocols: readonly string[]): Parser<string> {
  return (raw) => {
    let u: URL;
    try {
      u = new URL(raw.trim());
    } catch {
      throw new Error('must be a URL');
    }
    if (!protocols.includes(u.protocol.replace(/:$/, ''))) {
      throw new Error(`must use one of the schemes ${protocols.join(', ')}`);
    }
    return raw.trim();
  };
}

/**
 * An http(s) URL without user info, query or fragment. User info would be copied into every link
 * built on it (credentials in mails) and, like a fragment, can hide the real host from a reader
 * (`http://localhost@evil.example`, `https://evil.example#@localhost`).
 */
function baseUrl(userInfoHint: string): Parser<string> {
  return (raw) => {
    const v = url(['http', 'https'])(raw);
    const u = new URL(v);
    // The raw text too: the parser drops an empty user info ("http://@host") and a bare "?" or "#".
    if (u.username !== '' || u.password !== '' || /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(v)) {
      throw new Error(`must not contain user info (user:password@)${userInfoHint}`);
    }
    if (u.search !== '' || u.hash !== '' || /[?#]/.test(v)) throw new Error('must not have a query or fragment');
    return v;
  };
}

/** PUBLIC_URL: scheme, host, optional port and path. */
export const publicBaseUrl: Parser<string> = baseUrl('');

/** AWS_S3_ENDPOINT: credentials belong in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY. */
export const endpointUrl: Parser<string> = baseUrl(': set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY instead');

export const list: Parser<string[]> = (raw) =>
  raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

/** Origins for CORS: each must be an http(s) origin without a path, or the list is empty. */
export const originList: Parser<string[]> = (raw) => {
  const items = list(raw);
  for (const item of items) {
    if (item === '*') throw new Error('"*" is not allowed: list the origins that may call the API');
    let u: URL;
    try {
      u = new URL(item);
    } catch {
      throw new Error(`"${item}" is not an origin like https://example.com`);
    }
    if (!['http:', 'https:'].includes(u.protocol) || u.origin !== item.replace(/\/$/, '')) {
      throw new Error(`"${item}" is not an origin like https://example.com (no path)`);
    }
  }
  return items.map((i) => i.replace(/\/$/, ''));
};

/**
 * TRUST_PROXY: `false` (default, use the socket address), a hop count, or a list of proxy
 * addresses/CIDRs. `true` is refused: trusting every hop lets any client forge its address
 * through X-Forwarded-For and walk around per-IP rate limits and blocks.
 */
export type TrustProxy = false | number | string[];
export const trustProxy: Parser<TrustProxy> = (raw) => {
  const v = raw.trim().toLowerCase();
  if (v === '' || v === 'false' || v === '0') return false;
  if (v === 'true') {
    throw new Error(
      'true would trust X-Forwarded-For from anyone, so clients could forge their IP; give the hop count or the proxy CIDRs (e.g. 10.0.0.0/8)',
    );
  }
  if (/^\d+$/.test(v)) return int(1, 10)(v);
  const items = list(raw);
  for (const item of items) {
    if (!isCidrOrIp(item)) throw new Error(`"${item}" is not an IP address or CIDR`);
  }
  return items;
};

function isCidrOrIp(s: string): boolean {
  const [addr, bits, ...rest] = s.split('/');
  if (rest.length > 0 || addr === undefined) return false;
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(addr);
  let max: number;
  if (v4) {
    if (v4.slice(1).some((o) => Number(o) > 255)) return false;
    max = 32;
  } else if (/^[0-9a-f:.]+$/i.test(addr) && addr.includes(':')) {
    max = 128;
  } else {
    return false;
  }
  if (bits === undefined) return true;
  return /^\d+$/.test(bits) && Number(bits) <= max;
}

/** A comma-separated list of IP addresses and CIDR ranges (allow and deny lists). */
export const cidrList: Parser<string[]> = (raw) => {
  const items = list(raw);
  for (const item of items) {
    if (!isCidrOrIp(item)) throw new Error(`"${item}" is not an IP address or CIDR`);
  }
  return items;
};

/** RATE_LIMIT_FAIL_CLOSED: policy names, or "none"; unset means the built-in default. */
export const policyNames: Parser<string[]> = (raw) => {
  const items = list(raw);
  if (items.length === 1 && items[0] === 'none') return [];
  for (const item of items) {
    if (!/^[a-z0-9][a-z0-9-]{0,39}$/.test(item)) throw new Error(`"${item}" is not a policy name`);
  }
  return items;
};

/** LOCKOUT_DURATIONS: positive second counts, at most a day each. */
export const durationList: Parser<number[]> = (raw) => {
  const items = list(raw);
  if (items.length === 0 || items.length > 10) throw new Error('must list 1 to 10 durations in seconds');
  return items.map((item) => int(1, 86400)(item));
};

/**
 * MAIL_FROM: "address" or "Name <address>". CR, LF and other control characters are refused: the
 * value goes into the From header of every mail (header injection).
 */
export const mailFrom: Parser<string> = (raw) => {
  const v = raw.trim();
  if (/[\u0000-\u001f\u007f]/.test(v)) throw new Error('must not contain control characters (CR, LF, ...)');
  const address = /<([^<>]+)>$/.exec(v)?.[1] ?? v;
  if (!/^[^\s@<>,;"]+@[^\s@<>,;"]+$/.test(address)) throw new Error('must be an email address or "Name <address>"');
  return v;
};

// ---- the schema ------------------------------------------------------------------------------

export const schema = {
  NODE_ENV: {
    group: 'Server',
    doc: 'development, test or production. production refuses to start on unsafe defaults.',
    default: 'development',
    parse: oneOf(['development', 'test', 'production'] as const),
  },
  HOST: {
    group: 'Server',
    doc: 'Address to listen on. 127.0.0.1 keeps the server private; 0.0.0.0 listens on every interface (containers).',
    default: '127.0.0.1',
    parse: nonEmpty,
  },
  PORT: {
    group: 'Server',
    doc: 'TCP port to listen on (0 picks a free one).',
    default: '3000',
    parse: int(0, 65535),
  },
  PUBLIC_URL: {
    group: 'Server',
    doc: 'The public base URL of this API, used in links (signed media URLs, mails, OpenAPI servers, security.txt). https in production (http only for localhost, 127.0.0.0/8 or [::1]). Unset: http://HOST:PORT as the server really listens (the bound port when PORT=0; HOST 0.0.0.0 becomes 127.0.0.1 and :: becomes [::1]).',
    example: 'https://api.example.com',
    parse: publicBaseUrl,
  },
  API_DOCS: {
    group: 'Server',
    doc: 'The API reference at /docs and /api/openapi.json: public (served to anyone) or off (404). Unset: public outside production, off in production.',
    example: 'public',
    parse: oneOf(['public', 'off'] as const),
  },
  LOG_LEVEL: {
    group: 'Server',
    doc: 'pino log level: fatal, error, warn, info, debug, trace or silent.',
    default: 'info',
    parse: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const),
  },
  DATA_DIR: {
    group: 'Storage',
    doc: 'Folder for everything the embedded mode keeps on disk: the PGlite database, generated secrets, and later files and backups.',
    default: './data',
    parse: nonEmpty,
  },
  DATABASE_URL: {
    group: 'Storage',
    doc: 'PostgreSQL (>= 14) connection URL. Unset: the embedded PGlite database under DATA_DIR/pgdata.',
    example: 'postgres://app:app@127.0.0.1:5432/portfolio',
    parse: url(['postgres', 'postgresql']),
    secret: true,
  },
  DATABASE_POOL_SIZE: {
    group: 'Storage',
    doc: 'Maximum PostgreSQL connections per process.',
    default: '10',
    parse: int(1, 200),
  },
  REDIS_URL: {
    group: 'Storage',
    doc: 'Redis URL for shared limits, blocks and revocations. Unset: in-process memory (one node only).',
    example: 'redis://127.0.0.1:6379/0',
    parse: url(['redis', 'rediss']),
    secret: true,
  },
  KV_PREFIX: {
    group: 'Storage',
    doc: 'Prefix for every key this app writes to Redis, so several apps can share one Redis.',
    default: 'pf:',
    parse: nonEmpty,
  },
  TRUST_PROXY: {
    group: 'HTTP',
    doc: 'Reverse proxies whose X-Forwarded-For is believed: false, a hop count, or proxy IPs/CIDRs (comma-separated). true is refused.',
    default: 'false',
    parse: trustProxy,
  },
  CORS_ORIGINS: {
    group: 'HTTP',
    doc: 'Comma-separated browser origins allowed to call the API (e.g. https://me.example). Empty: no cross-origin access.',
    default: '',
    parse: originList,
  },
  MAX_REQUEST_SIZE: {
    group: 'HTTP',
    doc: 'Largest accepted request body in bytes; larger bodies get 413.',
    default: '10485760',
    parse: int(1024, 1024 * 1024 * 1024),
  },
  JSON_BODY_LIMIT: {
    group: 'HTTP',
    doc: 'Largest accepted JSON body in bytes (JSON is parsed in memory, so this is kept well below MAX_REQUEST_SIZE).',
    default: '1048576',
    parse: int(1024, 64 * 1024 * 1024),
  },
  REQUEST_TIMEOUT: {
    group: 'HTTP',
    doc: 'Seconds a client has to send a whole request (headers and body) before it is cut off.',
    default: '30',
    parse: int(1, 3600),
  },
  SHUTDOWN_TIMEOUT: {
    group: 'HTTP',
    doc: 'Seconds to let in-flight requests finish on SIGTERM before the process exits anyway.',
    default: '10',
    parse: int(1, 600),
  },
  RATE_LIMIT_ENABLED: {
    group: 'Rate limiting',
    doc: 'Rate limiting on or off. Request size limits, timeouts, load shedding and blocks stay on either way.',
    default: 'true',
    parse: bool,
  },
  RATE_LIMIT_PER_MINUTE: {
    group: 'Rate limiting',
    doc: 'Requests per minute per client (IPv4 address or IPv6 /64) across the whole API; also the largest burst.',
    default: '60',
    parse: int(1, 1_000_000),
  },
  RATE_LIMIT_PER_HOUR: {
    group: 'Rate limiting',
    doc: 'Requests per hour per client across the whole API.',
    default: '1000',
    parse: int(1, 10_000_000),
  },
  RATE_LIMIT_LOGIN_PER_MINUTE: {
    group: 'Rate limiting',
    doc: 'Login attempts per minute per client (POST /api/auth/login).',
    default: '5',
    parse: int(1, 100_000),
  },
  RATE_LIMIT_LOGIN_PER_HOUR: {
    group: 'Rate limiting',
    doc: 'Login attempts per hour per client.',
    default: '20',
    parse: int(1, 1_000_000),
  },
  RATE_LIMIT_LOGIN_ACCOUNT_PER_HOUR: {
    group: 'Rate limiting',
    doc: 'Login attempts per hour per account (its one canonical email: trimmed, ASCII, lower-case; other spellings are refused), from all clients together, so one account cannot be brute-forced from many addresses.',
    default: '10',
    parse: int(1, 1_000_000),
  },
  RATE_LIMIT_REGISTER_PER_MINUTE: {
    group: 'Rate limiting',
    doc: 'Registrations per minute per client (POST /api/auth/register).',
    default: '3',
    parse: int(1, 100_000),
  },
  RATE_LIMIT_REGISTER_PER_HOUR: {
    group: 'Rate limiting',
    doc: 'Registrations per hour per client.',
    default: '10',
    parse: int(1, 1_000_000),
  },
  RATE_LIMIT_CONTACT_PER_MINUTE: {
    group: 'Rate limiting',
    doc: 'Contact-form messages per minute per client (POST /api/public/portfolios/:slug/contact).',
    default: '2',
    parse: int(1, 1000),
  },
  RATE_LIMIT_CONTACT_PER_HOUR: {
    group: 'Rate limiting',
    doc: 'Contact-form messages per hour per client.',
    default: '10',
    parse: int(1, 10000),
  },
  RATE_LIMIT_ACCOUNT_MAIL_PER_MINUTE: {
    group: 'Rate limiting',
    doc: 'Password-reset and verification-resend requests per minute per client (POST /api/auth/password/forgot, /api/auth/email/resend); each email also gets at most one such mail a minute.',
    default: '3',
    parse: int(1, 1000),
  },
  RATE_LIMIT_ACCOUNT_MAIL_PER_HOUR: {
    group: 'Rate limiting',
    doc: 'Password-reset and verification-resend requests per hour per client.',
    default: '20',
    parse: int(1, 100000),
  },
  RATE_LIMIT_PORTFOLIOS_PER_MINUTE: {
    group: 'Rate limiting',
    doc: 'Requests per minute to /api/portfolios* per authenticated user (per client when anonymous).',
    default: '60',
    parse: int(1, 1_000_000),
  },
  RATE_LIMIT_PORTFOLIOS_PER_HOUR: {
    group: 'Rate limiting',
    doc: 'Requests per hour to /api/portfolios* per authenticated user (per client when anonymous).',
    default: '1000',
    parse: int(1, 10_000_000),
  },
  RATE_LIMIT_POLICY_FILE: {
    group: 'Rate limiting',
    doc: 'JSON file of extra or changed policies (see docs/rate-limiting.md), read and checked at boot.',
    example: './rate-limits.json',
    parse: policyFileParser,
  },
  RATE_LIMIT_POLICIES: {
    group: 'Rate limiting',
    doc: 'The same JSON inline, applied after RATE_LIMIT_POLICY_FILE (e.g. [{"name":"register","limits":[{"limit":2,"window":60}]}]).',
    example: '[]',
    parse: policyListParser,
  },
  RATE_LIMIT_FAIL_CLOSED: {
    group: 'Rate limiting',
    doc: 'Policies that answer 503 instead of limiting per node in memory while Redis is unreachable, or none. Unset: login and login-account in production, none otherwise.',
    example: 'login,login-account',
    parse: policyNames,
  },
  RATE_LIMIT_STORE_TIMEOUT_MS: {
    group: 'Rate limiting',
    doc: 'Milliseconds a rate-limit decision may wait for Redis before the node switches to its in-memory store.',
    default: '100',
    parse: int(5, 5_000),
  },
  IP_ALLOW_LIST: {
    group: 'Rate limiting',
    doc: 'Client addresses/CIDRs never limited or blocked (e.g. the load balancer health checker). Empty: none.',
    default: '',
    parse: cidrList,
  },
  IP_DENY_LIST: {
    group: 'Rate limiting',
    doc: 'Client addresses/CIDRs always refused with 403 CLIENT_BLOCKED. Empty: none.',
    default: '',
    parse: cidrList,
  },
  AUTO_BLOCK_ENABLED: {
    group: 'Rate limiting',
    doc: 'Block clients that keep violating limits (429, 413, 408), shared by every node through Redis.',
    default: 'true',
    parse: bool,
  },
  AUTO_BLOCK_THRESHOLD: {
    group: 'Rate limiting',
    doc: 'Violations within AUTO_BLOCK_WINDOW that block a client.',
    default: '10',
    parse: int(2, 1000),
  },
  AUTO_BLOCK_WINDOW: {
    group: 'Rate limiting',
    doc: 'Seconds over which violations are counted (a sliding window).',
    default: '600',
    parse: int(1, 7 * 24 * 3600),
  },
  AUTO_BLOCK_DURATION: {
    group: 'Rate limiting',
    doc: 'Seconds a first block lasts; each repeated block within a week doubles it.',
    default: '3600',
    parse: int(1, 30 * 24 * 3600),
  },
  AUTO_BLOCK_MAX_DURATION: {
    group: 'Rate limiting',
    doc: 'Longest block in seconds (the cap of the doubling).',
    default: '86400',
    parse: int(1, 30 * 24 * 3600),
  },
  LOAD_SHED_MAX_EVENT_LOOP_DELAY: {
    group: 'Rate limiting',
    doc: 'Mean event-loop delay in milliseconds above which new requests get 503 with Retry-After (load shedding); 0 turns it off.',
    default: '1000',
    parse: int(0, 60_000),
  },
  METRICS_ALLOW_LIST: {
    group: 'Rate limiting',
    doc: 'Client addresses/CIDRs that may read /metrics (Prometheus) and the details of /health/ready (checks, kinds, backup age); others get 404 for /metrics and only the status from /health/ready.',
    default: '127.0.0.1/32,::1/128',
    parse: cidrList,
  },
  JWT_SECRET: {
    group: 'Authentication',
    doc: 'Key-encryption secret for the JWT signing keys stored in the database (AES-256-GCM), at least 32 characters; every node needs the same value. Unset outside production: generated once and kept in DATA_DIR/secrets.',
    example: 'change-me-to-64-random-characters',
    parse: (raw: string) => {
      if (raw.length < 32) throw new Error('must be at least 32 characters');
      return raw;
    },
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
  AUDIT_SIGNING_KEY: {
    group: 'Audit log',
    doc: 'Ed25519 key that signs audit checkpoints: PKCS#8 PEM, or its 32-byte seed in base64url. Required in production; unset elsewhere: generated once in DATA_DIR/secrets.',
    example: 'base64url-of-32-random-bytes',
    parse: (raw: string) => {
      parseSigningKey(raw);
      return raw.trim();
    },
    secret: true,
  },
  AUDIT_TRUSTED_KEYS: {
    group: 'Audit log',
    doc: 'Public keys of retired audit signing keys (comma-separated base64url, as printed by `audit public-key`), so old checkpoints still verify after a key rotation.',
    default: '',
    parse: parseTrustedKeys,
  },
  AUDIT_CHECKPOINT_EVERY: {
    group: 'Audit log',
    doc: 'Sign a checkpoint of the audit chain at least every this many events.',
    default: '1000',
    parse: int(1, 10_000_000),
  },
  AUDIT_CHECKPOINT_INTERVAL: {
    group: 'Audit log',
    doc: 'Sign a checkpoint at least every this many seconds while new audit events arrive (bounds what a tail truncation could hide).',
    default: '300',
    parse: int(1, 86_400),
  },
  AUDIT_RETENTION_DAYS: {
    group: 'Audit log',
    doc: 'Audit events older than this many days are exported to a verifiable bundle and deleted by `audit prune`.',
    default: '365',
    parse: int(1, 36_500),
  },
  // ---- backups (src/backup/, docs/BACKUP_RECOVERY.md) ----
  BACKUP_DIR: {
    group: 'Backups',
    doc: 'Folder for encrypted backups and their .json metadata. Unset: DATA_DIR/backups.',
    example: '/var/backups/portfolio',
    parse: nonEmpty,
  },
  BACKUP_PASSPHRASE: {
    group: 'Backups',
    doc: 'Passphrase for OpenPGP AES-256 backup encryption (at least 16 characters). Prefer BACKUP_PASSPHRASE_FILE; `backup create` refuses to run with neither nor BACKUP_PUBLIC_KEY_FILE.',
    example: 'a-long-random-passphrase-kept-offline-too',
    parse: (raw: string) => {
      if (raw.length < 16) throw new Error('must be at least 16 characters (it is all that protects the backups)');
      return raw;
    },
    secret: true,
  },
  BACKUP_PASSPHRASE_FILE: {
    group: 'Backups',
    doc: 'File holding the backup passphrase (first line), e.g. a 0600 file or a systemd credential. Do not set both this and BACKUP_PASSPHRASE.',
    example: '/etc/portfolio/backup-passphrase',
    parse: nonEmpty,
  },
  BACKUP_PUBLIC_KEY_FILE: {
    group: 'Backups',
    doc: 'Armored OpenPGP public key(s) to encrypt backups to as well (or instead of a passphrase), so the backup host cannot read old backups.',
    example: '/etc/portfolio/backup-recipients.asc',
    parse: nonEmpty,
  },
  BACKUP_PRIVATE_KEY_FILE: {
    group: 'Backups',
    doc: 'Armored OpenPGP private key used by verify, restore and drill for backups encrypted to a public key.',
    example: '/root/backup-key.asc',
    parse: nonEmpty,
  },
  BACKUP_PRIVATE_KEY_PASSPHRASE: {
    group: 'Backups',
    doc: 'Passphrase that unlocks BACKUP_PRIVATE_KEY_FILE, if the key is protected.',
    example: 'key-passphrase',
    parse: str,
    secret: true,
  },
  BACKUP_COMPRESSION_LEVEL: {
    group: 'Backups',
    doc: 'gzip level of backups, 1 (fast) to 9 (small); 9 saves about 0.2 % over 6 for twice the CPU.',
    default: '6',
    parse: int(1, 9),
  },
  BACKUP_RETENTION_DAYS: {
    group: 'Backups',
    doc: '`backup prune` deletes backups older than this many days (never the newest verified one, never fewer than BACKUP_MIN_KEEP).',
    default: '30',
    parse: int(1, 36_500),
  },
  BACKUP_MIN_KEEP: {
    group: 'Backups',
    doc: 'The newest this many backups are kept whatever their age.',
    default: '7',
    parse: int(1, 10_000),
  },
  BACKUP_RPO_HOURS: {
    group: 'Backups',
    doc: 'Recovery point objective: /health/ready reports the backup check as stale when the newest verified (drilled) backup is older.',
    default: '24',
    parse: int(1, 24 * 365),
  },
  BACKUP_RTO_MINUTES: {
    group: 'Backups',
    doc: 'Recovery time objective: `backup drill` warns when the measured restore takes longer.',
    default: '120',
    parse: int(1, 7 * 24 * 60),
  },
  BACKUP_PG_BIN_DIR: {
    group: 'Backups',
    doc: 'Folder holding pg_dump and psql (e.g. /usr/lib/postgresql/15/bin). Unset: found on PATH. pg_dump must be at least the server version.',
    example: '/usr/lib/postgresql/15/bin',
    parse: nonEmpty,
  },
  BACKUP_S3_PREFIX: {
    group: 'Backups',
    doc: 'Key prefix of backups in AWS_S3_BUCKET.',
    default: 'backups/',
    parse: (raw: string) => {
      const v = raw.trim().replace(/^\/+/, '');
      if (v.split('/').some((s, i, all) => (s === '' && i !== all.length - 1) || s === '..' || s === '.'))
        throw new Error(`"${raw}" is not a key prefix like backups/`);
      return v === '' || v.endsWith('/') ? v : `${v}/`;
    },
  },
  // ---- S3 (backups now, uploads later: src/platform/blob/) ----
  AWS_S3_BUCKET: {
    group: 'S3 storage',
    doc: 'S3 bucket for off-site backups (`backup create --upload-s3`). Unset: S3 is off.',
    example: 'my-portfolio-backups',
    parse: (raw: string) => {
      const v = raw.trim();
      if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(v)) throw new Error(`"${raw}" is not an S3 bucket name`);
      return v;
    },
  },
  AWS_REGION: {
    group: 'S3 storage',
    doc: 'Region of the bucket.',
    default: 'us-east-1',
    parse: nonEmpty,
  },
  AWS_S3_ENDPOINT: {
    group: 'S3 storage',
    doc: 'Endpoint of an S3-compatible store (MinIO, Ceph, ...). Unset: AWS.',
    example: 'https://minio.internal:9000',
    parse: endpointUrl,
  },
  AWS_S3_FORCE_PATH_STYLE: {
    group: 'S3 storage',
    doc: 'Address objects as endpoint/bucket/key (most S3-compatible stores need it).',
    default: 'false',
    parse: bool,
  },
  AWS_S3_SSE: {
    group: 'S3 storage',
    doc: 'Server-side encryption asked for on every upload: AES256 or aws:kms (backups are OpenPGP-encrypted before upload either way).',
    default: 'AES256',
    parse: oneOf(['AES256', 'aws:kms'] as const),
  },
  AWS_S3_KMS_KEY_ID: {
    group: 'S3 storage',
    doc: 'KMS key id or ARN for AWS_S3_SSE=aws:kms. Unset: the bucket default key.',
    example: 'arn:aws:kms:eu-west-1:111122223333:key/abcd-1234',
    parse: nonEmpty,
  },
  AWS_ACCESS_KEY_ID: {
    group: 'S3 storage',
    doc: 'Access key id. Unset: the AWS SDK default chain (profile, instance or task role).',
    example: 'AKIAEXAMPLE',
    parse: nonEmpty,
  },
  AWS_SECRET_ACCESS_KEY: {
    group: 'S3 storage',
    doc: 'Secret access key paired with AWS_ACCESS_KEY_ID.',
    example: 'secret',
    parse: nonEmpty,
    secret: true,
  },
  // ---- mail and account security (src/platform/mail/, src/security/accounts/, docs/ACCOUNT_SECURITY.md) ----
  SMTP_URL: {
    group: 'Mail',
    doc: 'SMTP server for outgoing mail: smtp://user:pass@host:587 (STARTTLS when offered) or smtps://...:465. Unset: each mail is written as an .eml file to DATA_DIR/outbox/.',
    example: 'smtps://mailer:secret@smtp.example.com:465',
    parse: url(['smtp', 'smtps']),
    secret: true,
  },
  MAIL_FROM: {
    group: 'Mail',
    doc: 'Sender of every mail, an address or "Name <address>". Unset: no-reply@ the PUBLIC_URL host.',
    example: 'Portfolio <no-reply@example.com>',
    parse: mailFrom,
  },
  MAIL_MAX_ATTEMPTS: {
    group: 'Mail',
    doc: 'Delivery attempts per mail before it is given up (retries back off exponentially from 30 s to 1 h).',
    default: '12',
    parse: int(1, 50),
  },
  MAIL_POLL_INTERVAL: {
    group: 'Mail',
    doc: 'Seconds between outbox delivery runs of each node (new mails are also sent right away); 0 stops the background worker.',
    default: '5',
    parse: int(0, 3600),
  },
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
  // ---- uploads (src/security/uploads/, src/platform/clamd/, docs/UPLOADS.md) ----
  CLAMAV_URL: {
    group: 'Uploads',
    doc: 'clamd that scans every upload: tcp://host:3310 or unix:///run/clamav/clamd.ctl. Unset: uploads wait in quarantine (status scan_unavailable) until a scanner is configured, unless UPLOAD_SCAN=off.',
    example: 'tcp://127.0.0.1:3310',
    parse: url(['tcp', 'unix']),
  },
  CLAMAV_TIMEOUT: {
    group: 'Uploads',
    doc: 'Seconds one clamd scan may take; a timeout is an error verdict (the file stays quarantined as scan_failed and is retried), never clean.',
    default: '30',
    parse: int(1, 600),
  },
  CLAMAV_MAX_STREAM: {
    group: 'Uploads',
    doc: "Largest stream in bytes sent to clamd; keep it at or below clamd's StreamMaxLength. Larger files are not scannable and stay quarantined.",
    default: '26214400',
    parse: int(1024, 4 * 1024 * 1024 * 1024),
  },
  UPLOAD_SCAN: {
    group: 'Uploads',
    doc: 'on: every upload is scanned by clamd before it is served. off: no scanning, for development only; refused in production.',
    default: 'on',
    parse: oneOf(['on', 'off'] as const),
  },
  UPLOAD_DIR: {
    group: 'Uploads',
    doc: 'Folder for stored media (sanitised files and quarantined originals) when they are not in S3. Unset: DATA_DIR/uploads.',
    example: '/var/lib/portfolio/uploads',
    parse: nonEmpty,
  },
  UPLOAD_STORAGE: {
    group: 'Uploads',
    doc: 'Where media are stored: dir (UPLOAD_DIR), s3 (AWS_S3_BUCKET under UPLOAD_S3_PREFIX, served through S3 presigned URLs), or auto (s3 when AWS_S3_BUCKET is set).',
    default: 'auto',
    parse: oneOf(['auto', 'dir', 's3'] as const),
  },
  UPLOAD_S3_PREFIX: {
    group: 'Uploads',
    doc: 'Key prefix of media in AWS_S3_BUCKET.',
    default: 'media/',
    parse: (raw: string) => {
      const v = raw.trim().replace(/^\/+/, '');
      if (v === '' || v.split('/').some((s, i, all) => (s === '' && i !== all.length - 1) || s === '..' || s === '.'))
        throw new Error(`"${raw}" is not a key prefix like media/`);
      return v.endsWith('/') ? v : `${v}/`;
    },
  },
  UPLOAD_MAX_IMAGE_BYTES: {
    group: 'Uploads',
    doc: 'Largest image upload in bytes (jpeg, png, webp, gif, avif); larger ones get 413.',
    default: '10485760',
    parse: int(1024, 1024 * 1024 * 1024),
  },
  UPLOAD_MAX_DOCUMENT_BYTES: {
    group: 'Uploads',
    doc: 'Largest document (PDF) upload in bytes; larger ones get 413. MAX_REQUEST_SIZE caps every request too, so raise it as well for documents above it.',
    default: '20971520',
    parse: int(1024, 1024 * 1024 * 1024),
  },
  UPLOAD_MAX_PIXELS: {
    group: 'Uploads',
    doc: 'Largest image in pixels (width x height x frames) that is decoded; larger ones (decompression bombs) are refused from their header.',
    default: '40000000',
    parse: int(1, 1_000_000_000),
  },
  UPLOAD_MAX_FRAMES: {
    group: 'Uploads',
    doc: 'Most frames an animated image (GIF, WebP) may have.',
    default: '100',
    parse: int(1, 10_000),
  },
  UPLOAD_URL_TTL: {
    group: 'Uploads',
    doc: 'Seconds a signed media URL stays valid (at most 3600).',
    default: '300',
    parse: int(10, 3600),
  },
  UPLOAD_SIGNING_KEY: {
    group: 'Uploads',
    doc: 'HMAC-SHA256 key for signed media URLs, at least 32 characters; every node needs the same value. Unset: derived from JWT_SECRET (or a key generated once in DATA_DIR/secrets when that is unset too).',
    example: 'change-me-to-64-random-characters',
    parse: (raw: string) => {
      if (raw.length < 32) throw new Error('must be at least 32 characters');
      return raw;
    },
    secret: true,
  },
  UPLOAD_SIGNING_KEY_ID: {
    group: 'Uploads',
    doc: 'Key id put into URLs signed with UPLOAD_SIGNING_KEY, so keys can rotate: give the new key a new id and move the old one to UPLOAD_SIGNING_OLD_KEYS.',
    default: 'k1',
    parse: (raw: string) => {
      const v = raw.trim();
      if (!/^[A-Za-z0-9_-]{1,32}$/.test(v)) throw new Error('must be 1-32 letters, digits, _ or -');
      return v;
    },
  },
  UPLOAD_SIGNING_OLD_KEYS: {
    group: 'Uploads',
    doc: 'Retired signing keys still accepted until their URLs expire: comma-separated id:key pairs.',
    example: 'k0:previous-key-of-at-least-32-characters',
    parse: (raw: string) =>
      list(raw).map((item) => {
        const i = item.indexOf(':');
        const id = item.slice(0, i);
        const key = item.slice(i + 1);
        if (i < 1 || !/^[A-Za-z0-9_-]{1,32}$/.test(id) || key.length < 32)
          throw new Error('each entry must be id:key with a key of at least 32 characters');
        return { id, key };
      }),
    secret: true,
  },
  UPLOAD_RETRY_INTERVAL: {
    group: 'Uploads',
    doc: 'Seconds between background runs that retry failed scans and rescan media after a signature update; 0 stops the worker.',
    default: '60',
    parse: int(0, 86_400),
  },
  // ---- multi-factor authentication (src/security/mfa/, docs/MFA.md) ----
  MFA_ISSUER: {
    group: 'MFA',
    doc: 'Issuer shown by authenticator apps next to the account email (the otpauth:// URI issuer).',
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
    parse: parseOrigins,
  },
  // ---- vulnerability disclosure (RFC 9116 security.txt, see src/http/security-txt.ts) ----
  SECURITY_CONTACT: {
    group: 'Vulnerability disclosure',
    doc: 'security.txt Contact: comma-separated mailto:, https: or tel: URIs for vulnerability reports. Required in production; unset elsewhere: mailto:security@ the PUBLIC_URL host.',
    example: 'mailto:security@example.com',
    parse: contactList,
  },
  SECURITY_TXT_EXPIRES: {
    group: 'Vulnerability disclosure',
    doc: 'security.txt Expires: an ISO 8601 date or date-time at most a year ahead. Required in production and refused there once past; the server warns at boot when under 30 days remain. Unset elsewhere: 90 days from now.',
    example: '2027-06-30T00:00:00Z',
    parse: (raw: string) => expiresInstant(raw),
  },
  SECURITY_POLICY_URL: {
    group: 'Vulnerability disclosure',
    doc: 'security.txt Policy: https URL of the disclosure policy. Unset: PUBLIC_URL/security-policy, where the server publishes SECURITY.md.',
    example: 'https://example.com/security-policy',
    parse: uriOf(['https'], 'Policy'),
  },
  SECURITY_ENCRYPTION_URL: {
    group: 'Vulnerability disclosure',
    doc: 'security.txt Encryption (optional): where to fetch the OpenPGP key for reports, as an https:, openpgp4fpr: or dns: URI.',
    example: 'https://example.com/pgp-key.txt',
    parse: uriOf(['https', 'openpgp4fpr', 'dns'], 'Encryption'),
  },
  SECURITY_ACKNOWLEDGMENTS_URL: {
    group: 'Vulnerability disclosure',
    doc: 'security.txt Acknowledgments (optional): https URL of the page thanking reporters.',
    example: 'https://example.com/hall-of-fame',
    parse: uriOf(['https'], 'Acknowledgments'),
  },
  SECURITY_PREFERRED_LANGUAGES: {
    group: 'Vulnerability disclosure',
    doc: 'security.txt Preferred-Languages: comma-separated language tags reports may be written in.',
    default: 'en',
    parse: languageTags,
  },
} satisfies Record<string, VarSpec<unknown>>;

export type Schema = typeof schema;
export type ConfigKey = keyof Schema;
export type Config = {
  [K in ConfigKey]: Schema[K] extends { default: string }
    ? ReturnType<Schema[K]['parse']>
    : ReturnType<Schema[K]['parse']> | undefined;
};
