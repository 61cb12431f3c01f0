/**
 * The cache's own rules, without a database: the memory budget, expiry with the signed links,
 * the staleness bound, and the race where an eviction overtakes a build in flight.
 */
import { describe, expect, it } from 'vitest';
import { PreparedBody } from '../../http/http-cache.js';
import { PublicReadCache, type CacheEntry } from './cache.js';

let now = 1_000_000;
const cache = (maxBytes = 1024 * 1024, maxStalenessMs = 2000) =>
  new PublicReadCache({ maxBytes, maxStalenessMs, now: () => now });

const entry = (portfolioId: string, bytes = 100, extra: Partial<CacheEntry> = {}): CacheEntry => ({
  portfolioId,
  version: '1',
  body: new PreparedBody('x'.repeat(bytes)),
  verifiedAt: now,
  expiresAt: Infinity,
  linksExpireAt: Infinity,
  ...extra,
});

describe('PublicReadCache', () => {
  it('keeps within its memory budget, dropping the least recently used first', () => {
    const c = cache(10_000);
    c.store('a', entry('p1', 3000), c.begin());
    c.store('b', entry('p2', 3000), c.begin());
    expect(c.get('a')).toBeDefined(); // a is now the most recently used
    c.store('c', entry('p3', 3000), c.begin());
    expect(c.size).toBe(2);
    expect(c.get('b')).toBeUndefined();
    expect(c.get('a')).toBeDefined();
    expect(c.get('c')).toBeDefined();
    // An answer bigger than the whole budget is never kept.
    c.store('huge', entry('p4', 20_000), c.begin());
    expect(c.get('huge')).toBeUndefined();
  });

  it('size 0 keeps nothing', () => {
    const c = cache(0);
    c.store('a', entry('p1'), c.begin());
    expect(c.get('a')).toBeUndefined();
    expect(c.enabled).toBe(false);
  });

  it('an eviction that overtakes a build of the same portfolio stops it from being kept; others are kept', () => {
    const c = cache();
    const started = c.begin();
    c.evict(['p1']);
    c.store('a', entry('p1'), started);
    expect(c.get('a')).toBeUndefined();
    c.store('b', entry('p2'), started);
    expect(c.get('b')).toBeDefined();
    // A build that began after the eviction is kept.
    c.store('a', entry('p1'), c.begin());
    expect(c.get('a')).toBeDefined();
  });

  it('evicts every entry of a portfolio (all languages, slug and default routes)', () => {
    const c = cache();
    for (const key of ['s:x\nl:en', 's:x\nl:es', 'default\na:']) c.store(key, entry('p1'), c.begin());
    c.store('s:y\nl:en', entry('p2'), c.begin());
    c.evict(['p1']);
    expect(c.size).toBe(1);
    expect(c.get('s:y\nl:en')).toBeDefined();
  });

  it('an entry is not served past its expiry (half the link lifetime left)', () => {
    const c = cache();
    c.store('a', entry('p1', 100, { expiresAt: now + 5000 }), c.begin());
    now += 4999;
    expect(c.get('a')).toBeDefined();
    now += 1;
    expect(c.get('a')).toBeUndefined();
    expect(c.size).toBe(0);
  });

  it('past the staleness bound an entry needs the database to confirm it', () => {
    const c = cache(1024 * 1024, 2000);
    const e = entry('p1');
    c.store('a', e, c.begin());
    now += 2000;
    expect(c.needsCheck(e)).toBe(false);
    now += 1;
    expect(c.needsCheck(e)).toBe(true);
    c.confirmed(e);
    expect(c.needsCheck(e)).toBe(false);
  });
});
