/**
 * Rate limiting, blocks, load shedding and the metrics allow list (src/security/shield/,
 * docs/shield.md).
 */

import { policyFileParser, policyListParser } from '../../security/shield/policy-spec.js';
import { bool, cidrList, int, list, type Parser, type SchemaSection } from '../parsers.js';

/** RATE_LIMIT_FAIL_CLOSED: policy names, or "none"; unset means the built-in default. */
export const policyNames: Parser<string[]> = (raw) => {
  const items = list(raw);
  if (items.length === 1 && items[0] === 'none') return [];
  for (const item of items) {
    if (!/^[a-z0-9][a-z0-9-]{0,39}$/.test(item)) throw new Error(`"${item}" is not a policy name`);
  }
  return items;
};

export const shieldSchema = {
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
    doc: 'Registrations per minute per client (POST /api/auth/register); invitation acceptances (POST /api/auth/invitations/accept) get the same limits in a bucket of their own.',
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
    doc: 'JSON file of extra or changed policies (see docs/shield.md), read and checked at boot.',
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
} satisfies SchemaSection;
