/**
 * Progressive lockout as an attacker would try to get around it (NIST SP 800-63B 5.2.2: limit
 * consecutive failed attempts): many guesses sent at once, guesses spread over case and Unicode
 * variants of the email, waiting out the lock, abandoning requests mid-way. Every sequence runs
 * on the in-memory store and, when TEST_REDIS_URL is set, on real Redis (the Lua body), and a
 * random sequence must give the same replies on both.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TEST_REDIS_URL } from '../../../test/helpers/services.js';
import { ManualClock } from '../../platform/clock.js';
import { MemoryKv, openKv, type Kv } from '../../platform/kv/index.js';
import { Lockout, LockoutError, lockoutKey, type LockoutPolicy } from './lockout.js';

const POLICY: LockoutPolicy = {
  threshold: 5,
  durationsMs: [300_000, 600_000, 1_800_000],
  resetAfterMs: 86_400_000,
  attemptLeaseMs: 30_000,
};

const clock = new ManualClock(new Date('2026-03-01T10:00:00Z'));
const stores: { name: string; open: () => Promise<Kv> }[] = [
  { name: 'memory', open: async () => new MemoryKv({ now: () => clock.now().getTime(), sweepIntervalMs: 0 }) },
];
if (TEST_REDIS_URL) {
  stores.push({
    name: 'redis',
    open: () => openKv({ url: TEST_REDIS_URL, prefix: `test:lock:${randomBytes(4).toString('hex')}:` }),
  });
}

describe.each(stores)('lockout on $name', ({ open }) => {
  let kv: Kv;
  let lockout: Lockout;
  let id: string;

  beforeAll(async () => {
    kv = await open();
    lockout = new Lockout(kv, clock, POLICY);
  });
  afterAll(async () => {
    await kv.close();
  });
  beforeEach(() => {
    id = `victim-${randomBytes(4).toString('hex')}@example.test`;
  });

  async function fail(times: number, who = id) {
    const results = [];
    for (let i = 0; i < times; i++) results.push(await lockout.recordFailure(who));
    return results;
  }

  it('locks after 5 failures for 5 min, the next 5 for 10 min, then 30 min, and stays at 30', async () => {
    const first = await fail(5);
    expect(first.map((r) => r.lockedNow)).toEqual([false, false, false, false, true]);
    expect(first[4]).toMatchObject({ locked: true, retryAfterSeconds: 300, level: 1 });
    expect(await lockout.check(id)).toEqual({ locked: true, retryAfterSeconds: 300 });
    clock.advance(299_000);
    expect(await lockout.check(id)).toEqual({ locked: true, retryAfterSeconds: 1 });
    clock.advance(1_000);
    expect(await lockout.check(id)).toEqual({ locked: false, retryAfterSeconds: 0 });

    expect((await fail(5))[4]).toMatchObject({ lockedNow: true, retryAfterSeconds: 600, level: 2 });
    clock.advance(600_000);
    expect((await fail(5))[4]).toMatchObject({ lockedNow: true, retryAfterSeconds: 1800, level: 3 });
    clock.advance(1_800_000);
    expect((await fail(5))[4]).toMatchObject({ lockedNow: true, retryAfterSeconds: 1800, level: 4 });
  });

  it('does not count failures while locked (the lock does not grow by itself)', async () => {
    await fail(5);
    const during = await fail(20);
    expect(during.every((r) => r.locked && !r.lockedNow)).toBe(true);
    clock.advance(300_000);
    expect((await fail(4)).some((r) => r.locked)).toBe(false);
  });

  it('a success starts afresh: failures and level', async () => {
    await fail(5);
    clock.advance(300_000);
    await fail(4);
    await lockout.reset(id);
    expect((await fail(4)).some((r) => r.locked)).toBe(false);
    expect((await fail(1))[0]).toMatchObject({ lockedNow: true, level: 1, retryAfterSeconds: 300 });
  });

  it('a quiet day starts afresh', async () => {
    await fail(5);
    clock.advance(300_000);
    await fail(3);
    clock.advance(POLICY.resetAfterMs);
    expect((await fail(4)).some((r) => r.locked)).toBe(false);
    expect((await fail(1))[0]).toMatchObject({ lockedNow: true, level: 1 });
  });

  it('counts case and spacing variants of one email together, keyed by its canonical form', async () => {
    const variants = [
      id,
      id.toUpperCase(),
      `  ${id}\t`,
      id.replace(/^./, (c) => c.toUpperCase()),
      ` ${id.toUpperCase()}`,
    ];
    const results = [];
    for (const v of variants) results.push(await lockout.recordFailure(v));
    expect(results[4]?.lockedNow).toBe(true);
    for (const v of variants) expect(lockoutKey(v)).toBe(lockoutKey(id));
    expect(lockoutKey(id)).not.toContain(id.split('@')[0]);
    // Look-alikes that registration refuses (fullwidth, Kelvin sign, dotted I) are not this
    // account's identifier: the login refuses them before counting (canonical-identifier.test.ts).
    for (const v of [id.replace('@', '\uff20'), id.replace('e', '\uff45'), `\u0130${id}`]) {
      expect(lockoutKey(v)).not.toBe(lockoutKey(id));
    }
  });

  it('50 failures at once lock exactly once, at the first stage', async () => {
    const results = await Promise.all(Array.from({ length: 50 }, () => lockout.recordFailure(id)));
    expect(results.filter((r) => r.lockedNow)).toHaveLength(1);
    expect(results.filter((r) => !r.locked)).toHaveLength(4);
    expect(await lockout.check(id)).toEqual({ locked: true, retryAfterSeconds: 300 });
  });

  it('50 logins at once: only 5 credentials are ever checked, then it is locked', async () => {
    const admitted = await Promise.all(Array.from({ length: 50 }, () => lockout.begin(id)));
    expect(admitted.filter((a) => a.admitted)).toHaveLength(5);
    const refused = admitted.filter((a) => !a.admitted);
    expect(refused.every((a) => a.retryAfterSeconds > 0)).toBe(true);
    // The five verified guesses were wrong.
    const failures = await Promise.all(Array.from({ length: 5 }, () => lockout.recordFailure(id)));
    expect(failures.filter((f) => f.lockedNow)).toHaveLength(1);
    expect((await lockout.begin(id)).admitted).toBe(false);
  });

  it('an attack of 300 parallel guesses in waves verifies at most 5 per stage', async () => {
    let verified = 0;
    const attempt = async () => {
      const gate = await lockout.begin(id);
      if (!gate.admitted) return;
      verified++;
      await lockout.recordFailure(id);
    };
    for (let wave = 0; wave < 6; wave++) {
      await Promise.all(Array.from({ length: 50 }, attempt));
      clock.advance(1_000);
    }
    expect(verified).toBe(5);
    clock.advance(300_000);
    for (let wave = 0; wave < 3; wave++) await Promise.all(Array.from({ length: 50 }, attempt));
    expect(verified).toBe(10);
  });

  it('reservations of requests that never settle run out after the lease', async () => {
    for (let i = 0; i < 5; i++) expect((await lockout.begin(id)).admitted).toBe(true);
    const busy = await lockout.begin(id);
    expect(busy).toEqual({ admitted: false, retryAfterSeconds: 30 });
    clock.advance(30_000);
    expect((await lockout.begin(id)).admitted).toBe(true);
    await lockout.release(id);
    expect((await lockout.begin(id)).admitted).toBe(true);
  });

  it('a scope (trusted device) has its own counter: the attacker locks the account, not the device', async () => {
    await fail(5);
    expect((await lockout.begin(id)).admitted).toBe(false);
    expect((await lockout.begin(id, 'device:owner-laptop')).admitted).toBe(true);
    // ...but the device itself is limited too.
    for (let i = 0; i < 5; i++) await lockout.recordFailure(id, 'device:owner-laptop');
    expect((await lockout.begin(id, 'device:owner-laptop')).admitted).toBe(false);
  });
});

describe('lockout: memory and Redis agree', () => {
  it.skipIf(!TEST_REDIS_URL)('gives identical replies for a random sequence (needs TEST_REDIS_URL)', async () => {
    const memory = new MemoryKv({ now: () => clock.now().getTime(), sweepIntervalMs: 0 });
    const redis = await openKv({
      url: TEST_REDIS_URL ?? '',
      prefix: `test:lockdiff:${randomBytes(4).toString('hex')}:`,
    });
    try {
      const a = new Lockout(memory, clock, POLICY);
      const b = new Lockout(redis, clock, POLICY);
      let seed = 42;
      const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
      for (let i = 0; i < 400; i++) {
        const r = rand();
        const who = r < 0.5 ? 'a@example.test' : 'b@example.test';
        const op = Math.floor(rand() * 10);
        if (op < 5) expect(await b.recordFailure(who)).toEqual(await a.recordFailure(who));
        else if (op < 8) expect(await b.begin(who)).toEqual(await a.begin(who));
        else if (op < 9) expect(await b.check(who)).toEqual(await a.check(who));
        else {
          await a.release(who);
          await b.release(who);
        }
        clock.advance(Math.floor(rand() * 120_000));
      }
    } finally {
      await memory.close();
      await redis.close();
    }
  });
});

describe('LockoutError', () => {
  it('is 429 ACCOUNT_LOCKED with Retry-After and a body that names no account', () => {
    const e = new LockoutError(300);
    expect(e).toMatchObject({ status: 429, code: 'ACCOUNT_LOCKED', headers: { 'retry-after': '300' } });
    expect(e.message).not.toMatch(/@|exist/);
  });
});
