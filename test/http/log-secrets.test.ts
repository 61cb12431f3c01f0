/**
 * Secrets never reach the logs. Real flows run against an app logging at trace level with the
 * production logger configuration into a capture: mailed links (verification, reset, unlock,
 * "was this you?") are followed the way a browser would (the link itself, then the API call with
 * its token), signed media links are fetched (and tampered with), bearer values are put in query
 * strings and paths. Then the whole captured log is searched for every secret value the run saw:
 * tokens, signatures, passwords, JWTs, password hashes. None may be there.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createPortfolio, createUser, strongPassword, uniqueEmail } from '../helpers/factories.js';
import { loginAs, mailsTo, SAFARI_IPHONE } from '../support/accounts/helpers.js';
import { captureLogs, leaks } from '../support/logs/capture.js';
import { png, TEST_CLAMAV_URL, upload } from '../support/uploads/helpers.js';

const capture = captureLogs();
let t: TestApp;
/** Every secret value the flows handled: none may appear in the log. */
const secrets = new Set<string>();

beforeAll(async () => {
  t = await buildTestApp(
    {
      EMAIL_VERIFICATION: 'optional',
      MAIL_POLL_INTERVAL: '0',
      LOCKOUT_THRESHOLD: '3',
      ...(TEST_CLAMAV_URL ? { CLAMAV_URL: TEST_CLAMAV_URL } : { UPLOAD_SCAN: 'off' }),
      UPLOAD_RETRY_INTERVAL: '0',
    },
    { logger: capture.logger('trace') },
  );
});
afterAll(async () => {
  await t?.close();
});

/** The links of every mail sent to `address` (of one template), their tokens noted as secrets. */
async function linksIn(address: string, template: string): Promise<URL[]> {
  const mails = await mailsTo(t.app, address, template);
  expect(mails.length, `${template} mail to ${address}`).toBeGreaterThan(0);
  const links = mails.flatMap((m) => [...m.text.matchAll(/https?:\/\/\S+/g)].map((x) => new URL(x[0])));
  for (const link of links) {
    const token = link.searchParams.get('token');
    if (token) secrets.add(token);
  }
  return links.filter((l) => l.searchParams.has('token'));
}

/** Follows a mailed link as a browser would (GET of the link), then posts its token to the API. */
async function follow(link: URL, api: string, extra: Record<string, unknown> = {}) {
  await t.app.inject({ method: 'GET', url: link.pathname + link.search });
  const token = link.searchParams.get('token') ?? '';
  // Some front ends keep the token in the API URL too: that must not leak either.
  return t.app.inject({
    method: 'POST',
    url: `${api}?token=${encodeURIComponent(token)}`,
    payload: { token, ...extra },
  });
}

describe('request logs hold no secrets', () => {
  it('mailed one-time links, signed media links and bearer values in URLs', async () => {
    // Registration and the verification link.
    const email = uniqueEmail('logs');
    const password = strongPassword();
    secrets.add(password);
    expect(
      (await t.app.inject({ method: 'POST', url: '/api/auth/register', payload: { email, password, name: 'Ada' } }))
        .statusCode,
    ).toBe(201);
    const [verify] = await linksIn(email, 'email_verification');
    expect((await follow(verify!, '/api/auth/email/verify')).statusCode).toBe(200);

    // Sign-in: the token pair is a secret too (it travels in bodies and headers).
    const login = await loginAs(t.app, email, password);
    expect(login.statusCode).toBe(200);
    const { accessToken, refreshToken } = login.json<{ accessToken: string; refreshToken: string }>();
    secrets.add(accessToken);
    secrets.add(refreshToken);
    const auth = { authorization: `Bearer ${accessToken}` };
    // A client that puts its bearer token in the URL (query and path) must not leak it either.
    await t.app.inject({ method: 'GET', url: `/api/auth/me?access_token=${accessToken}` });
    await t.app.inject({ method: 'GET', url: `/api/auth/me/${accessToken}` });
    await t.app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refreshToken } });

    // Forgot password and the reset link.
    expect(
      (await t.app.inject({ method: 'POST', url: '/api/auth/password/forgot', payload: { email } })).statusCode,
    ).toBe(202);
    const [reset] = await linksIn(email, 'password_reset');
    const newPassword = strongPassword();
    secrets.add(newPassword);
    expect((await follow(reset!, '/api/auth/password/reset', { newPassword })).statusCode).toBe(200);
    // A used link followed again: refused, and still not logged.
    expect((await follow(reset!, '/api/auth/password/reset', { newPassword: strongPassword() })).statusCode).toBe(400);

    // Lockout and the unlock link.
    for (let i = 0; i < 4; i++) await loginAs(t.app, email, `Wrong-${strongPassword()}`);
    const [unlock] = await linksIn(email, 'unlock_account');
    expect((await follow(unlock!, '/api/auth/unlock')).statusCode).toBe(200);

    // A sign-in from a new device on a new network, and the "was this you?" link.
    expect((await loginAs(t.app, email, newPassword)).statusCode).toBe(200);
    const intruder = await loginAs(t.app, email, newPassword, { ip: '203.0.113.50', ua: SAFARI_IPHONE });
    expect(intruder.statusCode).toBe(200);
    secrets.add(intruder.json<{ accessToken: string }>().accessToken);
    const notMe = (await linksIn(email, 'suspicious_login')).at(-1);
    expect((await follow(notMe!, '/api/auth/login/not-me')).statusCode).toBe(200);
    // "Not me" mails a fresh reset link: its token is a secret too.
    await linksIn(email, 'password_reset');

    // Signed media links: fetched, tampered with, and expired.
    const owner = await createUser(t.app);
    secrets.add(owner.accessToken);
    const portfolio = await createPortfolio(t.app, owner);
    const uploaded = await upload(
      t.app,
      owner,
      { portfolioId: portfolio.id },
      { name: 'a.png', type: 'image/png', data: await png() },
    );
    expect(uploaded.statusCode, uploaded.body).toBeLessThan(300);
    const mediaId = uploaded.json<{ id: string }>().id;
    const linkRes = await t.app.inject({ method: 'GET', url: `/api/media/${mediaId}/url`, headers: owner.auth });
    expect(linkRes.statusCode, linkRes.body).toBe(200);
    const signed = new URL(linkRes.json<{ url: string }>().url);
    const sig = signed.searchParams.get('sig') ?? '';
    expect(sig).toHaveLength(43);
    secrets.add(sig);
    expect((await t.app.inject({ method: 'GET', url: signed.pathname + signed.search })).statusCode).toBe(200);
    const tampered = new URL(signed);
    tampered.searchParams.set('variant', 'original');
    expect((await t.app.inject({ method: 'GET', url: tampered.pathname + tampered.search })).statusCode).toBe(403);
    t.clock.advance(3_600_000 * 2);
    expect((await t.app.inject({ method: 'GET', url: signed.pathname + signed.search })).statusCode).toBe(410);

    // Unknown parameters and unknown routes carrying secret-looking values.
    await t.app.inject({ method: 'GET', url: `/api/portfolios?limit=5&apiKey=${sig}x`, headers: auth });
    await t.app.inject({ method: 'GET', url: `/reset-password/${verify!.searchParams.get('token') ?? ''}` });

    // Password hashes of the accounts of the run.
    for (const row of await t.deps.db.query<{ h: string }>(`select password_hash as h from users`)) secrets.add(row.h);

    const log = capture.text();
    // The capture did see those requests (the search below is not vacuous)...
    expect(log).toContain('/verify-email?token=[redacted]');
    expect(log).toContain('sig=[redacted]');
    expect(log).toContain(`/api/media/${mediaId}/content?`);
    expect(log).toContain('"url":"/api/portfolios?limit=5&apiKey=[redacted]"');
    // ...and not one secret value is in it.
    expect(secrets.size).toBeGreaterThan(10);
    expect(leaks(log, secrets)).toEqual([]);
  }, 120_000);
});
