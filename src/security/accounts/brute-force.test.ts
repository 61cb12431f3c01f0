/**
 * Progressive lockout through the real login route, as an attacker would try it: many wrong
 * passwords at once from many addresses, unknown emails, the right password during a lock, and
 * the owner signing in from a trusted device meanwhile.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.js';
import { createUser, uniqueEmail, type TestUser } from '../../../test/helpers/factories.js';
import { client, enrollTotp, login, oathCode, verify } from '../../../test/support/mfa/helpers.js';
import { TEST_REDIS_URL } from '../../../test/helpers/services.js';
import { loginAs, mailsTo, tokenIn } from '../../../test/support/accounts/helpers.js';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ MAIL_POLL_INTERVAL: '0' });
});
afterAll(async () => {
  await t?.close();
});

/** The problem body without what differs per request. */
function stable(body: string): Record<string, unknown> {
  const { requestId: _r, ...rest } = JSON.parse(body) as Record<string, unknown>;
  return rest;
}

/** `n` wrong passwords for `email` at once, each from its own address. */
async function volley(email: string, n: number, offset = 0) {
  return Promise.all(
    Array.from({ length: n }, (_, i) =>
      loginAs(t.app, email, `Wrong-guess-${offset + i}-Harbor-Lantern`, {
        ip: `203.0.${(offset + i) >> 8}.${(offset + i) & 255}`,
      }),
    ),
  );
}

async function failedEvents(userId: string): Promise<number> {
  await t.app.audit.flush();
  const rows = await t.deps.db.query<{ n: number }>(
    `select count(*)::int as n from audit_events where action = 'auth.login.failed' and target_id = $1`,
    [userId],
  );
  return Number(rows[0]?.n ?? 0);
}

describe('parallel guessing from many addresses', () => {
  let owner: TestUser;
  let deviceToken: string;

  beforeAll(async () => {
    owner = await createUser(t.app);
    const { secret } = await enrollTotp(t.app, t.clock, owner);
    const first = await login(t.app, owner);
    expect(first.body['mfaRequired']).toBe(true);
    const v = await verify(t.app, {
      mfaToken: first.body['mfaToken'],
      code: oathCode(secret, t.clock.now().getTime()),
      rememberDevice: true,
    });
    expect(v.status, JSON.stringify(v.body)).toBe(200);
    deviceToken = String(v.body['deviceToken']);
    expect(deviceToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('checks at most 5 passwords per stage, answers the rest 429 ACCOUNT_LOCKED, and escalates 5 → 10 → 30 min', async () => {
    const before = await failedEvents(owner.id);
    const expected = [300, 600, 1800, 1800];
    for (const [stage, lockSeconds] of expected.entries()) {
      const results = await volley(owner.email, 40, stage * 40);
      const checked = results.filter((r) => r.statusCode === 401);
      const locked = results.filter((r) => r.statusCode === 429);
      expect(checked).toHaveLength(5);
      expect(locked).toHaveLength(35);
      for (const r of locked) {
        expect(r.json().code).toBe('ACCOUNT_LOCKED');
        expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
      }
      // Only 5 credentials were verified in this stage: the audit log agrees.
      expect(await failedEvents(owner.id)).toBe(before + 5 * (stage + 1));
      // The lock lasts the stage's duration: the right password is refused until it ends.
      const during = await loginAs(t.app, owner.email, owner.password, { ip: '198.51.100.7' });
      expect(during.statusCode).toBe(429);
      expect(Number(during.headers['retry-after'])).toBe(lockSeconds);
      t.clock.advance((lockSeconds - 1) * 1000);
      expect((await loginAs(t.app, owner.email, owner.password, { ip: '198.51.100.7' })).statusCode).toBe(429);
      t.clock.advance(1000);
    }
  }, 120_000);

  it('a success resets the escalation', async () => {
    // Not locked now (the last lock ran out): the owner's password goes through MFA.
    const ok = await loginAs(t.app, owner.email, owner.password, { headers: { 'x-device-token': deviceToken } });
    expect(ok.statusCode, ok.body).toBe(200);
    const results = await volley(owner.email, 10, 1000);
    expect(results.filter((r) => r.statusCode === 401)).toHaveLength(5);
    const locked = await loginAs(t.app, owner.email, owner.password, { ip: '198.51.100.8' });
    expect(Number(locked.headers['retry-after'])).toBe(300);
  });

  it('mails the owner a one-time unlock link on lockout, and the link lifts the lock', async () => {
    expect((await mailsTo(t.app, owner.email, 'unlock_account')).length).toBeGreaterThanOrEqual(1);
    // A fresh lock with a fresh link: the current lock ends, and the one-mail-per-10-minutes
    // throttle is cleared (in Redis it runs on real time, not on the test clock).
    t.clock.advance(300_000);
    await t.deps.kv.del(`acct:unlockmail:${owner.id}`);
    const before = (await mailsTo(t.app, owner.email, 'unlock_account')).length;
    expect((await volley(owner.email, 6, 2500)).filter((r) => r.statusCode === 401)).toHaveLength(5);
    const mails = await mailsTo(t.app, owner.email, 'unlock_account');
    expect(mails).toHaveLength(before + 1);
    expect(mails.at(-1)?.text).not.toContain(owner.password);
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/auth/unlock',
      payload: { token: tokenIn(mails.at(-1)) },
    });
    expect(res.statusCode, res.body).toBe(200);
    // Unlocked: the attacker starts again from 5 guesses, and the link works once.
    const again = await volley(owner.email, 8, 3000);
    expect(again.filter((r) => r.statusCode === 401)).toHaveLength(5);
    const reused = await t.app.inject({
      method: 'POST',
      url: '/api/auth/unlock',
      payload: { token: tokenIn(mails.at(-1)) },
    });
    expect(reused.json().code).toBe('INVALID_TOKEN');
  });

  it('the owner on a trusted device still signs in while the account is locked', async () => {
    // The account is locked (previous test); an attacker keeps guessing.
    expect((await volley(owner.email, 5, 2000)).every((r) => r.statusCode === 429)).toBe(true);
    const attacker = await loginAs(t.app, owner.email, owner.password, { ip: '198.51.100.9' });
    expect(attacker.statusCode).toBe(429);
    // Without the device token, even the owner's own client is locked out ...
    const plain = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      headers: client(),
      payload: { email: owner.email, password: owner.password },
    });
    expect(plain.statusCode).toBe(429);
    // ... with it, the owner is in, without the second factor.
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      headers: { ...client(), 'x-device-token': deviceToken },
      payload: { email: owner.email, password: owner.password },
    });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<{ accessToken: string; sessionId: string }>();
    expect(body.accessToken).toBeTruthy();
    const sessions = await t.app.inject({
      method: 'GET',
      url: '/api/auth/sessions',
      headers: client(body.accessToken),
    });
    const list = sessions.json<{ sessions: { id: string; current: boolean; trustedDevice: boolean }[] }>().sessions;
    expect(list.find((s) => s.id === body.sessionId)).toMatchObject({ current: true, trustedDevice: true });
    expect(list.some((s) => !s.trustedDevice)).toBe(true);
  });

  it('a stolen trusted device gets only 5 guesses per stage too', async () => {
    const res = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        t.app.inject({
          method: 'POST',
          url: '/api/auth/login',
          headers: { ...client(), 'x-device-token': deviceToken },
          payload: { email: owner.email, password: `Wrong-device-${i}-Harbor-Lantern` },
        }),
      ),
    );
    expect(res.filter((r) => r.statusCode === 401)).toHaveLength(5);
    expect(res.filter((r) => r.statusCode === 429)).toHaveLength(7);
  });
});

describe('unknown identifiers', () => {
  it('lock exactly like existing accounts: same status, body and Retry-After', async () => {
    const user = await createUser(t.app);
    const unknown = uniqueEmail('nobody');
    const known = await volley(user.email, 12, 5000);
    const ghost = await volley(unknown, 12, 6000);
    expect(known.filter((r) => r.statusCode === 401)).toHaveLength(5);
    expect(ghost.filter((r) => r.statusCode === 401)).toHaveLength(5);
    const k = known.find((r) => r.statusCode === 429);
    const g = ghost.find((r) => r.statusCode === 429);
    expect(k && g).toBeTruthy();
    expect(stable(g!.body)).toEqual(stable(k!.body));
    expect(g!.headers['retry-after']).toBe(k!.headers['retry-after']);
    expect(g!.headers['content-type']).toBe(k!.headers['content-type']);
    // The failure answers before the lock were identical too.
    const k401 = known.find((r) => r.statusCode === 401);
    const g401 = ghost.find((r) => r.statusCode === 401);
    expect(stable(g401!.body)).toEqual(stable(k401!.body));
  });

  it('normalises the identifier: case and spaces do not buy more guesses', async () => {
    const user = await createUser(t.app);
    const variants = [
      user.email,
      user.email.toUpperCase(),
      ` ${user.email} `,
      user.email.replace(/^./, (c) => c.toUpperCase()),
    ];
    const res = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        loginAs(t.app, variants[i % variants.length]!, `Wrong-${i}-Harbor-Lantern`, { ip: `192.0.2.${i + 1}` }),
      ),
    );
    expect(res.filter((r) => r.statusCode === 401)).toHaveLength(5);
  });
});

describe('lockout store unreachable', () => {
  it('fails closed: 503 LOGIN_UNAVAILABLE with Retry-After, no password checked', async () => {
    const user = await createUser(t.app);
    const kv = t.deps.kv;
    const original = kv.run.bind(kv);
    kv.run = () => Promise.reject(new Error('connection refused'));
    try {
      const res = await loginAs(t.app, user.email, user.password);
      expect(res.statusCode).toBe(503);
      expect(res.json().code).toBe('LOGIN_UNAVAILABLE');
      expect(res.headers['retry-after']).toBe('5');
    } finally {
      kv.run = original;
    }
    expect((await loginAs(t.app, user.email, user.password)).statusCode).toBe(200);
  });
});

describe('two nodes sharing Redis', () => {
  it.skipIf(!TEST_REDIS_URL)(
    '(needs TEST_REDIS_URL) count one identifier together: 5 guesses in all, however the volley is split',
    async () => {
      // Same KV prefix = the same Redis keys, as two nodes of one deployment. The identifier has
      // no account: counting never needs the database.
      const prefix = `test:shared:${Date.now()}:`;
      const a = await buildTestApp({ KV_PREFIX: prefix, MAIL_POLL_INTERVAL: '0' });
      const b = await buildTestApp({ KV_PREFIX: prefix, MAIL_POLL_INTERVAL: '0' });
      try {
        const email = uniqueEmail('shared');
        const res = await Promise.all(
          Array.from({ length: 30 }, (_, i) =>
            loginAs(i % 2 ? a.app : b.app, email, `Wrong-${i}-Harbor-Lantern`, { ip: `198.51.100.${i + 1}` }),
          ),
        );
        expect(res.filter((r) => r.statusCode === 401)).toHaveLength(5);
        expect(res.filter((r) => r.statusCode === 429)).toHaveLength(25);
      } finally {
        await a.close();
        await b.close();
      }
    },
  );
});
