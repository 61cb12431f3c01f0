/**
 * Clock steps (issue 21): one node's clock jumps 10 minutes forward or back, through the app's
 * clock abstraction (ManualClock), while another node on the same database and KV keeps the right
 * time. What each control does is what docs/JWT_SECURITY_GUIDE.md ("Clock steps") promises:
 * access tokens by `exp`/`nbf` with JWT_CLOCK_TOLERANCE, refresh reuse never forgiven by a backward
 * step, TOTP's used-step guard, account lockouts, and the shield's GCRA buckets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildTestApp, type TestApp } from '../../test/helpers/app.js';
import { createUser } from '../../test/helpers/factories.js';
import { enrollTotp, oathCode } from '../../test/support/mfa/helpers.js';
import { buildApp, type AppDeps } from '../app.js';
import { ManualClock } from './clock.js';
import { openKv } from './kv/index.js';

const MIN = 60_000;
const STEP = 10 * MIN;
const UA = 'Mozilla/5.0 (X11; Linux x86_64) clock-steps/1.0';

interface Node {
  app: FastifyInstance;
  clock: ManualClock;
  close(): Promise<void>;
}

/**
 * A second node on the same database and KV with a clock of its own (test/helpers/tokens.ts'
 * secondNode shares the first node's clock). With Redis it has its own connection; in memory the
 * one store is shared, as one process has one.
 */
async function nodeWithOwnClock(deps: AppDeps): Promise<Node> {
  const clock = new ManualClock(deps.clock.now());
  const kv =
    deps.kv.kind === 'redis'
      ? await openKv({ url: deps.config.REDIS_URL, prefix: deps.config.KV_PREFIX, now: () => clock.now().getTime() })
      : deps.kv;
  const app = await buildApp({ ...deps, kv, clock }, { logger: false });
  await app.ready();
  return {
    app,
    clock,
    close: async () => {
      await app.close();
      if (kv !== deps.kv) await kv.close();
    },
  };
}

function epoch(ms: number): number {
  return Math.floor(ms / 1000);
}

function claimsOf(token: string): { iat: number; nbf: number; exp: number } {
  const part = token.split('.')[1] ?? '';
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as { iat: number; nbf: number; exp: number };
}

async function me(app: FastifyInstance, token: string): Promise<number> {
  const res = await app.inject({
    method: 'GET',
    url: '/api/auth/me',
    headers: { authorization: `Bearer ${token}`, 'user-agent': UA },
  });
  if (res.statusCode !== 200) expect(res.json()).toMatchObject({ code: 'INVALID_TOKEN' });
  return res.statusCode;
}

async function signIn(app: FastifyInstance, user: { email: string; password: string }) {
  const res = await app.inject({
    method: 'POST',
    url: '/api/auth/login',
    headers: { 'user-agent': UA },
    payload: { email: user.email, password: user.password },
  });
  return { status: res.statusCode, res, body: res.json<Record<string, unknown>>() };
}

async function refresh(app: FastifyInstance, refreshToken: string) {
  const res = await app.inject({
    method: 'POST',
    url: '/api/auth/refresh',
    headers: { 'user-agent': UA },
    payload: { refreshToken },
  });
  return { status: res.statusCode, body: res.json<Record<string, unknown>>() };
}

describe('clock steps of ±10 minutes on one node', () => {
  let t: TestApp;
  let b: Node;
  beforeAll(async () => {
    // The TOTP case makes 7 failed second factors; the lockout cases lock at whatever the threshold is.
    t = await buildTestApp({ LOCKOUT_THRESHOLD: '10' });
    b = await nodeWithOwnClock(t.deps);
  });
  afterAll(async () => {
    await b.close();
    await t.close();
  });

  /** Both clocks at the same instant, as before any step. */
  function align(): number {
    const now = t.clock.now().getTime();
    b.clock.set(new Date(now));
    return now;
  }

  describe('access tokens', () => {
    it('after +10 min a token is still good (TTL 30 min); it dies at exp + JWT_CLOCK_TOLERANCE, not before', async () => {
      align();
      const u = await createUser(t.app);
      const { exp } = claimsOf(u.accessToken);
      const tolerance = t.config.JWT_CLOCK_TOLERANCE;
      expect(exp - claimsOf(u.accessToken).iat).toBe(t.config.ACCESS_TOKEN_TTL);
      t.clock.advance(STEP);
      expect(await me(t.app, u.accessToken)).toBe(200);
      t.clock.set(new Date((exp + tolerance - 1) * 1000));
      expect(await me(t.app, u.accessToken)).toBe(200);
      t.clock.set(new Date((exp + tolerance) * 1000));
      expect(await me(t.app, u.accessToken)).toBe(401);
    });

    it('after −10 min a token issued before the step is "from the future": refused until nbf − tolerance', async () => {
      const start = align();
      const u = await createUser(t.app);
      const fresh = (await signIn(t.app, u)).body['accessToken'] as string;
      expect(await me(t.app, u.accessToken)).toBe(200); // verified once: remembered by the node
      const { nbf } = claimsOf(fresh);
      t.clock.set(new Date(start - STEP));
      expect(await me(t.app, u.accessToken)).toBe(401); // from the node's verified-token cache
      expect(await me(t.app, fresh)).toBe(401); // from jose (never verified before)
      const tolerance = t.config.JWT_CLOCK_TOLERANCE;
      t.clock.set(new Date((nbf - tolerance - 1) * 1000));
      expect(await me(t.app, fresh)).toBe(401);
      t.clock.set(new Date((nbf - tolerance) * 1000));
      expect(await me(t.app, fresh)).toBe(200);
      t.clock.set(new Date(start));
      expect(await me(t.app, u.accessToken)).toBe(200);
    });

    it('a token issued by a node 10 min ahead is refused by the others; one 10 min behind expires 10 min early', async () => {
      const start = align();
      const u = await createUser(t.app);
      b.clock.set(new Date(start + STEP));
      const ahead = (await signIn(b.app, u)).body['accessToken'] as string;
      expect(claimsOf(ahead).nbf).toBe(epoch(start + STEP));
      expect(await me(b.app, ahead)).toBe(200);
      expect(await me(t.app, ahead)).toBe(401);

      b.clock.set(new Date(start - STEP));
      const behind = (await signIn(b.app, u)).body['accessToken'] as string;
      const { exp } = claimsOf(behind);
      expect(exp).toBe(epoch(start - STEP) + t.config.ACCESS_TOKEN_TTL);
      expect(await me(t.app, behind)).toBe(200);
      t.clock.set(new Date((exp + t.config.JWT_CLOCK_TOLERANCE) * 1000));
      expect(await me(t.app, behind)).toBe(401);
      expect(await me(t.app, ahead)).toBe(200); // its nbf is long past on node A now
    });
  });

  describe('refresh rotation and the reuse grace window', () => {
    /** A session whose refresh token R1 was issued 15 min before it is spent at `spentAt`. */
    async function spentLongAfterIssue() {
      const issuedAt = align();
      const u = await createUser(t.app);
      const first = await signIn(t.app, u);
      const r1 = first.body['refreshToken'] as string;
      t.clock.advance(15 * MIN);
      const spentAt = align();
      const rotated = await refresh(t.app, r1);
      expect(rotated.status).toBe(200);
      return { u, r1, r2: rotated.body['refreshToken'] as string, issuedAt, spentAt };
    }

    it('a spent refresh token replayed on the same node after it stepped back 10 min is a replay, not "grace"', async () => {
      const { r1, r2, spentAt } = await spentLongAfterIssue();
      t.clock.set(new Date(spentAt + 30_000)); // the 10 s grace window has closed
      t.clock.set(new Date(spentAt + 30_000 - STEP)); // the step: the spend now looks 9.5 min "ahead"
      const replay = await refresh(t.app, r1);
      expect(replay.status).toBe(401);
      expect(replay.body).toMatchObject({ code: 'INVALID_TOKEN' });
      // The whole family died: the successor is refused too, on a node with the right time.
      b.clock.set(new Date(spentAt + 31_000));
      expect((await refresh(b.app, r2)).status).toBe(401);
    });

    it('a token spent on node A and replayed on node B, 10 min behind, revokes the family', async () => {
      const { r1, r2, spentAt } = await spentLongAfterIssue();
      t.clock.set(new Date(spentAt + 30_000));
      b.clock.set(new Date(spentAt + 30_000 - STEP));
      const replay = await refresh(b.app, r1);
      expect(replay.status).toBe(401);
      expect((await refresh(t.app, r2)).status).toBe(401);
    });

    it('two tabs on two nodes whose clocks differ by less than the tolerance still share the grace window', async () => {
      const { r1, r2, spentAt } = await spentLongAfterIssue();
      b.clock.set(new Date(spentAt - (t.config.JWT_CLOCK_TOLERANCE - 1) * 1000));
      const tab = await refresh(b.app, r1);
      expect(tab.status).toBe(200);
      expect(tab.body['refreshToken']).toBe(r2);
    });

    it('a forward step past the grace window makes the second use a replay', async () => {
      const { r1, r2, spentAt } = await spentLongAfterIssue();
      t.clock.set(new Date(spentAt + STEP));
      expect((await refresh(t.app, r1)).status).toBe(401);
      expect((await refresh(t.app, r2)).status).toBe(401);
    });
  });

  describe('TOTP', () => {
    async function mfaLogin(app: FastifyInstance, user: { email: string; password: string }, code: string) {
      const l = await signIn(app, user);
      expect(l.body['mfaRequired'], l.res.body).toBe(true);
      const res = await app.inject({
        method: 'POST',
        url: '/api/auth/mfa/verify',
        headers: { 'user-agent': UA },
        payload: { mfaToken: l.body['mfaToken'], code },
      });
      return res.statusCode;
    }

    it('accepts the current step ±1; a used code stays refused after a −10 min step and when the clock comes back', async () => {
      align();
      const u = await createUser(t.app);
      const { secret } = await enrollTotp(t.app, t.clock, u);
      t.clock.advance(60_000);
      const now = align();
      const at = (steps: number) => oathCode(secret, now + steps * 30_000);
      expect(await mfaLogin(t.app, u, at(-2))).toBe(401); // outside the window
      expect(await mfaLogin(t.app, u, at(2))).toBe(401);
      expect(await mfaLogin(t.app, u, at(-1))).toBe(200);
      expect(await mfaLogin(t.app, u, at(0))).toBe(200);
      expect(await mfaLogin(t.app, u, at(1))).toBe(200);
      const used = at(1);

      // Node B steps back 10 min; node A too. The used code is not in their window, and the
      // code of their "current" step is at or before the last used step: refused (fails closed).
      b.clock.set(new Date(now - STEP));
      expect(await mfaLogin(b.app, u, used)).toBe(401);
      expect(await mfaLogin(b.app, u, oathCode(secret, now - STEP))).toBe(401);
      t.clock.set(new Date(now - STEP + 30_000));
      expect(await mfaLogin(t.app, u, oathCode(secret, now - STEP + 30_000))).toBe(401);

      // Back at the right time (and half a step later), the used code is still a replay.
      t.clock.set(new Date(now + 30_000));
      b.clock.set(new Date(now));
      expect(await mfaLogin(t.app, u, used)).toBe(401);
      expect(await mfaLogin(b.app, u, used)).toBe(401);
      // The next step's code is fresh.
      t.clock.set(new Date(now + 60_000));
      expect(await mfaLogin(t.app, u, at(2))).toBe(200);
    });
  });

  describe('account lockout', () => {
    async function lock(app: FastifyInstance, email: string) {
      for (let i = 0; i < t.config.LOCKOUT_THRESHOLD; i++) {
        await signIn(app, { email, password: 'wrong-password-for-sure-1' });
      }
    }
    function retryAfter(res: { headers: Record<string, unknown> }): number {
      return Number(res.headers['retry-after']);
    }
    const firstLock = () => (t.config.LOCKOUT_DURATIONS[0] ?? 0) * 1000;

    it('a −10 min step neither lifts a lock nor makes it last longer than lock + step; +10 min lifts it', async () => {
      const start = align();
      const u = await createUser(t.app);
      await lock(t.app, u.email);
      const locked = await signIn(t.app, u);
      expect(locked.status).toBe(429);
      expect(locked.body).toMatchObject({ code: 'ACCOUNT_LOCKED' });
      const lockMs = firstLock();
      expect(retryAfter(locked.res)).toBe(Math.ceil(lockMs / 1000));

      t.clock.set(new Date(start - STEP));
      const back = await signIn(t.app, u);
      expect(back.status).toBe(429);
      expect(retryAfter(back.res)).toBe(Math.ceil((lockMs + STEP) / 1000));

      // Node B, 10 min behind too, refuses as well; node B 10 min ahead (past the 5 min lock) lets in.
      b.clock.set(new Date(start - STEP));
      expect((await signIn(b.app, u)).status).toBe(429);
      t.clock.set(new Date(start + lockMs - 1000));
      expect((await signIn(t.app, u)).status).toBe(429);
      b.clock.set(new Date(start + STEP));
      expect((await signIn(b.app, u)).status).toBe(200);
    });

    it('after a backward step the lock ends when the clock passes lockedUntil again (not extended forever)', async () => {
      const start = align();
      const u = await createUser(t.app);
      await lock(t.app, u.email);
      t.clock.set(new Date(start - STEP));
      expect((await signIn(t.app, u)).status).toBe(429);
      t.clock.set(new Date(start + firstLock()));
      expect((await signIn(t.app, u)).status).toBe(200);
    });
  });
});

describe('clock steps and the rate limiter', () => {
  let t: TestApp;
  let b: Node;
  beforeAll(async () => {
    t = await buildTestApp({ RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_PER_MINUTE: '3', RATE_LIMIT_PER_HOUR: '1000' });
    b = await nodeWithOwnClock(t.deps);
  });
  afterAll(async () => {
    await b.close();
    await t.close();
  });

  const hit = (app: FastifyInstance) => app.inject({ method: 'GET', url: '/health/live' });
  function remaining(res: { headers: Record<string, unknown> }): number[] {
    const header = String(res.headers['ratelimit']);
    return [...header.matchAll(/;r=(-?\d+)/g)].map((m) => Number(m[1]));
  }

  it('a −10 min step neither resets nor corrupts the bucket; +10 min starts afresh', async () => {
    const start = t.clock.now().getTime();
    b.clock.set(new Date(start));
    for (let i = 0; i < 3; i++) expect((await hit(t.app)).statusCode).toBe(200);
    const limited = await hit(t.app);
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toMatchObject({ code: 'RATE_LIMITED' });

    t.clock.set(new Date(start - STEP));
    const back = await hit(t.app);
    expect(back.statusCode).toBe(429);
    expect(back.json()).toMatchObject({ code: 'RATE_LIMITED' });
    expect(remaining(back).every((r) => r >= 0)).toBe(true);
    const wait = Number(back.headers['retry-after']);
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(60 + STEP / 1000); // at most the window plus the step
    // The other node, 10 min behind as well: with Redis it shares the bucket and refuses too; in
    // memory every node has buckets of its own. Either way, no exception.
    b.clock.set(new Date(start - STEP));
    expect((await hit(b.app)).statusCode).toBe(t.deps.kv.kind === 'redis' ? 429 : 200);
    // A node on the right time is not affected beyond the normal limit.
    b.clock.set(new Date(start + 60_000));
    expect((await hit(b.app)).statusCode).toBe(200);

    t.clock.set(new Date(start + STEP));
    const ahead = await hit(t.app);
    expect(ahead.statusCode).toBe(200);
    expect(remaining(ahead)[0]).toBe(2);
  });
});
