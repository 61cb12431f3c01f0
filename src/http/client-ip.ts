/**
 * Client identity: the one value every later stage (rate limits, blocks, violation counting,
 * allow/deny lists, logs) uses to say "this client".
 *
 * Fastify's `request.ip` already applies TRUST_PROXY: it is the socket address, or the
 * right-most X-Forwarded-For entry that was not added by a trusted proxy (proxy-addr walks the
 * chain from the socket outwards). Without a trusted proxy a forged X-Forwarded-For is simply
 * ignored. This module turns that address into:
 *
 * - `request.clientIp`: the address in canonical form. IPv4-mapped IPv6 (`::ffff:192.0.2.1`,
 *   what a dual-stack socket reports for IPv4 clients) becomes plain IPv4, so one client cannot
 *   get two buckets by switching between the two spellings; IPv6 is lower-cased and compressed
 *   (RFC 5952) and loses any zone id.
 * - `request.clientKey`: what limits and blocks are keyed by. IPv4 clients by their address,
 *   IPv6 clients by their /64: a single subscriber is routinely given a whole /64, so keying by
 *   the full address would hand an attacker 2^64 fresh buckets.
 */
import net from 'node:net';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyRequest {
    /** Canonical client address (after TRUST_PROXY); see src/http/client-ip.ts. */
    clientIp: string;
    /** The client's identity for limits and blocks: IPv4 address or IPv6 /64 ("2001:db8:1:2::/64"). */
    clientKey: string;
  }
}

/** Parses an IPv6 address (no zone id) into eight 16-bit groups, or null when invalid. */
function ipv6Groups(address: string): number[] | null {
  if (!net.isIPv6(address)) return null;
  let text = address.toLowerCase();
  // A trailing dotted IPv4 part (::ffff:1.2.3.4, 64:ff9b::1.2.3.4) is two hex groups in disguise.
  const v4 = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4) {
    const [a = 0, b = 0, c = 0, d = 0] = v4.slice(1).map(Number);
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((h) => parseInt(h, 16)));
  const left = parse(halves[0] ?? '');
  let groups = left;
  if (halves.length === 2) {
    const right = parse(halves[1] ?? '');
    const missing = 8 - left.length - right.length;
    if (missing < 1) return null;
    groups = [...left, ...new Array<number>(missing).fill(0), ...right];
  }
  if (groups.length !== 8 || groups.some((g) => !Number.isInteger(g) || g < 0 || g > 0xffff)) return null;
  return groups;
}

/** RFC 5952 text form: lower-case hex, no leading zeros, the longest run of zero groups as "::". */
function formatIpv6(groups: readonly number[]): string {
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < groups.length;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestLen < 2) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/**
 * Canonical form of an address, or null when it is not an IP address at all. IPv4-mapped IPv6
 * becomes IPv4; IPv6 is compressed and lower-cased; a zone id ("%eth0") is dropped.
 */
export function normalizeIp(raw: string): string | null {
  let address = raw.trim();
  if (address.startsWith('[') && address.endsWith(']')) address = address.slice(1, -1);
  const zone = address.indexOf('%');
  if (zone >= 0) address = address.slice(0, zone);
  if (net.isIPv4(address)) return address;
  const groups = ipv6Groups(address);
  if (!groups) return null;
  // ::ffff:a.b.c.d — an IPv4 client seen through a dual-stack socket.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const [hi = 0, lo = 0] = groups.slice(6);
    return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  }
  return formatIpv6(groups);
}

/**
 * The limiting key for a canonical address: IPv4 as is, IPv6 as its /64 network
 * ("2001:db8:1:2::/64"). Input that is not an address is returned unchanged.
 */
export function clientKeyOf(ip: string): string {
  if (net.isIPv4(ip)) return ip;
  const groups = ipv6Groups(ip);
  if (!groups) return ip;
  return `${formatIpv6([...groups.slice(0, 4), 0, 0, 0, 0])}/64`;
}

/**
 * Accepts what an operator or the admin API may give for a client (an address, or a /64 key)
 * and returns its clientKey, or null when it is neither.
 */
export function parseClientKey(text: string): string | null {
  const [address = '', bits, ...rest] = text.trim().split('/');
  if (rest.length > 0) return null;
  const ip = normalizeIp(address);
  if (!ip) return null;
  if (bits === undefined) return clientKeyOf(ip);
  if (net.isIPv6(ip) && bits === '64') return clientKeyOf(ip);
  return null;
}

/**
 * A list of addresses and CIDR ranges (IP_ALLOW_LIST, IP_DENY_LIST, METRICS_ALLOW_LIST), checked
 * with node's BlockList. IPv4-mapped IPv6 entries are normalised like client addresses.
 */
export class IpMatcher {
  private readonly list = new net.BlockList();
  readonly size: number;

  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const [address = '', bits] = entry.split('/');
      const ip = normalizeIp(address);
      if (!ip) throw new Error(`"${entry}" is not an IP address or CIDR`);
      const family = net.isIPv4(ip) ? 'ipv4' : 'ipv6';
      if (bits === undefined) this.list.addAddress(ip, family);
      else this.list.addSubnet(ip, Number(bits), family);
    }
    this.size = entries.length;
  }

  /** True when the (canonical) address is in the list. */
  has(ip: string): boolean {
    if (this.size === 0) return false;
    const family = net.isIPv4(ip) ? 'ipv4' : net.isIPv6(ip) ? 'ipv6' : null;
    return family !== null && this.list.check(ip, family);
  }
}

/**
 * The client address for a request: `request.ip` (TRUST_PROXY already applied) normalised. If
 * a trusted proxy passed something that is not an address (a misconfigured hop count reaching
 * into client-written X-Forwarded-For entries such as "unknown"), the socket address is used:
 * all such clients then share the proxy's bucket, which errs on the side of limiting, never on
 * the side of handing out fresh buckets.
 */
export function clientIpOf(request: Pick<FastifyRequest, 'ip' | 'socket'>): string {
  return normalizeIp(request.ip) ?? normalizeIp(request.socket.remoteAddress ?? '') ?? 'unknown';
}

/** Decorates every request with `clientIp` and `clientKey`, first thing in onRequest. */
export const clientIpPlugin = fp(
  async (app: FastifyInstance) => {
    app.decorateRequest('clientIp', '');
    app.decorateRequest('clientKey', '');
    app.addHook('onRequest', async (request) => {
      const ip = clientIpOf(request);
      request.clientIp = ip;
      request.clientKey = clientKeyOf(ip);
    });
  },
  { name: 'client-ip' },
);
