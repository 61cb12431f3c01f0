/**
 * Token binding: `fgp` is a hash of what identifies the client (User-Agent, address or its
 * network), so a token copied to another machine no longer matches. Which parts count is
 * configurable (TOKEN_BINDING_PARTS), because mobile clients change address often.
 */
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { BindingPart } from '../../config/schema.js';

export interface ClientFacts {
  ip: string;
  userAgent: string;
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

/**
 * Plain comparison: a fingerprint is no secret (it travels inside the token, readable by whoever
 * holds it, and is a hash of facts the client itself sent), so there is nothing for a timing
 * difference to reveal, and this runs on every authenticated request.
 */
export function sameFingerprint(a: string, b: string): boolean {
  return a === b;
}
