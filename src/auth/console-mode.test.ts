/**
 * The web console's sign-in on the default configuration (AUTH_COOKIES unset, i.e. false): it asks
 * for browser mode with `X-Auth-Mode: browser` from our own origin and gets httpOnly cookies with
 * CSRF protection, never tokens in a body, through every sign-in state a browser can reach:
 * password, TOTP and backup-code second factors, "remember this device", the forced password
 * change, the MFA enrollment deadline, lockout and rate limits (docs/CONSOLE.md, "Server API used
 * by the console"). The same routes keep answering API clients with tokens.
 *
 * Each attack is what a hostile page can do with a victim's browser: post with our cookies riding
 * along but without the CSRF token, post from its own origin, or try to obtain a cookie sign-in.
 */
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../test/helpers/app.js';
import { createUser, strongPassword, type TestUser } from '../../test/helpers/factories.js';
import { enrollTotp, oathCode, UA } from '../../test/support/mfa/helpers.js';
import { COOKIE_ACCESS, COOKIE_CSRF, COOKIE_REFRESH } from '../security/tokens/cookies.js';
import { DEVICE_COOKIE } from '../security/mfa/routes.js';

const ORIGIN = 'http://localhost:3999';
const FRIEND = 'https://friend.example';

type Jar = Record<string, string>;

/** What a browser keeps of the Set-Cookie headers: a cleared cookie (empty value) is dropped. */
function absorb(jar: Jar, res: LightMyRequestResponse): Jar {
  for (const c of res.cookies as { name: string; value: string }[]) {
    if (c.value === '') delete jar[c.name];
    else jar[c.name] = c.value;
  }
  return jar;
}

function cookieOf(res: LightMyRequestResponse, name: string) {
  return (
    res.cookies as {
      name: string;
      value: string;
      httpOnly?: boolean;
      secure?: boolean;
      sameSite?: string;
      path?: string;
    }[]
  ).find((c) => c.name === name);
}

const cookieHeader = (jar: Jar) =>
  Object.entries(jar)
    .map(([k, v]) => `${k}=${v}`)
    .join('; ');

/** The console's headers: browser mode from our origin, the cookies, and the CSRF token read off its cookie. */
function consoleHeaders(jar: Jar, extra: Record<string, string> = {}): Record<string, string> {
  return {
    'user-agent': UA,
    origin: ORIGIN,
    'x-auth-mode': 'browser',
    ...(Object.keys(jar).length > 0 ? { cookie: cookieHeader(jar) } : {}),
    ...(jar[COOKIE_CSRF] ? { 'x-csrf-token': jar[COOKIE_CSRF] } : {}),
    ...extra,
  };
}

describe('console sign-in in browser mode with AUTH_COOKIES off (the default)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ PUBLIC_URL: ORIGIN, CORS_ORIGINS: FRIEND });
    expect(t.config.AUTH_COOKIES).toBe(false);
  });
  afterAll(async () => t.close());

  const post = (url: string, headers: Record<string, string>, payload?: Record<string, unknown>) =>
    t.app.inject({ method: 'POST', url, headers, ...(payload === undefined ? {} : { payload }) });

  async function consoleLogin(user: { email: string; password: string }, jar: Jar = {}) {
    const res = await post('/api/auth/login', consoleHeaders(jar), { email: user.email, password: user.password });
    absorb(jar, res);
    return { res, jar };
  }

  const newPortfolio = () => ({ title: 'Mine', slug: `c-${Date.now()}-${Math.random().toString(36).slice(2, 8)}` });

  it('an API client still gets its tokens in the body and no cookies', async () => {
    const user = await createUser(t.app);
    const res = await post('/api/auth/login', { 'user-agent': UA }, { email: user.email, password: user.password });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toHaveProperty('accessToken');
    expect(res.cookies).toHaveLength(0);
    // Its logout sends no Set-Cookie either.
    const out = await post('/api/auth/logout', { authorization: `Bearer ${res.json().accessToken as string}` });
    expect(out.statusCode).toBe(204);
    expect(out.headers['set-cookie']).toBeUndefined();
  });

  it('X-Auth-Mode: browser from our origin signs in with httpOnly cookies only; a state change needs the CSRF token', async () => {
    const user = await createUser(t.app);
    const { res, jar } = await consoleLogin(user);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<Record<string, unknown>>();
    expect(body['accessToken']).toBeUndefined();
    expect(body['refreshToken']).toBeUndefined();
    expect(body).toMatchObject({ tokenType: 'Bearer', sessionId: expect.any(String) });
    expect(cookieOf(res, COOKIE_ACCESS)).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict', path: '/' });
    expect(cookieOf(res, COOKIE_REFRESH)).toMatchObject({ httpOnly: true, secure: true, path: '/api/auth' });
    expect(cookieOf(res, COOKIE_CSRF)?.httpOnly).toBeFalsy(); // the page reads it to echo it

    // Who am I: a read needs the cookie only.
    const me = await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: { cookie: cookieHeader(jar) } });
    expect(me.statusCode).toBe(200);
    expect(me.json().user).toMatchObject({
      id: user.id,
      email: user.email,
      emailVerified: false,
      emailVerifiedAt: null,
    });

    const create = (headers: Record<string, string>) =>
      t.app.inject({ method: 'POST', url: '/api/portfolios', headers, payload: newPortfolio() });
    // A hostile page: the cookies ride along, but it can neither read nor set the CSRF cookie.
    const noToken = await create({ cookie: cookieHeader(jar), origin: ORIGIN });
    expect(noToken.statusCode).toBe(403);
    expect(noToken.json().code).toBe('CSRF_FAILED');
    expect((await create({ cookie: cookieHeader(jar), origin: ORIGIN, 'x-csrf-token': 'guessed' })).statusCode).toBe(
      403,
    );
    const foreign = await create({
      cookie: cookieHeader(jar),
      origin: 'https://evil.example',
      'x-csrf-token': jar[COOKIE_CSRF] ?? '',
    });
    expect(foreign.json().code).toBe('CSRF_FAILED');
    // The console itself.
    const ok = await create(consoleHeaders(jar));
    expect(ok.statusCode, ok.body).toBe(201);
  });

  it('browser mode is granted to our own origin only: a foreign site, a CORS origin, no Origin and another value are refused', async () => {
    const user = await createUser(t.app);
    const attempt = (headers: Record<string, string>) =>
      post(
        '/api/auth/login',
        { 'user-agent': UA, 'x-auth-mode': 'browser', ...headers },
        {
          email: user.email,
          password: user.password,
        },
      );
    for (const headers of [
      { origin: 'https://evil.example' },
      { origin: 'null' },
      { origin: FRIEND }, // allowed for CORS, but the console is served by this server
      {},
      { referer: 'https://evil.example/login' },
    ] as Record<string, string>[]) {
      const res = await attempt(headers);
      expect(res.statusCode, JSON.stringify(headers)).toBe(403);
      expect(res.json().code).toBe('CSRF_FAILED');
      expect(res.cookies).toHaveLength(0);
      expect(res.json()).not.toHaveProperty('accessToken');
    }
    const other = await attempt({ origin: ORIGIN, 'x-auth-mode': 'cookies' });
    expect(other.statusCode).toBe(400);
    expect(other.json().code).toBe('VALIDATION_FAILED');
    // Referer from our own pages stands in for a missing Origin, as for the CSRF check.
    const byReferer = await attempt({ referer: `${ORIGIN}/account/sign-in` });
    expect(byReferer.statusCode).toBe(200);
    expect(cookieOf(byReferer, COOKIE_ACCESS)).toBeDefined();
  });

  it('refresh reads the refresh cookie under the CSRF check and answers cookies; logout clears them and ends the session', async () => {
    const user = await createUser(t.app);
    const { jar } = await consoleLogin(user);
    const oldAccess = jar[COOKIE_ACCESS];

    // Without the CSRF token the refresh cookie is not used.
    const forged = await post('/api/auth/refresh', { cookie: cookieHeader(jar), origin: ORIGIN });
    expect(forged.statusCode).toBe(403);
    expect(forged.json().code).toBe('CSRF_FAILED');

    // The console's refresh, even without X-Auth-Mode, stays in browser mode: no tokens in the body.
    const refreshed = await post('/api/auth/refresh', {
      cookie: cookieHeader(jar),
      origin: ORIGIN,
      'x-csrf-token': jar[COOKIE_CSRF] ?? '',
      'user-agent': UA,
    });
    expect(refreshed.statusCode, refreshed.body).toBe(200);
    expect(refreshed.json()).not.toHaveProperty('accessToken');
    expect(refreshed.json()).not.toHaveProperty('refreshToken');
    absorb(jar, refreshed);
    expect(jar[COOKIE_ACCESS]).toBeDefined();
    expect(jar[COOKIE_ACCESS]).not.toBe(oldAccess);

    const out = await post('/api/auth/logout', consoleHeaders(jar));
    expect(out.statusCode).toBe(204);
    const before = { ...jar };
    absorb(jar, out);
    expect(jar[COOKIE_ACCESS]).toBeUndefined();
    expect(jar[COOKIE_REFRESH]).toBeUndefined();
    // A copy of the old cookies (another tab, a thief) no longer works.
    const me = await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: { cookie: cookieHeader(before) } });
    expect(me.statusCode).toBe(401);
  });

  async function totpUser(): Promise<TestUser & { secret: string; backupCodes: string[] }> {
    const user = await createUser(t.app);
    const { secret, backupCodes } = await enrollTotp(t.app, t.clock, user);
    return { ...user, secret, backupCodes };
  }

  it('TOTP second factor with "remember this device": cookies, a device cookie (no deviceToken in the body), the device marked current', async () => {
    const user = await totpUser();
    const first = await consoleLogin(user);
    expect(first.res.statusCode).toBe(200);
    expect(first.res.json()).toMatchObject({ mfaRequired: true, methods: ['totp', 'backup_code'] });
    expect(first.res.cookies).toHaveLength(0); // the password alone gives no session
    const jar: Jar = {};
    const verified = await post('/api/auth/mfa/verify', consoleHeaders(jar), {
      mfaToken: first.res.json().mfaToken,
      code: oathCode(user.secret, t.clock.now().getTime()),
      rememberDevice: true,
      deviceName: 'Console laptop',
    });
    expect(verified.statusCode, verified.body).toBe(200);
    expect(verified.json()).not.toHaveProperty('accessToken');
    expect(verified.json()).not.toHaveProperty('deviceToken');
    expect(cookieOf(verified, DEVICE_COOKIE)).toMatchObject({ httpOnly: true, secure: true, path: '/api/auth' });
    expect(cookieOf(verified, COOKIE_ACCESS)?.httpOnly).toBe(true);
    absorb(jar, verified);

    // The remembered device skips the second factor on the next console sign-in.
    const device = { [DEVICE_COOKIE]: jar[DEVICE_COOKIE] ?? '' };
    const again = await consoleLogin(user, { ...device });
    expect(again.res.statusCode).toBe(200);
    expect(again.res.json()).not.toHaveProperty('mfaRequired');
    expect(again.jar[COOKIE_ACCESS]).toBeDefined();

    // A second remembered device (another browser), then the list from the first one.
    t.clock.advance(30_000);
    const other = await consoleLogin(user);
    const otherVerified = await post('/api/auth/mfa/verify', consoleHeaders({}), {
      mfaToken: other.res.json().mfaToken,
      code: oathCode(user.secret, t.clock.now().getTime()),
      rememberDevice: true,
      deviceName: 'Phone',
    });
    expect(otherVerified.statusCode).toBe(200);
    const list = await t.app.inject({
      method: 'GET',
      url: '/api/auth/mfa/devices',
      headers: consoleHeaders(again.jar),
    });
    expect(list.statusCode).toBe(200);
    const items = list.json<{ items: { label: string; current: boolean }[] }>().items;
    expect(items.map((d) => [d.label, d.current]).sort()).toEqual([
      ['Console laptop', true],
      ['Phone', false],
    ]);
    // "Forget all others" keeps the current one.
    const forget = await t.app.inject({
      method: 'DELETE',
      url: '/api/auth/mfa/devices?keepCurrent=true',
      headers: consoleHeaders(again.jar),
    });
    expect(forget.statusCode, forget.body).toBe(200);
    expect(forget.json()).toEqual({ revoked: 1 });
    const after = await t.app.inject({
      method: 'GET',
      url: '/api/auth/mfa/devices',
      headers: consoleHeaders(again.jar),
    });
    expect(after.json<{ items: { label: string; current: boolean }[] }>().items).toMatchObject([
      { label: 'Console laptop', current: true },
    ]);
  });

  it('a backup code as the second factor in browser mode', async () => {
    const user = await totpUser();
    const first = await consoleLogin(user);
    const jar: Jar = {};
    const verified = await post('/api/auth/mfa/verify', consoleHeaders(jar), {
      mfaToken: first.res.json().mfaToken,
      backupCode: user.backupCodes[0],
    });
    expect(verified.statusCode, verified.body).toBe(200);
    expect(verified.json()).toMatchObject({ backupCodesRemaining: 9 });
    expect(verified.json()).not.toHaveProperty('accessToken');
    absorb(jar, verified);
    const me = await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: { cookie: cookieHeader(jar) } });
    expect(me.statusCode).toBe(200);
  });

  it('forced password change in browser mode: a restricted cookie session, the change answers fresh cookies, sign-out works', async () => {
    const user = await createUser(t.app);
    await t.app.users.repo.update(user.id, { mustChangePassword: true });
    const { res, jar } = await consoleLogin(user);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ passwordChangeRequired: true });
    expect(res.json()).not.toHaveProperty('accessToken');
    const me = await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: { cookie: cookieHeader(jar) } });
    expect(me.statusCode).toBe(403);
    expect(me.json().code).toBe('PASSWORD_CHANGE_REQUIRED');

    // Sign-out is never refused, even in this state.
    const copy = { ...jar };
    expect((await post('/api/auth/logout', consoleHeaders(copy))).statusCode).toBe(204);

    const { jar: second } = await consoleLogin(user);
    const newPassword = strongPassword();
    // Without the CSRF token a hostile page cannot change it.
    const forged = await post(
      '/api/auth/password/change',
      { cookie: cookieHeader(second), origin: ORIGIN },
      {
        currentPassword: user.password,
        newPassword,
      },
    );
    expect(forged.json().code).toBe('CSRF_FAILED');
    const changed = await post('/api/auth/password/change', consoleHeaders(second), {
      currentPassword: user.password,
      newPassword,
    });
    expect(changed.statusCode, changed.body).toBe(200);
    expect(changed.json()).toMatchObject({ status: 'changed' });
    expect(changed.json()).not.toHaveProperty('accessToken');
    absorb(second, changed);
    const now = await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: { cookie: cookieHeader(second) } });
    expect(now.statusCode).toBe(200);
    expect(now.json().user.mustChangePassword).toBe(false);
  });

  it('MFA enrollment required in browser mode: the grace period is announced, then the cookie session may only enroll (QR as a data: URL)', async () => {
    const admin = await createUser(t.app, { role: 'admin' });
    const inGrace = await consoleLogin(admin);
    expect(inGrace.res.statusCode).toBe(200);
    expect(inGrace.res.json()).toMatchObject({ mfaEnrollmentRequired: true, enrollBy: expect.any(String) });
    expect(inGrace.jar[COOKIE_ACCESS]).toBeDefined();

    t.clock.advance((t.config.MFA_ENROLLMENT_GRACE_DAYS + 1) * 86_400_000);
    const { res, jar } = await consoleLogin(admin);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ mfaEnrollmentRequired: true });
    const refused = await t.app.inject({ method: 'GET', url: '/api/admin/users', headers: consoleHeaders(jar) });
    expect(refused.json().code).toBe('MFA_ENROLLMENT_REQUIRED');
    // Enrolling is a state change: the CSRF token is required there too.
    const forged = await post(
      '/api/auth/mfa/totp/enroll',
      { cookie: cookieHeader(jar), origin: ORIGIN },
      {
        password: admin.password,
      },
    );
    expect(forged.json().code).toBe('CSRF_FAILED');
    const enroll = await post('/api/auth/mfa/totp/enroll', consoleHeaders(jar), { password: admin.password });
    expect(enroll.statusCode, enroll.body).toBe(200);
    const { secret, qrCode } = enroll.json<{ secret: string; qrCode: string }>();
    // A strict CSP with `img-src 'self' data:` shows it.
    expect(qrCode).toMatch(/^data:image\/png;base64,[A-Za-z0-9+/]+=*$/);
    expect(secret).toMatch(/^[A-Z2-7]+=*$/);
    const confirm = await post('/api/auth/mfa/totp/confirm', consoleHeaders(jar), {
      code: oathCode(secret, t.clock.now().getTime()),
    });
    expect(confirm.statusCode, confirm.body).toBe(200);
    expect(confirm.json().backupCodes).toHaveLength(10);
  });

  it('a lockout answers its wait in Retry-After and in the problem body', async () => {
    const user = await createUser(t.app);
    let last: LightMyRequestResponse | undefined;
    for (let i = 0; i < t.config.LOCKOUT_THRESHOLD + 1; i++) {
      last = await post('/api/auth/login', consoleHeaders({}), { email: user.email, password: 'Wrong-password-123' });
    }
    expect(last?.statusCode).toBe(429);
    const problem = last?.json<{ code: string; retryAfter: number }>();
    expect(problem?.code).toBe('ACCOUNT_LOCKED');
    expect(problem?.retryAfter).toBeGreaterThan(0);
    expect(String(problem?.retryAfter)).toBe(last?.headers['retry-after']);
  });
});

describe('console sign-in under the rate limits', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ PUBLIC_URL: ORIGIN, RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_LOGIN_PER_MINUTE: '2' });
  });
  afterAll(async () => t.close());

  it('a rate-limited sign-in answers its wait in Retry-After and in the problem body', async () => {
    const payload = { email: 'nobody@example.test', password: 'Wrong-password-123' };
    const answers: LightMyRequestResponse[] = [];
    for (let i = 0; i < 3; i++) {
      answers.push(
        await t.app.inject({ method: 'POST', url: '/api/auth/login', headers: consoleHeaders({}), payload }),
      );
    }
    const limited = answers[2];
    expect(limited?.statusCode).toBe(429);
    const problem = limited?.json<{ code: string; retryAfter: number }>();
    expect(problem?.code).toBe('RATE_LIMITED');
    expect(problem?.retryAfter).toBeGreaterThan(0);
    expect(String(problem?.retryAfter)).toBe(limited?.headers['retry-after']);
  });
});
