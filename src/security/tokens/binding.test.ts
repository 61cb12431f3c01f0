/**
 * Binding and browser mode, attacked: a token replayed from another machine (permissive logs it,
 * strict refuses it), and cookie sessions driven by another site (CSRF).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.js';
import { strongPassword, uniqueEmail } from '../../../test/helpers/factories.js';
import { fingerprint, networkOf } from '../../http/request-identity.js';
import { COOKIE_ACCESS, COOKIE_CSRF, COOKIE_REFRESH } from './cookies.js';

const UA = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';

async function signIn(t: TestApp, headers: Record<string, string> = {}) {
  const email = uniqueEmail();
  const password = strongPassword();
  await t.app.users.create({ email, password, name: 'B', role: 'user' });
  return t.app.inject({
    method: 'POST',
    url: '/api/auth/login',
    payload: { email, password },
    headers: { 'user-agent': UA, ...headers },
  });
}

describe('fingerprint', () => {
  it('covers the configured parts only, without ambiguity', () => {
    const a = { ip: '203.0.113.7', userAgent: UA };
    expect(fingerprint(['ua', 'ip'], a)).not.toBe(fingerprint(['ua', 'ip'], { ...a, ip: '203.0.113.8' }));
    expect(fingerprint(['ua', 'ip-prefix'], a)).toBe(fingerprint(['ua', 'ip-prefix'], { ...a, ip: '203.0.113.8' }));
    expect(fingerprint(['ua', 'ip-prefix'], a)).not.toBe(fingerprint(['ua', 'ip-prefix'], { ...a, ip: '203.0.114.7' }));
    expect(fingerprint(['ip'], a)).toBe(fingerprint(['ip'], { ...a, userAgent: 'curl' }));
    // Length-prefixed parts: moving characters between parts changes the hash.
    expect(fingerprint(['ua', 'ip'], { ip: '1.2.3.4', userAgent: 'ab' })).not.toBe(
      fingerprint(['ua', 'ip'], { ip: 'b1.2.3.4', userAgent: 'a' }),
    );
    expect(networkOf('2001:db8:1:2::5')).toBe('2001:db8:1::/48');
    expect(networkOf('::ffff:198.51.100.9')).toBe('198.51.100.0/24');
  });
});

describe('TOKEN_BINDING=permissive (default)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp();
  });
  afterAll(async () => t.close());

  it('accepts a token used from another client but writes token.binding.mismatch once', async () => {
    const login = await signIn(t);
    const { accessToken } = login.json<{ accessToken: string }>();
    for (let i = 0; i < 3; i++) {
      const res = await t.app.inject({
        method: 'GET',
        url: '/api/auth/me',
        headers: { authorization: `Bearer ${accessToken}`, 'user-agent': 'stolen/1.0' },
      });
      expect(res.statusCode).toBe(200);
    }
    await t.app.audit.flush();
    const rows = await t.deps.db.query(`select 1 from audit_events where action = 'token.binding.mismatch'`);
    expect(rows).toHaveLength(1);
  });
});

describe('TOKEN_BINDING=strict', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ TOKEN_BINDING: 'strict' });
  });
  afterAll(async () => t.close());

  it('refuses a token replayed from another User-Agent, on access and refresh', async () => {
    const login = await signIn(t);
    const { accessToken, refreshToken } = login.json<{ accessToken: string; refreshToken: string }>();
    const ok = await t.app.inject({
      method: 'GET',
      url: '/api/auth/me',
      headers: { authorization: `Bearer ${accessToken}`, 'user-agent': UA },
    });
    expect(ok.statusCode).toBe(200);
    const stolen = await t.app.inject({
      method: 'GET',
      url: '/api/auth/me',
      headers: { authorization: `Bearer ${accessToken}`, 'user-agent': 'curl/8.0' },
    });
    expect(stolen.statusCode).toBe(401);
    expect(stolen.json<{ code: string }>().code).toBe('INVALID_TOKEN');
    const refresh = await t.app.inject({
      method: 'POST',
      url: '/api/auth/refresh',
      payload: { refreshToken },
      headers: { 'user-agent': 'curl/8.0' },
    });
    expect(refresh.statusCode).toBe(401);
    // The owner's refresh still works: the thief's failed attempt did not spend it.
    const owner = await t.app.inject({
      method: 'POST',
      url: '/api/auth/refresh',
      payload: { refreshToken },
      headers: { 'user-agent': UA },
    });
    expect(owner.statusCode).toBe(200);
  });

  it('refuses a token replayed from another address', async () => {
    const login = await signIn(t);
    const { accessToken } = login.json<{ accessToken: string }>();
    const res = await t.app.inject({
      method: 'GET',
      url: '/api/auth/me',
      remoteAddress: '198.51.100.23',
      headers: { authorization: `Bearer ${accessToken}`, 'user-agent': UA },
    });
    expect(res.statusCode).toBe(401);
  });
});

describe('AUTH_COOKIES=true (browser mode)', () => {
  let t: TestApp;
  const origin = 'http://localhost:3000';
  beforeAll(async () => {
    t = await buildTestApp({ AUTH_COOKIES: 'true', PUBLIC_URL: origin });
  });
  afterAll(async () => t.close());

  function cookiesOf(res: {
    cookies: { name: string; value: string; httpOnly?: boolean; secure?: boolean; sameSite?: string; path?: string }[];
  }) {
    return Object.fromEntries(res.cookies.map((c) => [c.name, c]));
  }

  async function browserLogin() {
    const res = await signIn(t, { origin });
    expect(res.statusCode).toBe(200);
    const jar = cookiesOf(res);
    return {
      res,
      jar,
      header: `${COOKIE_ACCESS}=${jar[COOKIE_ACCESS]?.value}; ${COOKIE_CSRF}=${jar[COOKIE_CSRF]?.value}`,
    };
  }

  it('sets httpOnly, Secure, SameSite=Strict cookies and keeps the tokens out of the body', async () => {
    const { res, jar } = await browserLogin();
    const body = res.json<Record<string, unknown>>();
    expect(body['accessToken']).toBeUndefined();
    expect(body['refreshToken']).toBeUndefined();
    expect(body['expiresIn']).toBeGreaterThan(0);
    for (const name of [COOKIE_ACCESS, COOKIE_REFRESH]) {
      expect(jar[name]).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict' });
    }
    expect(jar[COOKIE_REFRESH]?.path).toBe('/api/auth');
    expect(jar[COOKIE_CSRF]?.httpOnly).toBeFalsy();
  });

  it('reads with the cookie; state changes need the CSRF token and our Origin', async () => {
    const { jar, header } = await browserLogin();
    const read = await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: { cookie: header } });
    expect(read.statusCode).toBe(200);

    const create = (headers: Record<string, string>) =>
      t.app.inject({
        method: 'POST',
        url: '/api/portfolios',
        payload: { title: 'Mine', slug: `p-${Date.now()}-${Math.random().toString(36).slice(2, 8)}` },
        headers: { cookie: header, ...headers },
      });
    const csrf = jar[COOKIE_CSRF]?.value ?? '';
    // A cross-site form post: our cookies ride along, but no token and a foreign Origin.
    expect((await create({ origin: 'https://evil.example' })).statusCode).toBe(403);
    expect((await create({ origin: 'https://evil.example', 'x-csrf-token': csrf })).json<{ code: string }>().code).toBe(
      'CSRF_FAILED',
    );
    expect((await create({ origin, 'x-csrf-token': 'guessed' })).statusCode).toBe(403);
    expect((await create({ 'x-csrf-token': csrf })).statusCode).toBe(403); // no Origin, no Referer
    expect((await create({ origin, 'x-csrf-token': csrf })).statusCode).toBe(201);
    expect((await create({ referer: `${origin}/editor`, 'x-csrf-token': csrf })).statusCode).toBe(201);
  });

  it('refreshes from the cookie with CSRF, and logout clears the cookies', async () => {
    const { jar } = await browserLogin();
    const refreshCookie = `${COOKIE_REFRESH}=${jar[COOKIE_REFRESH]?.value}; ${COOKIE_CSRF}=${jar[COOKIE_CSRF]?.value}`;
    const refused = await t.app.inject({
      method: 'POST',
      url: '/api/auth/refresh',
      headers: { cookie: refreshCookie, origin: 'https://evil.example' },
    });
    expect(refused.statusCode).toBe(403);
    const ok = await t.app.inject({
      method: 'POST',
      url: '/api/auth/refresh',
      headers: { cookie: refreshCookie, origin, 'x-csrf-token': jar[COOKIE_CSRF]?.value ?? '' },
    });
    expect(ok.statusCode).toBe(200);
    const next = cookiesOf(ok);
    expect(next[COOKIE_ACCESS]?.value).toBeTruthy();
    const cookieHeader = `${COOKIE_ACCESS}=${next[COOKIE_ACCESS]?.value}; ${COOKIE_CSRF}=${next[COOKIE_CSRF]?.value}`;
    const out = await t.app.inject({
      method: 'POST',
      url: '/api/auth/logout',
      headers: { cookie: cookieHeader, origin, 'x-csrf-token': next[COOKIE_CSRF]?.value ?? '' },
    });
    expect(out.statusCode).toBe(204);
    expect(cookiesOf(out)[COOKIE_ACCESS]?.value).toBe('');
    expect(
      (await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: { cookie: cookieHeader } })).statusCode,
    ).toBe(401);
  });

  it('refuses a sign-in posted from another site (login CSRF)', async () => {
    const email = uniqueEmail();
    const password = strongPassword();
    await t.app.users.create({ email, password, name: 'B', role: 'user' });
    for (const foreign of ['https://evil.example', 'null']) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/auth/login',
        payload: { email, password },
        headers: { origin: foreign },
      });
      expect(res.statusCode).toBe(403);
      expect(res.json<{ code: string }>().code).toBe('CSRF_FAILED');
      expect(res.cookies).toHaveLength(0);
    }
  });

  it('a Bearer header needs no CSRF token (not sent automatically by browsers)', async () => {
    const email = uniqueEmail();
    const password = strongPassword();
    await t.app.users.create({ email, password, name: 'B', role: 'user' });
    // Browser mode keeps tokens out of bodies; an API client gets one from the session service.
    const login = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password } });
    const access = cookiesOf(login)[COOKIE_ACCESS]?.value ?? '';
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/portfolios',
      payload: { title: 'API', slug: `api-${Date.now()}` },
      headers: { authorization: `Bearer ${access}` },
    });
    expect(res.statusCode).toBe(201);
  });
});
