/**
 * The functions the login flow calls (guardLogin / onLoginFailure / onLoginSuccess) and the unlock
 * link, end to end through the app: an attacker guessing one account's password from many requests
 * at once gets no more than the threshold of guesses, the same 429 for an account that exists and
 * one that does not, and cannot lock the owner out: a trusted device still signs in, and the owner
 * gets a one-time unlock link by mail.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.js';
import { createUser, uniqueEmail, type TestUser } from '../../../test/helpers/factories.js';
import { startSmtpServer, type TestSmtpServer } from '../../../test/support/mail/smtp-server.js';
import { verifyPassword } from '../../users/password.js';
import { LockoutError } from './lockout.js';

let smtp: TestSmtpServer;
let t: TestApp;
let owner: TestUser;

/** What a login handler will do with these functions (the lead wires the real one). */
async function attempt(
  identifier: string,
  password: string,
  options: { trustedDeviceId?: string } = {},
): Promise<'ok' | 'wrong' | LockoutError> {
  try {
    await t.app.accounts.guardLogin(identifier, options);
  } catch (err) {
    if (err instanceof LockoutError) return err;
    throw err;
  }
  const user = await t.app.users.repo.getByEmail(identifier.trim());
  const ok = user ? await verifyPassword(user.passwordHash, password) : false;
  if (ok) {
    await t.app.accounts.onLoginSuccess(identifier, options);
    return 'ok';
  }
  await t.app.accounts.onLoginFailure(identifier, {
    ...options,
    user: user ? { id: user.id, email: user.email, name: user.name } : null,
  });
  return 'wrong';
}

async function auditCount(action: string): Promise<number> {
  const rows = await t.deps.db.query<{ n: number }>(
    `select (select count(*) from audit_inbox where action = $1) + (select count(*) from audit_events where action = $1) as n`,
    [action],
  );
  return Number(rows[0]?.n ?? 0);
}

beforeAll(async () => {
  smtp = await startSmtpServer();
  t = await buildTestApp({ SMTP_URL: smtp.url, MAIL_POLL_INTERVAL: '0', PUBLIC_URL: 'https://portfolio.example' });
  owner = await createUser(t.app, { name: 'Owner' });
});
afterAll(async () => {
  await t.close();
  await smtp.close();
});

describe('login guard', () => {
  it('parallel wrong passwords get at most 5 guesses; the owner still signs in from a trusted device', async () => {
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) => attempt(i % 2 ? owner.email : owner.email.toUpperCase(), `wrong-${i}`)),
    );
    expect(results.filter((r) => r === 'wrong')).toHaveLength(5);
    expect(results.filter((r) => r instanceof LockoutError)).toHaveLength(55);
    // The right password from an unknown device is refused too while locked...
    expect(await attempt(owner.email, owner.password)).toBeInstanceOf(LockoutError);
    // ...but the owner's trusted device has its own counter.
    expect(await attempt(owner.email, owner.password, { trustedDeviceId: 'dev-1' })).toBe('ok');
    // A success resets the lock for everyone.
    expect(await attempt(owner.email, owner.password)).toBe('ok');
    expect(await auditCount('account.locked')).toBe(1);
  });

  it('answers the same for an account that exists and one that does not', async () => {
    const ghost = uniqueEmail('ghost');
    const other = await createUser(t.app);
    for (let i = 0; i < 5; i++) {
      expect(await attempt(ghost, 'wrong')).toBe('wrong');
      expect(await attempt(other.email, 'wrong')).toBe('wrong');
    }
    const a = await attempt(ghost, 'x');
    const b = await attempt(other.email, 'x');
    expect(a).toBeInstanceOf(LockoutError);
    expect(b).toBeInstanceOf(LockoutError);
    const view = (e: LockoutError) => ({
      status: e.status,
      code: e.code,
      title: e.title,
      detail: e.message,
      headers: e.headers,
    });
    expect(view(a as LockoutError)).toEqual(view(b as LockoutError));
  });

  it('mails the owner a one-time unlock link that lifts the lock once', async () => {
    const victim = await createUser(t.app, { name: 'Victim' });
    // Unlock mails of the earlier tests' accounts go out first.
    await new Promise((r) => setTimeout(r, 200));
    await t.app.mail.runOnce();
    await new Promise((r) => setTimeout(r, 100));
    smtp.received.length = 0;
    for (let i = 0; i < 5; i++) await attempt(victim.email, 'wrong');
    expect(await attempt(victim.email, victim.password)).toBeInstanceOf(LockoutError);
    // The mail is queued in the background (so timing does not depend on the account existing).
    await new Promise((r) => setTimeout(r, 200));
    await t.app.mail.runOnce();
    const [got] = await smtp.waitFor(1);
    expect(got?.envelope.to).toEqual([victim.email]);
    const link = /https:\/\/portfolio\.example\/unlock-account\?token=([A-Za-z0-9_-]{43})/.exec(got?.parsed.text ?? '');
    expect(link).not.toBeNull();
    const token = link?.[1] as string;

    const tampered = await t.app.inject({
      method: 'POST',
      url: '/api/auth/unlock',
      payload: { token: token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A') },
    });
    expect(tampered.statusCode).toBe(400);
    expect(tampered.json().code).toBe('INVALID_TOKEN');

    const res = await t.app.inject({ method: 'POST', url: '/api/auth/unlock', payload: { token } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'unlocked' });
    expect(await attempt(victim.email, victim.password)).toBe('ok');
    const again = await t.app.inject({ method: 'POST', url: '/api/auth/unlock', payload: { token } });
    expect(again.statusCode).toBe(400);
    expect(again.json().code).toBe('INVALID_TOKEN');
    expect(await auditCount('account.unlocked')).toBeGreaterThanOrEqual(1);

    // Another lockout right away does not mail again (no mail flood through lockouts).
    for (let i = 0; i < 5; i++) await attempt(victim.email, 'wrong');
    await new Promise((r) => setTimeout(r, 200));
    expect(await t.app.mail.runOnce()).toMatchObject({ sent: 0 });
  });

  it('onLoginAbandoned gives the slot back', async () => {
    const email = uniqueEmail('abandon');
    for (let i = 0; i < 5; i++) await t.app.accounts.guardLogin(email);
    await expect(t.app.accounts.guardLogin(email)).rejects.toBeInstanceOf(LockoutError);
    await t.app.accounts.onLoginAbandoned(email);
    await expect(t.app.accounts.guardLogin(email)).resolves.toBeUndefined();
  });
});

describe('mail worker in the app (embedded defaults)', () => {
  it('writes queued mail to DATA_DIR/outbox in the background and stops with the app', async () => {
    const app = await buildTestApp({ MAIL_POLL_INTERVAL: '1' });
    try {
      const mail = app.app.mail.templates.registerAttempt({ to: { address: 'ada@example.test' }, at: app.clock.now() });
      await app.app.mail.enqueue(mail);
      const dir = path.join(app.config.DATA_DIR, 'outbox');
      let files: string[] = [];
      for (let i = 0; i < 100 && files.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 50));
        files = await readdir(dir).then(
          (f) => f.filter((n) => n.endsWith('.eml')),
          () => [],
        );
      }
      expect(files).toHaveLength(1);
      const parsed = await simpleParser(await readFile(path.join(dir, files[0] as string)));
      expect(parsed.subject).toContain('Someone tried to register with your email');
    } finally {
      await app.close();
    }
  });
});
