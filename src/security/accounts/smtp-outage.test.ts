/**
 * An SMTP outage never fails an account request: forgot-password and registration answer as
 * usual while the mail server is down, and their mails arrive (with working links) once it is
 * back. Also: the housekeeping that removes expired links and old settled mails.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.js';
import { createUser, strongPassword, uniqueEmail } from '../../../test/helpers/factories.js';
import { startSmtpServer, type TestSmtpServer } from '../../../test/support/mail/smtp-server.js';
import { runHousekeeping } from './housekeeping.js';
import { loginAs } from '../../../test/support/accounts/helpers.js';

let t: TestApp;
let smtp: TestSmtpServer;
let port: number;
beforeAll(async () => {
  smtp = await startSmtpServer();
  port = smtp.port;
  t = await buildTestApp({ SMTP_URL: smtp.url, MAIL_POLL_INTERVAL: '0' });
});
afterAll(async () => {
  await t?.close();
  await smtp?.close();
});

describe('SMTP down', () => {
  it('requests succeed; the mails are delivered when the server returns, and their links work', async () => {
    const user = await createUser(t.app);
    await smtp.close();
    const forgot = await t.app.inject({
      method: 'POST',
      url: '/api/auth/password/forgot',
      payload: { email: user.email },
    });
    expect(forgot.statusCode).toBe(202);
    const email = uniqueEmail('outage');
    const reg = await t.app.inject({
      method: 'POST',
      url: '/api/auth/register',
      payload: { email, password: strongPassword(), name: 'Outage' },
    });
    expect(reg.statusCode).toBe(201);
    await t.app.accounts.background.flush();
    expect(await t.app.mail.runOnce()).toMatchObject({ sent: 0, retried: 2 });
    expect(await t.app.mail.outbox.counts()).toMatchObject({ pending: 2, sent: 0 });

    smtp = await startSmtpServer(port);
    t.clock.advance(30_000);
    expect(await t.app.mail.runOnce()).toMatchObject({ sent: 2, retried: 0 });
    const got = await smtp.waitFor(2);
    const reset = got.find((m) => m.envelope.to.includes(user.email));
    const link = /reset-password\?token=([A-Za-z0-9_-]{43})/.exec(reset?.parsed.text ?? '');
    expect(link?.[1]).toBeTruthy();
    const next = strongPassword();
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/auth/password/reset',
      payload: { token: link![1], newPassword: next },
    });
    expect(res.statusCode).toBe(200);
    expect((await loginAs(t.app, user.email, next)).statusCode).toBe(200);
    expect(got.some((m) => m.envelope.to.includes(email) && /verify-email\?token=/.test(m.parsed.text ?? ''))).toBe(
      true,
    );
  });
});

describe('housekeeping', () => {
  it('deletes links expired a week ago and settled mails older than 30 days, and nothing newer', async () => {
    const user = await createUser(t.app);
    const old = await t.app.accounts.tokens.issue('email_verify', user.id, 3600);
    await t.app.mail.enqueue(t.app.mail.templates.passwordChanged({ to: { address: user.email }, at: new Date() }));
    await t.app.mail.runOnce();
    t.clock.advance(31 * 86_400_000);
    const fresh = await t.app.accounts.tokens.issue('email_verify', user.id, 3600);
    await t.app.mail.enqueue(t.app.mail.templates.passwordChanged({ to: { address: user.email }, at: new Date() }));
    const before = await t.app.mail.outbox.counts();
    const result = await runHousekeeping(t.app);
    expect(result.tokens).toBeGreaterThanOrEqual(1);
    expect(result.mails).toBeGreaterThanOrEqual(1);
    const hashes = await t.deps.db.query<{ n: number }>(
      `select count(*)::int as n from one_time_tokens where user_id = $1`,
      [user.id],
    );
    expect(Number(hashes[0]?.n)).toBe(1);
    expect(await t.app.accounts.tokens.peek('email_verify', fresh)).not.toBeNull();
    expect(await t.app.accounts.tokens.peek('email_verify', old)).toBeNull();
    const after = await t.app.mail.outbox.counts();
    expect(after.pending).toBe(before.pending); // unsent mail is never deleted
    expect(after.sent).toBeLessThan(before.sent);
  });
});
