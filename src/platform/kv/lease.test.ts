/**
 * The leader lease on both stores (memory always, Redis with TEST_REDIS_URL): one holder at a
 * time, renewals keep it, it runs out after its TTL, only its holder can give it back, and of many
 * holders trying at the same moment exactly one wins.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { TEST_REDIS_URL } from '../../../test/helpers/services.js';
import { MemoryKv, openKv, type Kv } from './index.js';
import { KvLease } from './lease.js';

interface Store {
  kv: Kv;
  /** Lets `ms` pass on the memory store's clock; on Redis (its own time) time is not moved. */
  pass(ms: number): Promise<void>;
  /** Ends the lease as its TTL would: the memory clock moves past it; on Redis the key is dropped. */
  runOut(key: string, ttlMs: number): Promise<void>;
}

const stores: [string, () => Promise<Store>][] = [
  [
    'memory',
    async () => {
      let now = 1_000_000;
      const kv = new MemoryKv({ now: () => now });
      return { kv, pass: async (ms) => void (now += ms), runOut: async (_key, ttl) => void (now += ttl + 1) };
    },
  ],
];
if (TEST_REDIS_URL) {
  stores.push([
    'redis',
    async () => {
      const kv = await openKv({ url: TEST_REDIS_URL, prefix: `test:lease:${randomUUID()}:` });
      return { kv, pass: async () => undefined, runOut: async (key) => void (await kv.del(key)) };
    },
  ]);
}

describe.each(stores)('KvLease on %s', (_name, open) => {
  let store: Store | undefined;
  afterEach(async () => {
    await store?.kv.close();
    store = undefined;
  });

  it('one holder at a time; renewals keep it; it runs out; only the holder releases it', async () => {
    store = await open();
    const ttl = 60_000;
    const a = new KvLease(store.kv, 'job', ttl);
    const b = new KvLease(store.kv, 'job', ttl);
    expect(await a.acquire()).toBe(true);
    expect(await b.acquire()).toBe(false);
    await store.pass(40_000);
    expect(await a.acquire()).toBe(true); // renewed: a fresh TTL
    expect(await store.kv.pttl('job')).toBeGreaterThan(40_000);
    await store.pass(40_000);
    expect(await b.acquire()).toBe(false);
    expect(await b.release()).toBe(false); // not b's to give back
    expect(await a.acquire()).toBe(true);
    const left = await store.kv.pttl('job');
    expect(left > 0 && left <= ttl).toBe(true); // it does run out
    await store.runOut('job', ttl); // a died
    expect(await b.acquire()).toBe(true);
    expect(await a.acquire()).toBe(false);
    expect(await b.release()).toBe(true);
    expect(await a.acquire()).toBe(true);
    expect(await new KvLease(store.kv, 'other-job', ttl).acquire()).toBe(true); // keys are separate
  });

  it('of twenty holders trying at once, exactly one wins', async () => {
    store = await open();
    const kv = store.kv;
    const holders = Array.from({ length: 20 }, () => new KvLease(kv, 'race', 5000));
    const won = await Promise.all(holders.map((h) => h.acquire()));
    expect(won.filter(Boolean)).toHaveLength(1);
  });

  it('refuses a TTL that is not a positive integer of ms', async () => {
    store = await open();
    for (const ttl of [0, -1, 1.5, Number.NaN]) expect(() => new KvLease(store!.kv, 'job', ttl)).toThrow(RangeError);
  });
});
