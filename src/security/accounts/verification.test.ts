/**
 * Email verification: the mail on registration, the verify and resend endpoints, and
 * EMAIL_VERIFICATION=required, where an account cannot sign in before it is verified (and the
 * refusal looks exactly like a wrong password, so registering then logging in reveals nothing).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.js';
import { createUser, strongPassword, uniqueEmail } from '../../../test/helpers/factories.js';
import { loadConfig } from '../../config/index.js';
import { emailVerificationMode } from './service.js';
import { loginAs, mailsTo, tokenIn } from '../../../test/support/accounts/helpers.js';

function stable(body: string): unknown {
  const parsed = JSON.parse(body) as Record<string, unknown>;
  delete parsed['requestId'];
  return parsed;
}

describe('the default mode', () => {
  it('is required in production and optional elsewhere', () => {
    expect(emailVerificationMode({ NODE_ENV: 'production' })).toBe('required');
    expect(emailVerificationMode({ NODE_ENV: 'test' })).toBe('optional');
    expect(emailVerificationMode({ NODE_ENV: 'development' })).toBe('optional');
    expect(emailVerificationMode({ NODE_ENV: 'production', EMAIL_VERIFICATION: 'optional' })).toBe('optional');
    expect(emailVerificationMode(loadConfig({ NODE_ENV: 'test', DATA_DIR: '/tmp/x' }))).toBe('optional');
  });
});

describe('EMAIL_VERIFICATION=optional', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ EMAIL_VERIFICATION: 'optional', MAIL_POLL_INTERVAL: '0' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('registers at once (201), mails a 24 h link, and the link verifies the email once', async () => {
    const email = uniqueEmail('opt');
    const password = strongPassword();
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/auth/register',
      payload: { email, password, name: 'O' },
    });
    expect(res.statusCode).toBe(201);
    expect((await loginAs(t.app, email, password)).statusCode).toBe(200);
    const mail = (await mailsTo(t.app, email, 'email_verification'))[0];
    const token = tokenIn(mail);
    const grant = await t.app.accounts.tokens.peek('email_verify', token);
    expect((grant!.expiresAt.getTime() - grant!.createdAt.getTime()) / 1000).toBe(86_400);
    const ok = await t.app.inject({ method: 'POST', url: '/api/auth/email/verify', payload: { token } });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ status: 'verified' });
    const rows = await t.deps.db.query<{ at: Date | null }>(
      `select email_verified_at as at from users where email = $1`,
      [email],
    );
    expect(rows[0]?.at).toBeTruthy();
    const again = await t.app.inject({ method: 'POST', url: '/api/auth/email/verify', payload: { token } });
    expect(again.json().code).toBe('INVALID_TOKEN');
  });

  it('a taken email is still a 409 in optional mode (documented trade-off)', async () => {
    const user = await createUser(t.app);
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/auth/register',
      payload: { email: user.email, password: strongPassword(), name: 'X' },
    });
    expect(res.statusCode).toBe(409);
  });

  it('refuses malformed, expired and other-purpose tokens alike', async () => {
    const email = uniqueEmail('opt');
    await t.app.inject({
      method: 'POST',
      url: '/api/auth/register',
      payload: { email, password: strongPassword(), name: 'O' },
    });
    const token = tokenIn((await mailsTo(t.app, email, 'email_verification'))[0]);
    for (const bad of ['', 'x', token.slice(1), `${token}=`, 'A'.repeat(43)]) {
      const res = await t.app.inject({ method: 'POST', url: '/api/auth/email/verify', payload: { token: bad } });
      expect(res.statusCode, bad).toBe(400);
    }
    t.clock.advance(86_400_000 + 1);
    expect(
      (await t.app.inject({ method: 'POST', url: '/api/auth/email/verify', payload: { token } })).json().code,
    ).toBe('INVALID_TOKEN');
  });
});

describe('EMAIL_VERIFICATION=required', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ EMAIL_VERIFICATION: 'required', MAIL_POLL_INTERVAL: '0' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('a new account cannot sign in before verifying, and the refusal is the wrong-password answer', async () => {
    const email = uniqueEmail('req');
    const password = strongPassword();
    const reg = await t.app.inject({
      method: 'POST',
      url: '/api/auth/register',
      payload: { email, password, name: 'R' },
    });
    expect(reg.statusCode).toBe(202);
    const before = await loginAs(t.app, email, password);
    const wrong = await loginAs(t.app, uniqueEmail('ghost'), password);
    expect(before.statusCode).toBe(401);
    expect(stable(before.body)).toEqual(stable(wrong.body));
    // Trying the right password while unverified does not count toward a lockout.
    for (let i = 0; i < 6; i++) expect((await loginAs(t.app, email, password)).statusCode).toBe(401);

    const token = tokenIn((await mailsTo(t.app, email, 'email_verification'))[0]);
    expect((await t.app.inject({ method: 'POST', url: '/api/auth/email/verify', payload: { token } })).statusCode).toBe(
      200,
    );
    expect((await loginAs(t.app, email, password)).statusCode).toBe(200);
  });

  it('accounts made by an admin or the service are not held back', async () => {
    const user = await createUser(t.app);
    expect((await loginAs(t.app, user.email, user.password)).statusCode).toBe(200);
  });

  it('a password reset proves the mailbox too', async () => {
    const email = uniqueEmail('req');
    await t.app.inject({
      method: 'POST',
      url: '/api/auth/register',
      payload: { email, password: strongPassword(), name: 'R' },
    });
    // The account is written after the 202 (the same answer and work as for a taken email).
    await t.app.accounts.background.flush();
    await t.app.inject({ method: 'POST', url: '/api/auth/password/forgot', payload: { email } });
    const token = tokenIn((await mailsTo(t.app, email, 'password_reset'))[0]);
    const next = strongPassword();
    expect(
      (await t.app.inject({ method: 'POST', url: '/api/auth/password/reset', payload: { token, newPassword: next } }))
        .statusCode,
    ).toBe(200);
    expect((await loginAs(t.app, email, next)).statusCode).toBe(200);
  });
});
