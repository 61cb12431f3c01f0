/**
 * Basic authentication as an attacker would probe it: enumeration through login answers, weak
 * passwords (NIST SP 800-63B), token confusion (refresh used as access, alg=none, wrong key,
 * expired), and disabled accounts.
 */
import { SignJWT, UnsecuredJWT, decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../test/helpers/app.js';
import { useRealArgon2 } from '../../test/helpers/argon2.js';
import { createUser, strongPassword, uniqueEmail } from '../../test/helpers/factories.js';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(async () => {
  await t.close();
});

const post = (url: string, payload: unknown, headers: Record<string, string> = {}) =>
  t.app.inject({ method: 'POST', url, payload: payload as object, headers });

describe('register', () => {
  it('creates a user and answers 201 with the public shape only', async () => {
    const email = uniqueEmail();
    const res = await post('/api/auth/register', { email, password: strongPassword(), name: 'Ada' });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(Object.keys(body.user).sort()).toEqual(['email', 'id', 'name', 'role']);
    expect(body.user).toMatchObject({ email, name: 'Ada', role: 'user' });
    expect(res.body).not.toMatch(/argon2|hash/i);
  });

  it('treats emails case-insensitively (no second account for ADA@...)', async () => {
    const email = uniqueEmail();
    expect((await post('/api/auth/register', { email, password: strongPassword(), name: 'A' })).statusCode).toBe(201);
    const dup = await post('/api/auth/register', { email: email.toUpperCase(), password: strongPassword(), name: 'B' });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().code).toBe('EMAIL_TAKEN');
  });

  it.each([
    ['too short', 'Short1!x', /at least 12/],
    ['too long', 'a'.repeat(129), /at most 128/],
    ['common', 'password1234', /common|guess/],
    ['keyboard walk', 'qwertyuiopasdfgh', /common|guess/],
  ])('rejects a %s password with WEAK_PASSWORD', async (_name, password, detail) => {
    const res = await post('/api/auth/register', { email: uniqueEmail(), password, name: 'X' });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('WEAK_PASSWORD');
    expect(res.json().detail).toMatch(detail);
  });

  it("rejects a password built from the user's own email", async () => {
    const res = await post('/api/auth/register', {
      email: 'margaretha.vandersloot@example.test',
      password: 'margarethavandersloot',
      name: 'Margaretha',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('WEAK_PASSWORD');
  });

  it('cannot be used to pick a role', async () => {
    const res = await post('/api/auth/register', {
      email: uniqueEmail(),
      password: strongPassword(),
      name: 'M',
      role: 'admin',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('VALIDATION_FAILED');
  });
});

describe('login', () => {
  it('returns a token pair', async () => {
    const u = await createUser(t.app);
    const res = await post('/api/auth/login', { email: u.email, password: u.password });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ tokenType: 'Bearer', expiresIn: t.config.ACCESS_TOKEN_TTL });
    const claims = decodeJwt(body.accessToken);
    expect(claims).toMatchObject({ sub: u.id, type: 'access', iss: t.config.JWT_ISSUER, aud: t.config.JWT_AUDIENCE });
    expect(typeof claims.jti).toBe('string');
  });

  it('accepts the email in any case', async () => {
    const u = await createUser(t.app);
    const res = await post('/api/auth/login', { email: u.email.toUpperCase(), password: u.password });
    expect(res.statusCode).toBe(200);
  });

  it('answers unknown email and wrong password identically (no enumeration)', async () => {
    const u = await createUser(t.app);
    const wrong = await post('/api/auth/login', { email: u.email, password: 'not-the-password-at-all' });
    const unknown = await post('/api/auth/login', { email: uniqueEmail('ghost'), password: 'not-the-password-at-all' });
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    const strip = (b: Record<string, unknown>) => ({ ...b, requestId: undefined });
    expect(strip(wrong.json())).toEqual(strip(unknown.json()));
    expect(wrong.json().code).toBe('INVALID_CREDENTIALS');
  });

  it('spends an argon2 verification on unknown emails too (similar time)', async () => {
    // Not a timing threshold: both paths must run the same verification. We count calls of the
    // expensive step by measuring that an unknown-email login is not orders of magnitude faster.
    // The production argon2 parameters for this test (the suite's are cheap: test/setup.ts).
    useRealArgon2();
    const u = await createUser(t.app);
    const time = async (email: string) => {
      const start = process.hrtime.bigint();
      for (let i = 0; i < 3; i++) await post('/api/auth/login', { email, password: 'not-the-password-at-all' });
      return Number(process.hrtime.bigint() - start);
    };
    const known = await time(u.email);
    const unknown = await time(uniqueEmail('ghost'));
    // argon2id with 19 MiB costs milliseconds; a skipped hash would be ~100x faster.
    expect(unknown).toBeGreaterThan(known / 10);
  });

  it('refuses disabled accounts with the same answer as bad credentials', async () => {
    const u = await createUser(t.app);
    await t.app.users.repo.update(u.id, { disabled: true });
    const res = await post('/api/auth/login', { email: u.email, password: u.password });
    expect(res.statusCode).toBe(401);
    expect(res.json().code).toBe('INVALID_CREDENTIALS');
  });
});

describe('tokens', () => {
  const me = (authorization: string) =>
    t.app.inject({ method: 'GET', url: '/api/auth/me', headers: { authorization } });

  it('GET /api/auth/me answers with the user, roles and permissions', async () => {
    const u = await createUser(t.app, { role: 'editor' });
    const res = await me(`Bearer ${u.accessToken}`);
    expect(res.statusCode).toBe(200);
    expect(res.json().user).toMatchObject({ id: u.id, email: u.email, role: 'editor' });
    expect(res.json().user.permissions).toContain('content:write_any');
  });

  it('needs a token', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/auth/me' });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/Bearer/);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
  });

  it('refuses a refresh token used as an access token', async () => {
    const u = await createUser(t.app);
    const res = await me(`Bearer ${u.refreshToken}`);
    expect(res.statusCode).toBe(401);
    expect(res.json().code).toBe('INVALID_TOKEN');
  });

  it('refuses an access token used as a refresh token', async () => {
    const u = await createUser(t.app);
    const res = await post('/api/auth/refresh', { refreshToken: u.accessToken });
    expect(res.statusCode).toBe(401);
  });

  it('refuses alg=none and tokens signed with another key', async () => {
    const u = await createUser(t.app);
    const claims = decodeJwt(u.accessToken);
    const none = new UnsecuredJWT({ ...claims }).encode();
    expect((await me(`Bearer ${none}`)).statusCode).toBe(401);
    const forged = await new SignJWT({ ...claims })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode('an-attacker-chosen-secret-of-32-bytes!!'));
    expect((await me(`Bearer ${forged}`)).statusCode).toBe(401);
  });

  it('refuses a token for another audience or issuer', async () => {
    const u = await createUser(t.app);
    const claims = decodeJwt(u.accessToken);
    const key = new TextEncoder().encode(t.deps.secrets.jwt);
    const otherAud = await new SignJWT({ ...claims, aud: 'other-api' }).setProtectedHeader({ alg: 'HS256' }).sign(key);
    const otherIss = await new SignJWT({ ...claims, iss: 'evil' }).setProtectedHeader({ alg: 'HS256' }).sign(key);
    expect((await me(`Bearer ${otherAud}`)).statusCode).toBe(401);
    expect((await me(`Bearer ${otherIss}`)).statusCode).toBe(401);
  });

  it('expires access tokens after ACCESS_TOKEN_TTL (injected clock, no sleeping)', async () => {
    const u = await createUser(t.app);
    t.clock.advance((t.config.ACCESS_TOKEN_TTL + 10) * 1000);
    try {
      const res = await me(`Bearer ${u.accessToken}`);
      expect(res.statusCode).toBe(401);
      // Expired answers like every other bad token (src/security/tokens/hostile-tokens.test.ts).
      expect(res.json().code).toBe('INVALID_TOKEN');
    } finally {
      t.clock.advance(-(t.config.ACCESS_TOKEN_TTL + 10) * 1000);
    }
  });

  it('stops accepting tokens of a user disabled after login', async () => {
    const u = await createUser(t.app);
    expect((await me(`Bearer ${u.accessToken}`)).statusCode).toBe(200);
    await t.app.users.update(u.id, { disabled: true });
    expect((await me(`Bearer ${u.accessToken}`)).statusCode).toBe(401);
    expect((await post('/api/auth/refresh', { refreshToken: u.refreshToken })).statusCode).toBe(401);
  });

  it('refresh returns a new working pair', async () => {
    const u = await createUser(t.app);
    const res = await post('/api/auth/refresh', { refreshToken: u.refreshToken });
    expect(res.statusCode).toBe(200);
    const pair = res.json();
    expect(pair.tokenType).toBe('Bearer');
    expect((await me(`Bearer ${pair.accessToken}`)).statusCode).toBe(200);
  });

  it.each(['Basic abc', 'Bearer', 'Bearer a b', `Bearer ${'x'.repeat(5000)}`, 'Bearer not-a-jwt'])(
    'answers a malformed Authorization header (%s) with 401, never 500',
    async (header) => {
      const res = await me(header.slice(0, 6000));
      expect(res.statusCode).toBe(401);
    },
  );
});
