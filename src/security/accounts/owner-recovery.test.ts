/**
 * The owner can always get back in (docs/ACCOUNT_SECURITY.md, "When an attacker spends the
 * account"), with the shield on: an attacker who spends an account's per-account login budget
 * (`login-account`) and locks it does not keep its owner out, and the app's own refusals
 * (ACCOUNT_LOCKED, CONTACT_LIMIT_REACHED, login-account RATE_LIMITED) never get the owner's
 * address blocked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.js';
import { createPortfolio, createUser, strongPassword, type TestUser } from '../../../test/helpers/factories.js';
import { client, enrollTotp, login, oathCode, verify } from '../../../test/support/mfa/helpers.js';
import { loginAs, mailsTo, tokenIn } from '../../../test/support/accounts/helpers.js';

/** Shield defaults (login-account 10 an hour, auto block after 10 violations), roomy client limits. */
const SHIELD = {
  MAIL_POLL_INTERVAL: '0',
  RATE_LIMIT_ENABLED: 'true',
  AUTO_BLOCK_ENABLED: 'true',
  RATE_LIMIT_PER_MINUTE: '10000',
  RATE_LIMIT_PER_HOUR: '100000',
  RATE_LIMIT_LOGIN_PER_MINUTE: '1000',
  RATE_LIMIT_LOGIN_PER_HOUR: '10000',
  RATE_LIMIT_ACCOUNT_MAIL_PER_MINUTE: '1000',
  RATE_LIMIT_ACCOUNT_MAIL_PER_HOUR: '10000',
  RATE_LIMIT_CONTACT_PER_MINUTE: '1000',
  RATE_LIMIT_CONTACT_PER_HOUR: '10000',
  RATE_LIMIT_LOGIN_ACCOUNT_PER_HOUR: '10',
  CONTACT_MAX_PER_DAY: '1',
};

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp(SHIELD);
});
afterAll(async () => {
  await t?.close();
});

const post = (url: string, payload: Record<string, unknown>, ip = '127.0.0.1') =>
  t.app.inject({ method: 'POST', url, payload, remoteAddress: ip });

/**
 * The attacker, from a new address each time, until the account is locked and its hourly login
 * budget is spent: 5 guesses checked, then ACCOUNT_LOCKED, then the per-account RATE_LIMITED.
 */
async function spendAccount(email: string, from: number): Promise<void> {
  const codes: string[] = [];
  for (let i = 0; i < 14; i++) {
    const res = await loginAs(t.app, email, `Wrong-${i}-Harbor-Lantern`, { ip: `203.0.${from}.${i + 1}` });
    codes.push(res.statusCode === 401 ? '401' : String(res.json().code));
  }
  expect(codes.filter((c) => c === '401')).toHaveLength(5);
  expect(codes).toContain('ACCOUNT_LOCKED');
  expect(codes.at(-1)).toBe('RATE_LIMITED');
}

async function blocked(ip: string): Promise<boolean> {
  await t.app.shield.limiter.settled();
  return (await t.app.shield.limiter.blocks.get(ip)) !== null;
}

describe('the owner gets back in after an attacker spent the account', () => {
  it('the unlock link clears the lockout and the per-account login budget', async () => {
    const owner = await createUser(t.app);
    await spendAccount(owner.email, 1);
    const refused = await loginAs(t.app, owner.email, owner.password, { ip: '198.51.100.1' });
    expect(refused.statusCode).toBe(429);
    const link = tokenIn((await mailsTo(t.app, owner.email, 'unlock_account')).at(-1));
    expect((await post('/api/auth/unlock', { token: link }, '198.51.100.1')).statusCode).toBe(200);
    const res = await loginAs(t.app, owner.email, owner.password, { ip: '198.51.100.1' });
    expect(res.statusCode, res.body).toBe(200);
  });

  it('a completed password reset clears them too: the new password works at once', async () => {
    const owner = await createUser(t.app);
    await spendAccount(owner.email, 2);
    expect((await post('/api/auth/password/forgot', { email: owner.email }, '198.51.100.2')).statusCode).toBe(202);
    const token = tokenIn((await mailsTo(t.app, owner.email, 'password_reset')).at(-1));
    const next = strongPassword();
    expect((await post('/api/auth/password/reset', { token, newPassword: next }, '198.51.100.2')).statusCode).toBe(200);
    const res = await loginAs(t.app, owner.email, next, { ip: '198.51.100.2' });
    expect(res.statusCode, res.body).toBe(200);
  });

  it("the owner's trusted device has its own login budget, as it has its own lockout counter", async () => {
    const owner = await createUser(t.app);
    const { secret } = await enrollTotp(t.app, t.clock, owner);
    const first = await login(t.app, owner);
    const v = await verify(t.app, {
      mfaToken: first.body['mfaToken'],
      code: oathCode(secret, t.clock.now().getTime()),
      rememberDevice: true,
    });
    expect(v.status, JSON.stringify(v.body)).toBe(200);
    const deviceToken = String(v.body['deviceToken']);
    await spendAccount(owner.email, 3);
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      headers: { ...client(), 'x-device-token': deviceToken },
      payload: { email: owner.email, password: owner.password },
    });
    expect(res.statusCode, res.body).toBe(200);
    // A made-up device token is no device: the shared budget, still spent.
    const forged = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      headers: { ...client(), 'x-device-token': 'A'.repeat(43) },
      payload: { email: owner.email, password: owner.password },
    });
    expect(forged.statusCode).toBe(429);
  });
});

describe("the app's own refusals are not the client's violations", () => {
  let owner: TestUser;
  const ownerIp = '198.51.100.50';
  let session: string;
  let slug: string;

  beforeAll(async () => {
    owner = await createUser(t.app);
    const signedIn = await loginAs(t.app, owner.email, owner.password, { ip: ownerIp });
    expect(signedIn.statusCode).toBe(200);
    session = String(signedIn.json().accessToken);
    slug = (await createPortfolio(t.app, owner, { visibility: 'public', published: true })).slug;
  });

  const stillIn = async () => {
    const me = await t.app.inject({
      method: 'GET',
      url: '/api/auth/me',
      remoteAddress: ownerIp,
      headers: { authorization: `Bearer ${session}` },
    });
    const page = await t.app.inject({ method: 'GET', url: `/api/public/portfolios/${slug}`, remoteAddress: ownerIp });
    return { me: me.statusCode, page: page.statusCode };
  };

  it("retrying the right password against a locked, spent account never blocks the owner's address", async () => {
    // The attacker locks the account (5 guesses); the owner's retries then meet the lock, and
    // once the account's hourly budget is gone, the per-account limit.
    for (let i = 0; i < 5; i++) {
      expect(
        (await loginAs(t.app, owner.email, `Wrong-${i}-Harbor-Lantern`, { ip: `203.0.4.${i + 1}` })).statusCode,
      ).toBe(401);
    }
    const codes = new Set<string>();
    for (let i = 0; i < 30; i++) {
      const res = await loginAs(t.app, owner.email, owner.password, { ip: ownerIp });
      expect(res.statusCode).toBe(429);
      codes.add(String(res.json().code));
    }
    // Both kinds of refusal were seen (the lockout's and the per-account limit's) ...
    expect(codes).toEqual(new Set(['ACCOUNT_LOCKED', 'RATE_LIMITED']));
    // ... and none of them counted: the session and the public pages still answer.
    expect(await blocked(ownerIp)).toBe(false);
    expect(await stillIn()).toEqual({ me: 200, page: 200 });
  });

  it('a portfolio at its daily contact cap (CONTACT_LIMIT_REACHED) does not block the sender', async () => {
    const send = (i: number) =>
      t.app.inject({
        method: 'POST',
        url: `/api/public/portfolios/${slug}/contact`,
        remoteAddress: ownerIp,
        payload: { name: 'Ada', email: 'ada@example.test', message: `Hello ${i}` },
      });
    expect((await send(0)).statusCode).toBe(202);
    for (let i = 1; i <= 15; i++) expect((await send(i)).json().code).toBe('CONTACT_LIMIT_REACHED');
    expect(await blocked(ownerIp)).toBe(false);
    expect(await stillIn()).toEqual({ me: 200, page: 200 });
  });
});

describe("the client's own limits still count", () => {
  let strict: TestApp;
  beforeAll(async () => {
    strict = await buildTestApp({
      ...SHIELD,
      RATE_LIMIT_LOGIN_PER_MINUTE: '5',
      RATE_LIMIT_LOGIN_PER_HOUR: '20',
      RATE_LIMIT_LOGIN_ACCOUNT_PER_HOUR: '2',
    });
  });
  afterAll(async () => {
    await strict?.close();
  });

  it("knocking on a spent account spends the client's own budget, and past it the client is blocked", async () => {
    const victim = await createUser(strict.app);
    for (let i = 0; i < 2; i++)
      await loginAs(strict.app, victim.email, `Wrong-${i}-Harbor-Lantern`, { ip: `192.0.2.${i + 1}` });
    const flooder = '192.0.2.99';
    const codes: string[] = [];
    for (let i = 0; i < 30; i++) {
      const res = await loginAs(strict.app, victim.email, `Wrong-x${i}-Harbor-Lantern`, { ip: flooder });
      codes.push(res.statusCode === 403 ? 'CLIENT_BLOCKED' : String(res.json().code));
    }
    // The per-account refusals charged the flooder's own budget (5 a minute); its own 429s
    // counted, and the tenth blocked it.
    expect(codes.slice(0, 5)).toEqual(Array(5).fill('RATE_LIMITED'));
    expect(codes.at(-1)).toBe('CLIENT_BLOCKED');
    await strict.app.shield.limiter.settled();
    expect(await strict.app.shield.limiter.blocks.get(flooder)).not.toBeNull();
  });
});
