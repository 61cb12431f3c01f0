/**
 * Who is asking: the one place that reads a request's credentials and client facts. Every module
 * that needs the bearer token, the signed-in actor, the client's address and user agent, or a
 * fingerprint of them asks here, so there is exactly one parser for each (a second, laxer parser
 * is how a check gets bypassed: a `bearer` that one module accepts and another does not).
 *
 * Bottom layer: imports nothing from the features (the Actor shape is a type only).
 */
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { FastifyRequest } from 'fastify';
import type { BindingPart } from '../config/schema.js';
import type { Actor } from '../users/policy.js';
import { httpErrors } from './errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by `app.authenticate` (src/security/tokens/authenticate.ts); null before and on public routes. */
    actor: Actor | null;
  }
}

/** Browser mode's access-token cookie (`__Host-`: host-only, secure, path /). */
export const ACCESS_COOKIE = '__Host-access';

export type BearerToken =
  | { token: string; from: 'header' | 'cookie'; malformed?: false }
  /** An Authorization header that is not `Bearer <token>`: answered like any other bad token. */
  | { token: null; from: 'header'; malformed: true };

/**
 * The access token of a request: the Authorization header (`Bearer`, scheme case-insensitive),
 * else, when cookies are on, the access cookie. Null when there is none.
 */
export function bearerTokenOf(request: FastifyRequest, cookies: boolean): BearerToken | null {
  const header = request.headers.authorization;
  if (typeof header === 'string' && header !== '') {
    const token = header.length > 7 && header.slice(0, 7).toLowerCase() === 'bearer ' ? header.slice(7).trim() : '';
    if (token === '' || /\s/.test(token)) return { token: null, from: 'header', malformed: true };
    return { token, from: 'header' };
  }
  if (cookies) {
    // request.cookies is filled by @fastify/cookie (registered by the tokens plugin).
    const value = request.cookies?.[ACCESS_COOKIE];
    if (value) return { token: value, from: 'cookie' };
  }
  return null;
}

/** The authenticated actor; only call on routes that ran `authenticate`. */
export function actorOf(request: FastifyRequest): Actor {
  if (!request.actor) throw httpErrors.unauthorized();
  return request.actor;
}

/** What identifies the client, as far as the server can tell. */
export interface ClientFacts {
  ip: string;
  userAgent: string;
}

export function clientFactsOf(request: FastifyRequest): ClientFacts {
  const ua = request.headers['user-agent'];
  return { ip: request.clientIp, userAgent: typeof ua === 'string' ? ua : '' };
}

/** The /24 of an IPv4 address or the /48 of an IPv6 one, as text. */
export function networkOf(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  const addr = mapped?.[1] ?? ip;
  if (isIP(addr) === 4) return addr.split('.').slice(0, 3).join('.') + '.0/24';
  if (isIP(addr) === 6) {
    const [head = '', tail = ''] = addr.toLowerCase().split('::');
    const left = head === '' ? [] : head.split(':');
    const right = tail === '' ? [] : tail.split(':');
    const groups = addr.includes('::')
      ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right]
      : left;
    return (
      groups
        .slice(0, 3)
        .map((g) => g.replace(/^0+(?=.)/, ''))
        .join(':') + '::/48'
    );
  }
  return addr;
}

/** Every part: what an MFA challenge is bound to (the same client that typed the password). */
export const ALL_BINDING_PARTS: readonly BindingPart[] = ['ua', 'ip'];

/**
 * The one client fingerprint: a hash of the chosen parts of the client's facts. Tokens bind to
 * the parts TOKEN_BINDING_PARTS names (mobile clients change address often); MFA challenges to
 * address and user agent. Not a secret: it travels inside tokens and hashes what the client sent.
 */
export function fingerprint(parts: readonly BindingPart[], client: ClientFacts): string {
  const hash = createHash('sha256');
  hash.update('fgp-v1');
  for (const part of parts) {
    const value = part === 'ua' ? client.userAgent : part === 'ip' ? client.ip : networkOf(client.ip);
    // Length-prefixed, so no two different inputs can concatenate to the same bytes.
    hash.update(`\n${part}:${value.length}:${value}`);
  }
  return hash.digest('base64url').slice(0, 32);
}

/** The fingerprint of this request's client over `parts` (all of them by default: MFA challenges). */
export function clientFingerprintOf(
  request: FastifyRequest,
  parts: readonly BindingPart[] = ALL_BINDING_PARTS,
): string {
  return fingerprint(parts, clientFactsOf(request));
}
