/**
 * Spoofing: a client must not be able to choose its own rate-limit key. Without a trusted proxy
 * X-Forwarded-For is ignored; with one, only the right-most hop the proxy did not vouch for
 * counts (entries to its left were written by the client). IPv4-mapped IPv6 is the same client
 * as plain IPv4, and an IPv6 client is keyed by its /64, which one subscriber typically owns.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../test/helpers/app.js';
import { IpMatcher, clientKeyOf, normalizeIp, parseClientKey } from './client-ip.js';

describe('normalizeIp / clientKeyOf', () => {
  it.each([
    ['::ffff:192.0.2.1', '192.0.2.1', '192.0.2.1'],
    ['::FFFF:c000:0201', '192.0.2.1', '192.0.2.1'],
    ['203.0.113.9', '203.0.113.9', '203.0.113.9'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1', '2001:db8::/64'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:0db8:0001:0002:ffff:0:0:1', '2001:db8:1:2:ffff::1', '2001:db8:1:2::/64'],
    ['fe80::1%eth0', 'fe80::1', 'fe80::/64'],
    ['[::1]', '::1', '::/64'],
    ['2001:db8:0:1:0:0:1:0', '2001:db8:0:1::1:0', '2001:db8:0:1::/64'],
  ])('%s → %s keyed %s', (raw, ip, key) => {
    expect(normalizeIp(raw)).toBe(ip);
    expect(clientKeyOf(ip)).toBe(key);
  });

  it('rejects what is not an address', () => {
    for (const raw of ['', 'unknown', '1.2.3', '999.1.1.1', '1.2.3.4:80', '2001:db8::1::2', 'gggg::1'])
      expect(normalizeIp(raw)).toBeNull();
  });

  it('parses admin input into the same client key', () => {
    expect(parseClientKey('2001:db8:1:2::/64')).toBe('2001:db8:1:2::/64');
    expect(parseClientKey('2001:db8:1:2:aa:bb:cc:dd')).toBe('2001:db8:1:2::/64');
    expect(parseClientKey('::ffff:10.0.0.1')).toBe('10.0.0.1');
    expect(parseClientKey('10.0.0.1/32')).toBeNull();
    expect(parseClientKey('nonsense')).toBeNull();
  });

  it('matches CIDR lists for both families, IPv4-mapped entries included', () => {
    const m = new IpMatcher(['10.0.0.0/8', '2001:db8::/32', '::ffff:192.0.2.7']);
    expect(m.has('10.20.30.40')).toBe(true);
    expect(m.has('11.0.0.1')).toBe(false);
    expect(m.has('2001:db8:ffff::1')).toBe(true);
    expect(m.has('2001:db9::1')).toBe(false);
    expect(m.has('192.0.2.7')).toBe(true);
    expect(new IpMatcher([]).has('10.0.0.1')).toBe(false);
  });
});

describe('client identity over HTTP', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  const limited = { RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_PER_MINUTE: '5', AUTO_BLOCK_ENABLED: 'false' };

  async function statuses(app: TestApp['app'], requests: { remoteAddress: string; xff?: string }[]): Promise<number[]> {
    const out: number[] = [];
    for (const r of requests) {
      const res = await app.inject({
        method: 'GET',
        url: '/health/live',
        remoteAddress: r.remoteAddress,
        headers: r.xff === undefined ? {} : { 'x-forwarded-for': r.xff },
      });
      out.push(res.statusCode);
    }
    return out;
  }

  it('without a trusted proxy, a forged X-Forwarded-For does not change the client key', async () => {
    t = await buildTestApp(limited);
    const forged = Array.from({ length: 8 }, (_, i) => ({ remoteAddress: '198.51.100.7', xff: `203.0.113.${i}` }));
    expect(await statuses(t.app, forged)).toEqual([200, 200, 200, 200, 200, 429, 429, 429]);
  });

  it('with trusted proxies (CIDR list), only the right-most untrusted hop counts', async () => {
    t = await buildTestApp({ ...limited, TRUST_PROXY: '10.0.0.0/8' });
    // The client forges the left part; the proxies append what they saw on the right.
    const viaProxies = Array.from({ length: 7 }, (_, i) => ({
      remoteAddress: '10.0.0.2',
      xff: `1.1.1.${i}, 203.0.113.50, 10.0.0.9`,
    }));
    expect(await statuses(t.app, viaProxies)).toEqual([200, 200, 200, 200, 200, 429, 429]);
    // Another real client behind the same proxies has its own bucket.
    expect(await statuses(t.app, [{ remoteAddress: '10.0.0.2', xff: '203.0.113.51' }])).toEqual([200]);
    // A connection not from a trusted proxy cannot use the header at all.
    const direct = Array.from({ length: 6 }, (_, i) => ({
      remoteAddress: '198.51.100.9',
      xff: `203.0.113.${100 + i}`,
    }));
    expect(await statuses(t.app, direct)).toEqual([200, 200, 200, 200, 200, 429]);
  });

  it('with a hop count, the address that many hops from the socket counts', async () => {
    t = await buildTestApp({ ...limited, TRUST_PROXY: '1' });
    const requests = Array.from({ length: 6 }, (_, i) => ({
      remoteAddress: '127.0.0.1',
      xff: `9.9.9.${i}, 203.0.113.60`,
    }));
    expect(await statuses(t.app, requests)).toEqual([200, 200, 200, 200, 200, 429]);
  });

  it('IPv4-mapped IPv6 and plain IPv4 are one client', async () => {
    t = await buildTestApp(limited);
    const mixed = Array.from({ length: 6 }, (_, i) => ({
      remoteAddress: i % 2 === 0 ? '::ffff:192.0.2.33' : '192.0.2.33',
    }));
    expect(await statuses(t.app, mixed)).toEqual([200, 200, 200, 200, 200, 429]);
  });

  it('1000 distinct IPv6 addresses in one /64 share one bucket', async () => {
    t = await buildTestApp({ RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_PER_MINUTE: '60', AUTO_BLOCK_ENABLED: 'false' });
    const requests = Array.from({ length: 1000 }, (_, i) => ({
      remoteAddress: `2001:db8:77:1:${(i >> 8).toString(16)}:${(i & 0xff).toString(16)}:${(i * 7).toString(16)}:1`,
    }));
    const result = await statuses(t.app, requests);
    expect(result.filter((s) => s === 200)).toHaveLength(60);
    expect(result.filter((s) => s === 429)).toHaveLength(940);
    // The next /64 is another client.
    expect(await statuses(t.app, [{ remoteAddress: '2001:db8:77:2::1' }])).toEqual([200]);
  });
});
