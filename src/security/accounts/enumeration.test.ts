/**
 * No enumeration: login, forgot-password, registration (EMAIL_VERIFICATION=required) and
 * resend-verification answer the same status and body for an existing and an unknown email, in
 * similar time. Timing is compared over many alternating samples by medians with a generous
 * ratio (never an absolute threshold: the machine may be slow and busy).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.js';
import { createUser, strongPassword, uniqueEmail, type TestUser } from '../../../test/helpers/factories.js';
import { compareTimings, mailsTo } from '../../../test/support/accounts/helpers.js';
import { useRealArgon2 } from '../../../test/helpers/argon2.js';

/** Medians may differ by this factor at most: a real existence oracle (argon2, a mail, a transaction) is far above it or needs the flush we exclude. */
const MAX_RATIO = 2;
const ROUNDS = 25;

let t: TestApp;
let user: TestUser;
// The timings compared here are the production argon2 work (the suite's is cheap: test/setup.ts).
useRealArgon2();
beforeAll(async () => {
  // Required verification; a high lockout threshold so many timing samples never lock.
  t = await buildTestApp({ EMAIL_VERIFICATION: 'required', LOCKOUT_THRESHOLD: '100', MAIL_POLL_INTERVAL: '0' });
  user = await createUser(t.app);
});
afterAll(async () => {
  await t?.close();
});

function stable(body: string): unknown {
  const parsed = JSON.parse(body) as Record<string, unknown>;
  delete parsed['requestId'];
  return parsed;
}

/** ACCOUNTS_PRINT_TIMINGS=1 prints the medians (for docs and reports). */
function check(name: string, timing: { a: number; b: number; ratio: number }): void {
  if (process.env['ACCOUNTS_PRINT_TIMINGS']) {
    process.stdout.write(
      `${name}: existing ${timing.a.toFixed(2)} ms, unknown ${timing.b.toFixed(2)} ms, ratio ${timing.ratio.toFixed(2)}\n`,
    );
  }
  expect(timing.ratio, JSON.stringify(timing)).toBeLessThan(MAX_RATIO);
}

const post = (url: string, payload: Record<string, unknown>) => t.app.inject({ method: 'POST', url, payload });
const settle = () => t.app.accounts.background.flush();

describe('same answer for existing and unknown emails', () => {
  it('login: wrong password vs unknown email', async () => {
    const a = await post('/api/auth/login', { email: user.email, password: 'Not-the-password-Harbor' });
    const b = await post('/api/auth/login', { email: uniqueEmail('ghost'), password: 'Not-the-password-Harbor' });
    expect(a.statusCode).toBe(401);
    expect(b.statusCode).toBe(401);
    expect(stable(b.body)).toEqual(stable(a.body));
    const timing = await compareTimings(
      ROUNDS,
      () => post('/api/auth/login', { email: user.email, password: 'Not-the-password-Harbor' }),
      () => post('/api/auth/login', { email: uniqueEmail('ghost'), password: 'Not-the-password-Harbor' }),
    );
    check('login', timing);
  }, 120_000);

  it('forgot password', async () => {
    const a = await post('/api/auth/password/forgot', { email: user.email });
    const b = await post('/api/auth/password/forgot', { email: uniqueEmail('ghost') });
    expect(a.statusCode).toBe(202);
    expect(b.statusCode).toBe(202);
    expect(stable(b.body)).toEqual(stable(a.body));
    // The existing account did get its mail (the answer just does not say so).
    expect(await mailsTo(t.app, user.email, 'password_reset')).toHaveLength(1);
    const timing = await compareTimings(
      ROUNDS * 2,
      () => post('/api/auth/password/forgot', { email: user.email }),
      () => post('/api/auth/password/forgot', { email: uniqueEmail('ghost') }),
      settle,
    );
    check('forgot', timing);
  }, 120_000);

  it('registration (EMAIL_VERIFICATION=required): new vs taken email', async () => {
    const fresh = uniqueEmail('new');
    const a = await post('/api/auth/register', { email: user.email, password: strongPassword(), name: 'Mallory' });
    const b = await post('/api/auth/register', { email: fresh, password: strongPassword(), name: 'Mallory' });
    expect(a.statusCode, a.body).toBe(202);
    expect(b.statusCode, b.body).toBe(202);
    expect(stable(b.body)).toEqual(stable(a.body));
    // The owner of the taken email is told; the new address gets its verification link.
    expect(await mailsTo(t.app, user.email, 'register_attempt')).toHaveLength(1);
    expect(await mailsTo(t.app, fresh, 'email_verification')).toHaveLength(1);
    const timing = await compareTimings(
      Math.ceil(ROUNDS / 2),
      () => post('/api/auth/register', { email: user.email, password: strongPassword(), name: 'Mallory' }),
      () => post('/api/auth/register', { email: uniqueEmail('new'), password: strongPassword(), name: 'Mallory' }),
      settle,
    );
    check('register', timing);
    // However many attempts, one warning mail an hour.
    expect(await mailsTo(t.app, user.email, 'register_attempt')).toHaveLength(1);
  }, 180_000);

  it('resend verification: unverified, verified and unknown emails', async () => {
    await t.deps.db.query(`update users set email_verified_at = now() where id = $1`, [user.id]);
    const pending = uniqueEmail('pending');
    expect(
      (await post('/api/auth/register', { email: pending, password: strongPassword(), name: 'P' })).statusCode,
    ).toBe(202);
    await settle();
    const answers = await Promise.all([
      post('/api/auth/email/resend', { email: pending }),
      post('/api/auth/email/resend', { email: user.email }),
      post('/api/auth/email/resend', { email: uniqueEmail('ghost') }),
    ]);
    for (const r of answers) {
      expect(r.statusCode).toBe(202);
      expect(stable(r.body)).toEqual(stable(answers[0].body));
    }
    // Only the unverified account gets a (second) link; a verified or unknown one gets nothing.
    expect(await mailsTo(t.app, pending, 'email_verification')).toHaveLength(2);
    expect(await mailsTo(t.app, user.email, 'email_verification')).toHaveLength(0);
    const timing = await compareTimings(
      ROUNDS * 2,
      () => post('/api/auth/email/resend', { email: pending }),
      () => post('/api/auth/email/resend', { email: uniqueEmail('ghost') }),
      settle,
    );
    check('resend', timing);
    // Rate-limited per account: at most one more link a minute however often it is asked for.
    expect(await mailsTo(t.app, pending, 'email_verification')).toHaveLength(2);
  }, 120_000);
});
