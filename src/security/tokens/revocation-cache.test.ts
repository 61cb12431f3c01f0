/**
 * The revocation cache trusts its local copy only while the KV channel demonstrably works: when
 * heartbeats stop (Redis down, subscriber gone) every check reads the database, and when they
 * return the copy starts over, because revocations may have been missed meanwhile.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kv } from '../../platform/kv/index.js';
import { KvUnavailableError } from '../../platform/kv/index.js';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.js';
import { createUser } from '../../../test/helpers/factories.js';
import { RevocationCache } from './revocation.js';

/** A KV whose channel can be cut: publishes fail, as when Redis is unreachable. */
function cuttable(kv: Kv): Kv & { cut: boolean } {
  const wrapper = Object.create(kv) as Kv & { cut: boolean };
  wrapper.cut = false;
  wrapper.publish = async (channel, message) => {
    if (wrapper.cut) throw new KvUnavailableError('cut');
    return kv.publish(channel, message);
  };
  return wrapper;
}

const until = async (cond: () => boolean, ms = 3_000) => {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > ms) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('revocation cache', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp();
  });
  afterAll(async () => t.close());

  it('uses the copy while heartbeats arrive, reads the database when they stop, starts over when they return', async () => {
    const u = await createUser(t.app);
    const kv = cuttable(t.deps.kv);
    const cache = new RevocationCache(t.app.tokens.repo, kv, t.clock, { heartbeatMs: 50, staleMs: 200 });
    await cache.start();
    try {
      await until(() => cache.isLive());
      expect((await cache.user(u.id))?.tokenVersion).toBe(0);
      const reads = cache.stats.dbReads;
      expect((await cache.user(u.id))?.tokenVersion).toBe(0);
      expect(cache.stats.dbReads).toBe(reads); // served from the copy

      // A change made behind the cache's back (no announcement) is not seen while live...
      await t.deps.db.query(`update users set token_version = 5 where id = $1`, [u.id]);
      expect((await cache.user(u.id))?.tokenVersion).toBe(0);

      // ...and an outage makes every check go to the database within the stale window.
      kv.cut = true;
      await until(() => !cache.isLive());
      expect((await cache.user(u.id))?.tokenVersion).toBe(5);
      await t.deps.db.query(`update users set token_version = 6 where id = $1`, [u.id]);
      expect((await cache.user(u.id))?.tokenVersion).toBe(6);

      // Back: the copy starts empty, so the first answer comes from the database.
      kv.cut = false;
      await until(() => cache.isLive());
      await t.deps.db.query(`update users set token_version = 7 where id = $1`, [u.id]);
      expect((await cache.user(u.id))?.tokenVersion).toBe(7);
    } finally {
      await cache.stop();
    }
  });

  it('announcements reach every cache on the channel', async () => {
    const u = await createUser(t.app);
    const a = new RevocationCache(t.app.tokens.repo, t.deps.kv, t.clock, { heartbeatMs: 50, staleMs: 200 });
    const b = new RevocationCache(t.app.tokens.repo, t.deps.kv, t.clock, { heartbeatMs: 50, staleMs: 200 });
    await Promise.all([a.start(), b.start()]);
    try {
      await until(() => a.isLive() && b.isLive());
      expect((await b.user(u.id))?.tokenVersion).toBe(0);
      await t.deps.db.query(`update users set token_version = 1 where id = $1`, [u.id]);
      await a.announce({ t: 'user', id: u.id });
      await new Promise((r) => setTimeout(r, 50));
      expect((await b.user(u.id))?.tokenVersion).toBe(1);
      await a.announce({ t: 'session', id: '01900000-0000-7000-8000-000000000001' });
      await new Promise((r) => setTimeout(r, 50));
      expect(await b.sessionRevoked('01900000-0000-7000-8000-000000000001')).toBe(true);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});
