/**
 * Password reset, change, history and the forced change on first login, through the API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.js';
import { createUser, strongPassword, uniqueEmail, type TestUser } from '../../../test/helpers/factories.js';
import { client, enrollTotp, login, oathCode, verify } from '../../../test/support/mfa/helpers.js';
import { FIREFOX_LINUX, loginAs, mailsTo, SAFARI_IPHONE, tokenIn } from '../../../test/support/accounts/helpers.js';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ MAIL_POLL_INTERVAL: '0' });
});
afterAll(async () => {
  await t?.close();
});

const post = (url: string, payload: Record<string, unknown>, headers: Record<string, string> = {}) =>
  t.app.inject({ method: 'POST', url, payload, headers });

async function resetToken(user: { email: string }): Promise<string> {
  const res = await post('/api/auth/password/forgot', { email: user.email });
  expect(res.statusCode).toBe(202);
  return tokenIn((await mailsTo(t.app, user.email, 'password_reset')).at(-1));
}

describe('password reset', () => {
  it('sets the password once, kills every session, refresh token, link and trusted device, and mails a notice', async () => {
    const user = await createUser(t.app);
    const { secret } = await enrollTotp(t.app, t.clock, user);
    const first = await login(t.app, user);
    const v = await verify(t.app, {
      mfaToken: first.body['mfaToken'],
      code: oathCode(secret, t.clock.now().getTime()),
      rememberDevice: true,
    });
    const deviceToken = String(v.body['deviceToken']);
    const refreshToken = String(v.body['refreshToken']);
    const access = String(v.body['accessToken']);
    // Another outstanding one-time link (e.g. a verification link) dies with the reset too.
    const verifyMail = await post('/api/auth/email/resend', { email: user.email });
    expect(verifyMail.statusCode).toBe(202);
    const verifyToken = tokenIn((await mailsTo(t.app, user.email, 'email_verification')).at(-1));

    const token = await resetToken(user);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/); // 256 bits
    // Stored hashed: the token itself is nowhere in the database.
    const stored = await t.deps.db.query(`select 1 from one_time_tokens where token_hash = $1`, [token]);
    expect(stored).toHaveLength(0);

    const newPassword = strongPassword();
    const res = await post('/api/auth/password/reset', { token, newPassword });
    expect(res.statusCode, res.body).toBe(200);

    expect((await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: client(access) })).statusCode).toBe(401);
    expect((await post('/api/auth/refresh', { refreshToken })).statusCode).toBe(401);
    expect((await post('/api/auth/email/verify', { token: verifyToken })).json().code).toBe('INVALID_TOKEN');
    expect((await post('/api/auth/password/reset', { token, newPassword: strongPassword() })).json().code).toBe(
      'INVALID_TOKEN',
    );
    // The old password is dead, the new one works, and the trusted device no longer skips MFA.
    expect((await loginAs(t.app, user.email, user.password)).statusCode).toBe(401);
    const again = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      headers: { ...client(), 'x-device-token': deviceToken },
      payload: { email: user.email, password: newPassword },
    });
    expect(again.statusCode).toBe(200);
    expect(again.json().mfaRequired).toBe(true);
    expect(await mailsTo(t.app, user.email, 'password_reset_notice')).toHaveLength(1);
  });

  it("refuses expired, tampered, malformed, other-purpose and other users' tokens alike", async () => {
    const alice = await createUser(t.app);
    const bob = await createUser(t.app);
    const expired = await resetToken(alice);
    t.clock.advance(t.config.PASSWORD_RESET_TTL * 1000 + 1);
    const codes = async (token: string) =>
      (await post('/api/auth/password/reset', { token, newPassword: strongPassword() })).json().code as string;
    expect(await codes(expired)).toBe('INVALID_TOKEN');

    // Past the one-mail-a-minute throttle (a Redis TTL runs on real time, not the test clock).
    t.clock.advance(61_000);
    await t.deps.kv.del(`acct:mail:reset:${alice.id}`);
    const live = await resetToken(alice);
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    for (const bad of [
      flip(live, 0),
      flip(live, 42),
      live.slice(0, 42),
      `${live}A`,
      live.toUpperCase(),
      'x'.repeat(43),
    ]) {
      expect(await codes(bad)).toBe('INVALID_TOKEN');
    }
    // A verification token of the same account is not a reset token.
    await post('/api/auth/email/resend', { email: alice.email });
    expect(await codes(tokenIn((await mailsTo(t.app, alice.email, 'email_verification')).at(-1)))).toBe(
      'INVALID_TOKEN',
    );
    // Bob's token resets Bob, never Alice: the token alone names the account.
    const bobs = await resetToken(bob);
    const chosen = strongPassword();
    expect((await post('/api/auth/password/reset', { token: bobs, newPassword: chosen })).statusCode).toBe(200);
    expect((await loginAs(t.app, alice.email, chosen)).statusCode).toBe(401);
    expect((await loginAs(t.app, alice.email, alice.password)).statusCode).toBe(200);
    // The failed attempts did not burn Alice's live token; a weak password does not either.
    expect(await codes(live)).toBe(undefined);
  });

  it('a weak or reused new password is refused without using the token up', async () => {
    const user = await createUser(t.app);
    const token = await resetToken(user);
    expect((await post('/api/auth/password/reset', { token, newPassword: 'password1234' })).json().code).toBe(
      'WEAK_PASSWORD',
    );
    expect((await post('/api/auth/password/reset', { token, newPassword: user.password })).json().code).toBe(
      'PASSWORD_REUSED',
    );
    expect((await post('/api/auth/password/reset', { token, newPassword: strongPassword() })).statusCode).toBe(200);
  });

  it('lifts the lockout of the account', async () => {
    const user = await createUser(t.app);
    for (let i = 0; i < 5; i++) await loginAs(t.app, user.email, `Wrong-${i}-Harbor-Lantern`);
    expect((await loginAs(t.app, user.email, user.password)).statusCode).toBe(429);
    const token = await resetToken(user);
    const newPassword = strongPassword();
    expect((await post('/api/auth/password/reset', { token, newPassword })).statusCode).toBe(200);
    expect((await loginAs(t.app, user.email, newPassword)).statusCode).toBe(200);
  });
});

describe('password change and history', () => {
  const change = (user: { auth: Record<string, string> }, currentPassword: string, newPassword: string) =>
    post('/api/auth/password/change', { currentPassword, newPassword }, user.auth);

  it('refuses the current password and each of the last 5; accepts the 6th-oldest', async () => {
    const user = await createUser(t.app);
    const history = [user.password];
    for (let i = 0; i < 6; i++) {
      const next = strongPassword();
      const res = await change(user, history.at(-1)!, next);
      expect(res.statusCode, res.body).toBe(200);
      history.push(next);
    }
    // history: p0 (oldest) ... p6 (current). Current + last 5 = p1..p6 refused; p0 accepted.
    const current = history.at(-1)!;
    for (const old of history.slice(1)) {
      const res = await change(user, current, old);
      expect(res.json().code, `password #${history.indexOf(old)}`).toBe('PASSWORD_REUSED');
    }
    expect((await change(user, current, history[0]!)).statusCode).toBe(200);
  }, 120_000);

  it('signs out other sessions, keeps this one, mails a notice; a wrong current password is refused and counted', async () => {
    const user = await createUser(t.app);
    const other = await loginAs(t.app, user.email, user.password);
    const otherAccess = other.json().accessToken as string;
    const wrong = await change(user, 'Not-my-password-Harbor', strongPassword());
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().code).toBe('INVALID_CURRENT_PASSWORD');
    const next = strongPassword();
    const res = await change(user, user.password, next);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ status: 'changed', endedSessions: 1 });
    expect(res.json().accessToken).toBeUndefined();
    expect((await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: user.auth })).statusCode).toBe(200);
    expect(
      (await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: { authorization: `Bearer ${otherAccess}` } }))
        .statusCode,
    ).toBe(401);
    expect(await mailsTo(t.app, user.email, 'password_changed')).toHaveLength(1);
    expect((await loginAs(t.app, user.email, next)).statusCode).toBe(200);
  });

  it('wrong current passwords lock like wrong logins', async () => {
    const user = await createUser(t.app);
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => change(user, `Not-my-password-${i}-Harbor`, strongPassword())),
    );
    expect(results.filter((r) => r.statusCode === 400)).toHaveLength(5);
    expect(results.filter((r) => r.statusCode === 429).every((r) => r.json().code === 'ACCOUNT_LOCKED')).toBe(true);
  });

  it('needs a recent sign-in (step-up)', async () => {
    const user = await createUser(t.app);
    t.clock.advance((t.config.REAUTH_MAX_AGE + 1) * 1000);
    const res = await change(user, user.password, strongPassword());
    expect(res.statusCode).toBe(401);
    expect(res.json().code).toBe('REAUTH_REQUIRED');
  });
});

describe('forced change on first login', () => {
  let admin: TestUser;
  beforeAll(async () => {
    admin = await createUser(t.app, { role: 'admin' });
  });

  it('an account created by an admin gets a token that only changes the password, then a fresh pair', async () => {
    // The admin needs a fresh sign-in to create accounts.
    const adminLogin = await loginAs(t.app, admin.email, admin.password);
    const adminAuth = { authorization: `Bearer ${adminLogin.json().accessToken as string}` };
    const email = uniqueEmail('temp');
    const temporary = strongPassword();
    const created = await post('/api/admin/users', { email, name: 'Temp', password: temporary }, adminAuth);
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json().mustChangePassword).toBe(true);

    const res = await loginAs(t.app, email, temporary);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.passwordChangeRequired).toBe(true);
    const restricted = { authorization: `Bearer ${body.accessToken as string}` };
    for (const [method, url] of [
      ['GET', '/api/auth/me'],
      ['GET', '/api/auth/sessions'],
      ['GET', '/api/portfolios'],
      ['GET', '/api/auth/mfa'],
    ] as const) {
      const r = await t.app.inject({ method, url, headers: restricted });
      expect(r.statusCode, url).toBe(403);
      expect(r.json().code, url).toBe('PASSWORD_CHANGE_REQUIRED');
    }
    // Refreshing does not shed the restriction.
    const refreshed = await post('/api/auth/refresh', { refreshToken: body.refreshToken });
    expect(refreshed.statusCode, refreshed.body).toBe(200);
    const viaRefresh = await t.app.inject({
      method: 'GET',
      url: '/api/auth/me',
      headers: { authorization: `Bearer ${refreshed.json().accessToken as string}` },
    });
    expect(viaRefresh.json().code).toBe('PASSWORD_CHANGE_REQUIRED');
    const freshRestricted = await loginAs(t.app, email, temporary);
    const auth = { authorization: `Bearer ${freshRestricted.json().accessToken as string}` };
    const next = strongPassword();
    const changed = await post('/api/auth/password/change', { currentPassword: temporary, newPassword: next }, auth);
    expect(changed.statusCode, changed.body).toBe(200);
    const pair = changed.json();
    expect(pair.accessToken).toBeTruthy();
    const me = await t.app.inject({
      method: 'GET',
      url: '/api/auth/me',
      headers: { authorization: `Bearer ${pair.accessToken as string}` },
    });
    expect(me.statusCode).toBe(200);
    expect(me.json().user.mustChangePassword).toBe(false);
    // The restricted token is dead, and the next login is unrestricted.
    expect((await t.app.inject({ method: 'GET', url: '/api/auth/mfa', headers: auth })).statusCode).toBe(401);
    const later = await loginAs(t.app, email, next);
    expect(later.json().passwordChangeRequired).toBeUndefined();
  });
});

describe('a credential change ends every outstanding one-time link', () => {
  interface Links {
    reset: string;
    unlock: string;
    notMe: string;
    verify: string;
  }

  /** One live link of every kind, as the owner's mailbox (or whoever reads it) holds them. */
  async function outstandingLinks(user: TestUser): Promise<Links> {
    // "Was this you?": a known device, then a new device on a new network.
    await loginAs(t.app, user.email, user.password, { ua: FIREFOX_LINUX });
    const flagged = await loginAs(t.app, user.email, user.password, { ip: '203.0.113.77', ua: SAFARI_IPHONE });
    expect(flagged.statusCode, flagged.body).toBe(200);
    const notMe = tokenIn((await mailsTo(t.app, user.email, 'suspicious_login')).at(-1));
    expect((await post('/api/auth/email/resend', { email: user.email })).statusCode).toBe(202);
    const verify = tokenIn((await mailsTo(t.app, user.email, 'email_verification')).at(-1));
    expect(await t.app.accounts.sendUnlockMail({ id: user.id, email: user.email, name: user.name }, 300)).toBe(true);
    const unlock = tokenIn((await mailsTo(t.app, user.email, 'unlock_account')).at(-1));
    const reset = await resetToken(user);
    const links = { reset, unlock, notMe, verify };
    // All of them work right now (checked without using them up).
    const purposes = { reset: 'password_reset', unlock: 'unlock', notMe: 'suspicious_login', verify: 'email_verify' };
    for (const [kind, purpose] of Object.entries(purposes)) {
      expect(await t.app.accounts.tokens.peek(purpose, links[kind as keyof Links]), kind).not.toBeNull();
    }
    return links;
  }

  /** What following each link answers now: 'ok' or the problem code. */
  async function follow(links: Partial<Links>): Promise<Partial<Record<keyof Links, string>>> {
    const outcome = async (res: Awaited<ReturnType<typeof post>>) =>
      res.statusCode === 200 ? 'ok' : String(res.json().code);
    const out: Partial<Record<keyof Links, string>> = {};
    if (links.reset)
      out.reset = await outcome(
        await post('/api/auth/password/reset', { token: links.reset, newPassword: strongPassword() }),
      );
    if (links.unlock) out.unlock = await outcome(await post('/api/auth/unlock', { token: links.unlock }));
    if (links.notMe) out.notMe = await outcome(await post('/api/auth/login/not-me', { token: links.notMe }));
    if (links.verify) out.verify = await outcome(await post('/api/auth/email/verify', { token: links.verify }));
    return out;
  }

  const dead = { reset: 'INVALID_TOKEN', unlock: 'INVALID_TOKEN', notMe: 'INVALID_TOKEN', verify: 'INVALID_TOKEN' };

  it('a password change: the reset link mailed before no longer resets, "was this you?" hands out no reset token', async () => {
    const user = await createUser(t.app);
    const links = await outstandingLinks(user);
    const next = strongPassword();
    const changed = await post(
      '/api/auth/password/change',
      { currentPassword: user.password, newPassword: next },
      user.auth,
    );
    expect(changed.statusCode, changed.body).toBe(200);
    expect(await follow(links)).toEqual(dead);
    // The password is still the one the owner chose.
    expect((await loginAs(t.app, user.email, next)).statusCode).toBe(200);
  });

  it('a completed password reset ends the other links', async () => {
    const user = await createUser(t.app);
    const { reset, ...others } = await outstandingLinks(user);
    expect(await follow({ reset })).toEqual({ reset: 'ok' });
    expect(await follow(others)).toEqual({ unlock: 'INVALID_TOKEN', notMe: 'INVALID_TOKEN', verify: 'INVALID_TOKEN' });
  });

  it('an admin reset (MFA reset, revoke-tokens) ends every link', async () => {
    for (const action of ['mfa/reset', 'revoke-tokens']) {
      const admin = await createUser(t.app, { role: 'admin' });
      const user = await createUser(t.app);
      const links = await outstandingLinks(user);
      const res = await post(`/api/admin/users/${user.id}/${action}`, {}, admin.auth);
      expect(res.statusCode, `${action}: ${res.body}`).toBeLessThan(300);
      expect({ action, ...(await follow(links)) }).toEqual({ action, ...dead });
    }
  });

  it('disabling the account ends every link, and enabling it again does not bring them back', async () => {
    const admin = await createUser(t.app, { role: 'admin' });
    const user = await createUser(t.app);
    const links = await outstandingLinks(user);
    const patch = (disabled: boolean) =>
      t.app.inject({ method: 'PATCH', url: `/api/admin/users/${user.id}`, headers: admin.auth, payload: { disabled } });
    expect((await patch(true)).statusCode).toBe(200);
    expect((await patch(false)).statusCode).toBe(200);
    expect(await follow(links)).toEqual(dead);
  });

  it('"log out everywhere" changes no credential: the owner\'s links keep working', async () => {
    const user = await createUser(t.app);
    const links = await outstandingLinks(user);
    expect((await post('/api/auth/logout-all', {}, user.auth)).statusCode).toBeLessThan(300);
    const { notMe, ...rest } = links;
    expect(await follow({ notMe })).toEqual({ notMe: 'ok' });
    // not-me issued a fresh reset link (the older one died, as `replace` says); the rest still work.
    expect(await follow({ unlock: rest.unlock, verify: rest.verify })).toEqual({ unlock: 'ok', verify: 'ok' });
  });
});
