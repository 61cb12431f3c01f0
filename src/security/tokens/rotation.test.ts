/**
 * Refresh rotation as clients and attackers use it: parallel tabs refreshing at once, a stolen
 * token replayed later, and a server restart in between.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { decodeJwt } from 'jose';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../app.js';
import { loadConfig } from '../../config/index.js';
import { ManualClock } from '../../platform/clock.js';
import { openDb, type Db } from '../../platform/db/index.js';
import { migrate } from '../../platform/db/migrate.js';
import { MemoryKv } from '../../platform/kv/memory.js';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.js';
import { createUser } from '../../../test/helpers/factories.js';
import { TEST_DATABASE_URL } from '../../../test/helpers/services.js';

interface Pair {
  accessToken: string;
  refreshToken: string;
}

describe('refresh rotation', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ REFRESH_REUSE_GRACE: '10' });
  });
  afterAll(async () => t.close());

  const refresh = (token: string, ua = 'tab-browser/1.0') =>
    t.app.inject({
      method: 'POST',
      url: '/api/auth/refresh',
      payload: { refreshToken: token },
      headers: { 'user-agent': ua },
    });
  const me = (token: string) =>
    t.app.inject({ method: 'GET', url: '/api/auth/me', headers: { authorization: `Bearer ${token}` } });

  async function login(ua = 'tab-browser/1.0'): Promise<Pair & { email: string }> {
    const u = await createUser(t.app);
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { email: u.email, password: u.password },
      headers: { 'user-agent': ua },
    });
    return { ...res.json<Pair>(), email: u.email };
  }

  it('a refresh token works once: the new pair works, the old refresh token is spent', async () => {
    const p = await login();
    const r1 = await refresh(p.refreshToken);
    expect(r1.statusCode).toBe(200);
    const next = r1.json<Pair>();
    expect(next.refreshToken).not.toBe(p.refreshToken);
    expect((await me(next.accessToken)).statusCode).toBe(200);
    expect(decodeJwt(next.refreshToken)['fam']).toBe(decodeJwt(p.refreshToken)['fam']);
  });

  it('20 concurrent refreshes with one token all succeed with one and the same successor', async () => {
    const p = await login();
    const results = await Promise.all(Array.from({ length: 20 }, () => refresh(p.refreshToken)));
    expect(results.map((r) => r.statusCode)).toEqual(Array(20).fill(200));
    const jtis = new Set(results.map((r) => decodeJwt(r.json<Pair>().refreshToken)['jti']));
    const accessJtis = new Set(results.map((r) => decodeJwt(r.json<Pair>().accessToken)['jti']));
    expect(jtis.size).toBe(1);
    expect(accessJtis.size).toBe(1);
    // Ed25519 signatures are deterministic: the re-signed successor is the same token, byte for byte.
    expect(new Set(results.map((r) => r.json<Pair>().refreshToken)).size).toBe(1);
    const rows = await t.deps.db.query<{ n: number }>(
      `select count(*)::int as n from refresh_tokens where family_id = $1`,
      [decodeJwt(p.refreshToken)['fam']],
    );
    expect(rows[0]?.n).toBe(2);
  });

  it('a second use within the grace window by another client is a replay', async () => {
    const p = await login();
    const ok = await refresh(p.refreshToken);
    expect(ok.statusCode).toBe(200);
    const thief = await refresh(p.refreshToken, 'curl/8.0');
    expect(thief.statusCode).toBe(401);
    // The legitimate successor died with the family.
    expect((await me(ok.json<Pair>().accessToken)).statusCode).toBe(401);
    expect((await refresh(ok.json<Pair>().refreshToken)).statusCode).toBe(401);
  });

  it('a reuse after the grace window revokes the family and the session, and is audited', async () => {
    const p = await login();
    const ok = await refresh(p.refreshToken);
    const successor = ok.json<Pair>();
    t.clock.advance(11_000);
    const replay = await refresh(p.refreshToken);
    expect(replay.statusCode).toBe(401);
    expect(replay.json<{ code: string }>().code).toBe('INVALID_TOKEN');
    expect((await me(successor.accessToken)).statusCode).toBe(401);
    expect((await refresh(successor.refreshToken)).statusCode).toBe(401);
    const sid = String(decodeJwt(p.refreshToken)['sid']);
    const session = await t.deps.db.query<{ revoked_reason: string }>(
      `select revoked_reason from auth_sessions where id = $1`,
      [sid],
    );
    expect(session[0]?.revoked_reason).toBe('refresh_reuse');
    await t.app.audit.flush();
    const events = await t.deps.db.query<{ metadata: { session: string } }>(
      `select metadata from audit_events where action = 'token.refresh.reused'`,
    );
    expect(events.map((e) => e.metadata.session)).toContain(sid);
  });

  it('other sessions of the same user survive a replay in one session', async () => {
    const u = await createUser(t.app);
    const other = (
      await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: u.email, password: u.password } })
    ).json<Pair>();
    await refresh(u.refreshToken);
    t.clock.advance(11_000);
    expect((await refresh(u.refreshToken)).statusCode).toBe(401);
    expect((await me(other.accessToken)).statusCode).toBe(200);
  });

  it('a logged-out session cannot be refreshed', async () => {
    const p = await login();
    const out = await t.app.inject({
      method: 'POST',
      url: '/api/auth/logout',
      headers: { authorization: `Bearer ${p.accessToken}` },
    });
    expect(out.statusCode).toBe(204);
    expect((await refresh(p.refreshToken)).statusCode).toBe(401);
    expect((await me(p.accessToken)).statusCode).toBe(401);
  });
});

/** A database that outlives the app: PGlite on disk, or a schema of TEST_DATABASE_URL. */
async function durableDb(): Promise<{ open: () => Promise<Db>; cleanup: () => Promise<void>; kind: string }> {
  if (TEST_DATABASE_URL) {
    const url = TEST_DATABASE_URL;
    const schema = `r_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`create schema ${schema}`);
    await admin.end();
    return {
      kind: 'postgres',
      open: () => openDb({ url, dataDir: 'unused', schema, poolSize: 3 }),
      cleanup: async () => {
        const c = new pg.Client({ connectionString: url });
        await c.connect();
        await c.query(`drop schema ${schema} cascade`);
        await c.end();
      },
    };
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pf-restart-'));
  return {
    kind: 'pglite',
    open: () => openDb({ dataDir: dir }),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

describe('housekeeping', () => {
  it('purges refresh tokens, denylist rows and sessions once everything in them has expired', async () => {
    const t = await buildTestApp();
    try {
      const u = await createUser(t.app);
      await t.app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refreshToken: u.refreshToken } });
      await t.app.inject({ method: 'POST', url: '/api/auth/logout', headers: u.auth });
      expect(await t.app.tokens.purgeExpired()).toEqual({ refresh: 0, denylist: 0, sessions: 0 });
      t.clock.advance((t.config.REFRESH_TOKEN_TTL + 60) * 1000);
      expect(await t.app.tokens.purgeExpired()).toEqual({ refresh: 2, denylist: 1, sessions: 1 });
    } finally {
      await t.close();
    }
  });
});

describe('restart', () => {
  it('a spent refresh token is refused after the server restarts', async () => {
    const store = await durableDb();
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'pf-restart-data-'));
    const config = loadConfig({
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      DATA_DIR: dataDir,
      RATE_LIMIT_ENABLED: 'false',
      AUTO_BLOCK_ENABLED: 'false',
      LOAD_SHED_MAX_EVENT_LOOP_DELAY: '0',
    });
    const clock = new ManualClock(new Date());
    const secrets = { jwt: randomBytes(32).toString('hex') };
    const boot = async () => {
      const db = await store.open();
      await migrate(db);
      const kv = new MemoryKv({ now: () => clock.now().getTime() });
      const app = await buildApp({ config, db, kv, clock, secrets }, { logger: false });
      await app.ready();
      return { app, stop: async () => (await app.close(), await kv.close(), await db.close()) };
    };
    try {
      const first = await boot();
      const u = await createUser(first.app);
      const rotated = await first.app.inject({
        method: 'POST',
        url: '/api/auth/refresh',
        payload: { refreshToken: u.refreshToken },
      });
      expect(rotated.statusCode).toBe(200);
      await first.stop();

      clock.advance(30_000);
      const second = await boot();
      try {
        const replay = await second.app.inject({
          method: 'POST',
          url: '/api/auth/refresh',
          payload: { refreshToken: u.refreshToken },
        });
        expect(replay.statusCode, store.kind).toBe(401);
        // Detected as reuse: the successor issued before the restart is dead too.
        const successor = rotated.json<Pair>();
        const me = await second.app.inject({
          method: 'GET',
          url: '/api/auth/me',
          headers: { authorization: `Bearer ${successor.accessToken}` },
        });
        expect(me.statusCode).toBe(401);
        // The signing key survived the restart (encrypted in the database), so fresh logins still work.
        const login = await second.app.inject({
          method: 'POST',
          url: '/api/auth/login',
          payload: { email: u.email, password: u.password },
        });
        expect(login.statusCode).toBe(200);
      } finally {
        await second.stop();
      }
    } finally {
      await store.cleanup();
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
