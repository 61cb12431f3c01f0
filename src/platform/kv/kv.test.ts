import { createHash, randomUUID } from 'node:crypto';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KvUnavailableError, MemoryKv, compareAndSet, compareAndSetScript, openKv } from './index.js';
import { RedisKv } from './redis.js';
import type { Kv, KvScript } from './index.js';

const REDIS_URL = process.env.TEST_REDIS_URL;

/** What each contract test gets: a fresh store and a way to let time pass for TTLs. */
interface Harness {
  kv: Kv;
  /** Fake clock for memory, real sleep for Redis (TTLs used with it are tiny). */
  advance(ms: number): Promise<void>;
  /** Errors reported through onError (subscriber handlers, connection problems). */
  errors: unknown[];
  cleanup(): Promise<void>;
}

/** Collects messages from a subscription and lets a test wait for the next one. */
class Inbox {
  readonly messages: string[] = [];
  private waiters: ((message: string) => void)[] = [];
  readonly push = (message: string): void => {
    this.messages.push(message);
    for (const wake of this.waiters.splice(0)) wake(message);
  };
  /** Resolves with the message at `index` (default: the next not yet seen by the test). */
  async wait(index: number, timeoutMs = 2_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (this.messages.length <= index) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`no message #${index} within ${timeoutMs}ms`);
      await Promise.race([new Promise<string>((resolve) => this.waiters.push(resolve)), sleep(remaining)]);
    }
    return this.messages[index] as string;
  }
}

/** Exercises every MemoryOps call, so the memory twin is checked against real Redis. */
const hashProbeScript: KvScript<{ value: string | null; missing: string | null; ttlSet: boolean; deleted: boolean }> = {
  name: 'test.hashProbe',
  lua: `
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local value = redis.call('HGET', KEYS[1], ARGV[1])
local missing = redis.call('HGET', KEYS[1], 'absent')
redis.call('PEXPIRE', KEYS[1], ARGV[3])
local ttl = redis.call('PTTL', KEYS[1])
local deleted = redis.call('DEL', KEYS[2])
return {value, missing, ttl > 0 and 1 or 0, deleted}`,
  parse: (raw) => {
    const [value, missing, ttlSet, deleted] = raw as [string | null, string | null, number, number];
    return { value, missing, ttlSet: ttlSet === 1, deleted: deleted === 1 };
  },
  memory: (store, keys, args) => {
    const [hash = '', other = ''] = keys;
    const [field = '', value = '', ttl = ''] = args;
    store.hset(hash, field, value);
    const stored = store.hget(hash, field);
    const missing = store.hget(hash, 'absent');
    store.pexpire(hash, Number(ttl));
    return { value: stored, missing, ttlSet: store.pttl(hash) > 0, deleted: store.del(other) };
  },
};

const failingScript: KvScript<never> = {
  name: 'test.failing',
  lua: `error('boom from lua')`,
  parse: () => {
    throw new Error('unreachable');
  },
  memory: () => {
    throw new Error('boom from memory');
  },
};

function contract(name: string, factory: () => Promise<Harness>): void {
  describe(`Kv contract: ${name}`, () => {
    let h: Harness;
    let kv: Kv;

    beforeEach(async () => {
      h = await factory();
      kv = h.kv;
    });
    afterEach(async () => {
      await h.cleanup();
    });

    it('gets, sets and deletes', async () => {
      expect(await kv.get('a')).toBeNull();
      expect(await kv.set('a', '1')).toBe(true);
      expect(await kv.get('a')).toBe('1');
      expect(await kv.set('a', '2')).toBe(true);
      expect(await kv.get('a')).toBe('2');
      await kv.set('b', 'x');
      expect(await kv.del('a', 'b', 'never')).toBe(2);
      expect(await kv.del()).toBe(0);
      expect(await kv.get('a')).toBeNull();
    });

    it('only writes with nx when the key is absent', async () => {
      expect(await kv.set('n', 'first', { nx: true })).toBe(true);
      expect(await kv.set('n', 'second', { nx: true, ttlMs: 10_000 })).toBe(false);
      expect(await kv.get('n')).toBe('first');
      expect(await kv.pttl('n')).toBe(-1);
      await kv.del('n');
      expect(await kv.set('n', 'third', { nx: true })).toBe(true);
      expect(await kv.get('n')).toBe('third');
    });

    it('expires keys after their ttl', async () => {
      await kv.set('t', 'v', { ttlMs: 50 });
      expect(await kv.get('t')).toBe('v');
      await h.advance(120);
      expect(await kv.get('t')).toBeNull();
      expect(await kv.pttl('t')).toBe(-2);
      // An expired key is absent for nx as well.
      expect(await kv.set('t', 'again', { nx: true })).toBe(true);
    });

    it('reports pttl like Redis: remaining ms, -1 without expiry, -2 when absent', async () => {
      await kv.set('ttl', 'v', { ttlMs: 10_000 });
      const remaining = await kv.pttl('ttl');
      expect(remaining).toBeGreaterThan(9_000);
      expect(remaining).toBeLessThanOrEqual(10_000);
      await kv.set('plain', 'v');
      expect(await kv.pttl('plain')).toBe(-1);
      expect(await kv.pttl('absent')).toBe(-2);
      // A plain SET drops the old TTL, as in Redis.
      await kv.set('ttl', 'v2');
      expect(await kv.pttl('ttl')).toBe(-1);
    });

    it('rejects ttls Redis would reject, without writing', async () => {
      await expect(kv.set('bad', 'v', { ttlMs: 0 })).rejects.toThrow(RangeError);
      await expect(kv.set('bad', 'v', { ttlMs: 1.5 })).rejects.toThrow(RangeError);
      await expect(kv.incr('bad', 1, -5)).rejects.toThrow(RangeError);
      await expect(kv.incr('bad', 0.5)).rejects.toThrow(RangeError);
      expect(await kv.get('bad')).toBeNull();
    });

    it('increments, giving only a new key the ttl', async () => {
      expect(await kv.incr('c', 1, 10_000)).toBe(1);
      const first = await kv.pttl('c');
      expect(first).toBeGreaterThan(9_000);
      expect(await kv.incr('c', 5, 999_999)).toBe(6);
      // The window keeps its original end; a later hit must not extend it.
      expect(await kv.pttl('c')).toBeLessThanOrEqual(first);
      expect(await kv.get('c')).toBe('6');

      expect(await kv.incr('plain')).toBe(1);
      expect(await kv.incr('plain', -3)).toBe(-2);
      expect(await kv.pttl('plain')).toBe(-1);

      await kv.set('word', 'abc');
      await expect(kv.incr('word')).rejects.toThrow(/not an integer/);
    });

    it('restarts a counter after it expired', async () => {
      expect(await kv.incr('w', 1, 50)).toBe(1);
      expect(await kv.incr('w', 1, 50)).toBe(2);
      await h.advance(120);
      expect(await kv.incr('w', 1, 50)).toBe(1);
      expect(await kv.pttl('w')).toBeGreaterThan(0);
    });

    it('lists keys by literal prefix, without expired ones', async () => {
      await kv.set('user:1', 'a');
      await kv.set('user:2', 'b');
      await kv.set('users', 'c');
      await kv.set('other', 'd');
      await kv.set('user:gone', 'e', { ttlMs: 50 });
      await kv.set('a*b', 'f');
      await kv.set('axb', 'g');
      await h.advance(120);
      expect(await kv.keys('user:')).toEqual(['user:1', 'user:2']);
      expect(await kv.keys('user')).toEqual(['user:1', 'user:2', 'users']);
      // Glob characters in the prefix match only themselves.
      expect(await kv.keys('a*')).toEqual(['a*b']);
      expect(await kv.keys('nothing')).toEqual([]);
      expect(await kv.keys('')).toEqual(['a*b', 'axb', 'other', 'user:1', 'user:2', 'users']);
    });

    it('runs compare-and-set atomically with the same answers', async () => {
      expect(await compareAndSet(kv, 'cas', 'a', 'b')).toBe(false);
      expect(await kv.get('cas')).toBeNull();

      await kv.set('cas', 'a', { ttlMs: 10_000 });
      expect(await kv.run(compareAndSetScript, ['cas'], ['a', 'b'])).toBe(true);
      expect(await kv.get('cas')).toBe('b');
      // Without a new ttl the key keeps its remaining one: never made permanent by accident.
      const kept = await kv.pttl('cas');
      expect(kept).toBeGreaterThan(9_000);
      expect(kept).toBeLessThanOrEqual(10_000);

      expect(await compareAndSet(kv, 'cas', 'a', 'c')).toBe(false);
      expect(await kv.get('cas')).toBe('b');

      expect(await compareAndSet(kv, 'cas', 'b', 'c', 60_000)).toBe(true);
      expect(await kv.pttl('cas')).toBeGreaterThan(50_000);

      await kv.set('forever', 'x');
      expect(await compareAndSet(kv, 'forever', 'x', 'y')).toBe(true);
      expect(await kv.pttl('forever')).toBe(-1);

      // An invalid ttl fails before anything is written.
      await expect(kv.run(compareAndSetScript, ['cas'], ['c', 'd', 0])).rejects.toThrow();
      await expect(kv.run(compareAndSetScript, ['cas'], ['c', 'd', '1e3'])).rejects.toThrow();
      expect(await kv.get('cas')).toBe('c');
    });

    it('gives scripts hashes, pexpire, pttl and del with the same semantics', async () => {
      await kv.set('other', 'x');
      const result = await kv.run(hashProbeScript, ['h', 'other'], ['field', 'value', 10_000]);
      expect(result).toEqual({ value: 'value', missing: null, ttlSet: true, deleted: true });
      expect(await kv.pttl('h')).toBeGreaterThan(9_000);
      // Strings and hashes do not mix, on either store.
      await expect(kv.get('h')).rejects.toThrow(/WRONGTYPE/);
      await expect(kv.incr('h')).rejects.toThrow(/WRONGTYPE/);
      await expect(compareAndSet(kv, 'h', 'a', 'b')).rejects.toThrow(/WRONGTYPE/);
      expect(await kv.keys('')).toEqual(['h']);
    });

    it('propagates errors raised by a script', async () => {
      await expect(kv.run(failingScript, ['k'], [])).rejects.toThrow(/boom from/);
      // The store stays usable afterwards.
      expect(await kv.set('k', 'v')).toBe(true);
    });

    it('delivers published messages and stops after unsubscribe', async () => {
      const first = new Inbox();
      const second = new Inbox();
      const unsubscribeFirst = await kv.subscribe('events', first.push);
      const unsubscribeSecond = await kv.subscribe('events', second.push);
      const others = new Inbox();
      await kv.subscribe('other', others.push);

      await kv.publish('events', 'one');
      expect(await first.wait(0)).toBe('one');
      expect(await second.wait(0)).toBe('one');

      await unsubscribeFirst();
      await unsubscribeFirst(); // idempotent
      await kv.publish('events', 'two');
      expect(await second.wait(1)).toBe('two');
      // Both were dispatched for the same message, so had the first still been subscribed
      // it would have it by now.
      expect(first.messages).toEqual(['one']);

      await unsubscribeSecond();
      await kv.publish('events', 'three');
      await kv.publish('other', 'marker');
      // Messages arrive in publish order, so once the marker is in, 'three' was dropped.
      expect(await others.wait(0)).toBe('marker');
      expect(second.messages).toEqual(['one', 'two']);
      expect(others.messages).toEqual(['marker']);
    });

    it('keeps delivering when a handler throws', async () => {
      const inbox = new Inbox();
      await kv.subscribe('c', () => {
        throw new Error('handler bug');
      });
      await kv.subscribe('c', inbox.push);
      await kv.publish('c', 'm');
      expect(await inbox.wait(0)).toBe('m');
      expect(h.errors).toHaveLength(1);
      expect(String(h.errors[0])).toMatch(/handler bug/);
    });

    it('pings, and refuses work after close', async () => {
      await expect(kv.ping()).resolves.toBeUndefined();
      await kv.close();
      await expect(kv.get('x')).rejects.toThrow();
      await kv.close(); // idempotent
    });
  });
}

contract('memory', async () => {
  let clock = 1_000_000;
  const errors: unknown[] = [];
  const kv = new MemoryKv({ now: () => clock, onError: (error) => errors.push(error) });
  return {
    kv,
    errors,
    advance: async (ms) => {
      clock += ms;
    },
    cleanup: () => kv.close(),
  };
});

describe('MemoryKv specifics', () => {
  let clock = 0;
  let kv: MemoryKv;
  beforeEach(() => {
    clock = 0;
    kv = new MemoryKv({ now: () => clock, sweepIntervalMs: 0 });
  });
  afterEach(async () => {
    await kv.close();
  });

  it('expires exactly at the ttl boundary', async () => {
    await kv.set('k', 'v', { ttlMs: 100 });
    clock = 99;
    expect(await kv.pttl('k')).toBe(1);
    expect(await kv.get('k')).toBe('v');
    clock = 100;
    expect(await kv.get('k')).toBeNull();
  });

  it('sweeps expired keys nobody reads again', async () => {
    await kv.set('a', 'v', { ttlMs: 10 });
    await kv.set('b', 'v', { ttlMs: 1_000 });
    await kv.set('c', 'v');
    clock = 500;
    expect(kv.size).toBe(3);
    kv.sweep();
    expect(kv.size).toBe(2);
  });

  it('delivers asynchronously, never inside publish', async () => {
    let called = false;
    await kv.subscribe('c', () => {
      called = true;
    });
    const publishing = kv.publish('c', 'm');
    expect(called).toBe(false);
    await publishing;
    await Promise.resolve();
    expect(called).toBe(true);
  });

  it('passes the injected clock and string args to scripts', async () => {
    clock = 1234;
    const seen: unknown[] = [];
    const probe: KvScript<number> = {
      name: 'test.probe',
      lua: 'return 0',
      parse: Number,
      memory: (_store, keys, args, nowMs) => {
        seen.push(keys, args, nowMs);
        return 0;
      },
    };
    await kv.run(probe, ['k'], [1, 'two']);
    expect(seen).toEqual([['k'], ['1', 'two'], 1234]);
  });
});

describe('openKv', () => {
  it('returns the memory store without a URL', async () => {
    const kv = await openKv({ prefix: 'pf:' });
    expect(kv.kind).toBe('memory');
    await kv.close();
  });

  it('fails fast with a clear message that leaves out the password', async () => {
    const started = Date.now();
    const error: unknown = await openKv({ url: 'redis://user:s3cr3t-pw@127.0.0.1:1', prefix: 'pf:' }).catch(
      (err: unknown) => err,
    );
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toMatch(/^Redis at 127\.0\.0\.1:1 is not reachable: .*ECONNREFUSED/);
    expect(message).not.toContain('s3cr3t');
    expect((error as Error).cause).toBeUndefined();
  });

  it('does not echo an invalid URL (it may hold a password)', async () => {
    await expect(openKv({ url: 'redis://:pw-in-url@host:notaport', prefix: 'pf:' })).rejects.toThrow(
      /^REDIS_URL is not a valid URL$/,
    );
  });
});

describe('RedisKv without a server', () => {
  it('fails ping() and get() quickly instead of hanging or queueing', async () => {
    const errors: Error[] = [];
    const kv = new RedisKv({ url: 'redis://127.0.0.1:1', keyPrefix: 'pf:', onError: (e) => errors.push(e) });
    try {
      let started = Date.now();
      await expect(kv.ping()).rejects.toBeInstanceOf(KvUnavailableError);
      expect(Date.now() - started).toBeLessThan(1_000);
      started = Date.now();
      await expect(kv.get('k')).rejects.toBeInstanceOf(KvUnavailableError);
      await expect(kv.run(compareAndSetScript, ['k'], ['a', 'b'])).rejects.toBeInstanceOf(KvUnavailableError);
      expect(Date.now() - started).toBeLessThan(1_000);
      // Reported once through onError rather than as an unhandled 'error' event.
      expect(errors.length).toBe(1);
    } finally {
      await kv.close();
    }
  });

  it('closes a store that never connected', async () => {
    const kv = new RedisKv({ url: 'redis://127.0.0.1:1' });
    await kv.close();
    await expect(kv.get('k')).rejects.toBeInstanceOf(KvUnavailableError);
  });
});

describe.skipIf(!REDIS_URL)('Redis', () => {
  const url = REDIS_URL ?? '';
  // One random namespace per run; each test gets its own prefix below it.
  const runPrefix = `kvtest:${randomUUID()}:`;
  let raw: Redis;

  beforeAll(async () => {
    raw = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    raw.on('error', () => {});
    // TEST_REDIS_URL set but Redis down must fail the run, not skip it.
    await raw.connect().catch((error: unknown) => {
      throw new Error(`TEST_REDIS_URL is set but Redis is not reachable: ${String(error)}`);
    });
  });

  afterAll(async () => {
    if (raw.status !== 'ready') {
      raw.disconnect();
      return;
    }
    // Sweep anything a failed test left behind under this run's namespace.
    let cursor = '0';
    do {
      const [next, keys] = await raw.scan(cursor, 'MATCH', `${runPrefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await raw.del(...keys);
    } while (cursor !== '0');
    await raw.quit();
  });

  contract('redis', async () => {
    const errors: unknown[] = [];
    const kv = new RedisKv({ url, keyPrefix: `${runPrefix}${randomUUID()}:`, onError: (e) => errors.push(e) });
    await kv.connect();
    await kv.ping();
    return {
      kv,
      errors,
      advance: (ms) => sleep(ms),
      cleanup: async () => {
        // A test may have closed it already; deleting then is the afterAll sweep's job.
        try {
          const keys = await kv.keys('');
          await kv.del(...keys);
        } catch {
          // closed
        }
        await kv.close();
      },
    };
  });

  describe('RedisKv specifics', () => {
    let prefix: string;
    let kv: RedisKv;
    beforeEach(async () => {
      prefix = `${runPrefix}${randomUUID()}:`;
      kv = new RedisKv({ url, keyPrefix: prefix });
      await kv.connect();
    });
    afterEach(async () => {
      await kv.close();
    });

    it('is what openKv returns for a URL', async () => {
      const opened = await openKv({ url, prefix });
      try {
        expect(opened.kind).toBe('redis');
        await opened.set('via-open', 'v');
        expect(await raw.get(`${prefix}via-open`)).toBe('v');
      } finally {
        await opened.close();
      }
    });

    it('stores keys, script KEYS and channels under the prefix', async () => {
      await kv.set('plain', '1');
      await kv.set('cas', 'a');
      expect(await compareAndSet(kv, 'cas', 'a', 'b')).toBe(true);
      expect(await raw.get(`${prefix}plain`)).toBe('1');
      expect(await raw.get(`${prefix}cas`)).toBe('b');
      expect(await raw.exists('plain', 'cas')).toBe(0);

      const sub = raw.duplicate();
      sub.on('error', () => {});
      try {
        const received = new Promise<string>((resolve) => sub.on('message', (channel: string) => resolve(channel)));
        await sub.subscribe(`${prefix}chan`);
        await kv.publish('chan', 'hi');
        expect(await received).toBe(`${prefix}chan`);
      } finally {
        sub.disconnect();
      }
    });

    it('does not see another prefix', async () => {
      const neighbour = new RedisKv({ url, keyPrefix: `${runPrefix}${randomUUID()}:` });
      try {
        await neighbour.set('shared', 'theirs');
        const inbox = new Inbox();
        await kv.subscribe('chan', inbox.push);
        await neighbour.publish('chan', 'theirs');
        await kv.publish('chan', 'ours');
        expect(await inbox.wait(0)).toBe('ours');
        expect(await kv.get('shared')).toBeNull();
        expect(await kv.keys('')).toEqual([]);
        await neighbour.del('shared');
      } finally {
        await neighbour.close();
      }
    });

    it('falls back to EVAL after SCRIPT FLUSH (NOSCRIPT)', async () => {
      await kv.set('cas', 'a');
      expect(await compareAndSet(kv, 'cas', 'a', 'b')).toBe(true);
      await raw.script('FLUSH');
      expect(await compareAndSet(kv, 'cas', 'b', 'c')).toBe(true);
      // EVAL cached the body again, so the next call is a plain EVALSHA hit.
      const sha = createHash('sha1').update(compareAndSetScript.lua).digest('hex');
      expect(await raw.script('EXISTS', sha)).toEqual([1]);
      expect(await kv.incr('n', 1, 10_000)).toBe(1);
      await raw.script('FLUSH');
      expect(await kv.incr('n', 1, 10_000)).toBe(2);
      expect(await kv.get('cas')).toBe('c');
    });

    it('times out a command when Redis stalls instead of hanging', async () => {
      const proxy = await stallingProxy(url);
      const slow = new RedisKv({ url: proxy.url, keyPrefix: prefix, onError: () => {} });
      try {
        await slow.connect();
        await slow.ping();
        proxy.stall();
        const started = Date.now();
        await expect(slow.get('k')).rejects.toBeInstanceOf(KvUnavailableError);
        expect(Date.now() - started).toBeLessThan(1_000);
      } finally {
        await proxy.close();
        await slow.close();
      }
    });
  });
});

/** A TCP proxy to Redis that can stop forwarding, to imitate a Redis that hangs. */
async function stallingProxy(target: string): Promise<{ url: string; stall(): void; close(): Promise<void> }> {
  const upstreamUrl = new URL(target);
  let stalled = false;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(upstreamUrl.port || 6379), upstreamUrl.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => sockets.delete(socket));
    }
    client.on('data', (chunk) => stalled || upstream.write(chunk));
    upstream.on('data', (chunk) => stalled || client.write(chunk));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const proxied = new URL(target);
  proxied.hostname = '127.0.0.1';
  proxied.port = String(port);
  return {
    url: proxied.toString(),
    stall: () => {
      stalled = true;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
