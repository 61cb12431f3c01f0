/**
 * Suspicious-login detection through the login route: the signals, the "was this you?" mail and
 * its one-click link, and the MFA step-up for high risk.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.js';
import { createUser, strongPassword, type TestUser } from '../../../test/helpers/factories.js';
import { client, enrollTotp, login, oathCode, verify } from '../../../test/support/mfa/helpers.js';
import { actionFor, assessRisk, deviceFamily, networkPrefix } from './risk.js';
import { FIREFOX_LINUX, loginAs, mailsTo, SAFARI_IPHONE, tokenIn } from '../../../test/support/accounts/helpers.js';

const DENIED = '198.18.7.9';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({
    MAIL_POLL_INTERVAL: '0',
    SUSPICIOUS_LOGIN_DENY_NETWORKS: '198.18.0.0/15,2001:db8:bad::/48',
  });
});
afterAll(async () => {
  await t?.close();
});

async function suspiciousEvents(userId: string) {
  await t.app.audit.flush();
  return t.deps.db.query<{ metadata: { signals: string[]; action: string; level: string; session?: string } }>(
    `select metadata from audit_events where action = 'auth.login.suspicious' and target_id = $1 order by seq`,
    [userId],
  );
}

describe('signals and decisions (pure)', () => {
  it('compares networks by /24 and /48, devices by browser and OS family', () => {
    expect(networkPrefix('203.0.113.77')).toBe('203.0.113.0/24');
    expect(networkPrefix('::ffff:203.0.113.9')).toBe('203.0.113.0/24');
    expect(networkPrefix('2001:db8:abcd:12::1')).toBe('2001:db8:abcd::/48');
    expect(networkPrefix('2001:0DB8:ABCD::')).toBe('2001:db8:abcd::/48');
    expect(networkPrefix('not an ip')).toBe('unknown');
    expect(deviceFamily(FIREFOX_LINUX)).toBe(deviceFamily(FIREFOX_LINUX.replace(/128\.0/g, '131.0')));
    expect(deviceFamily(FIREFOX_LINUX)).not.toBe(deviceFamily(SAFARI_IPHONE));
    expect(deviceFamily('')).toBe('unknown');
    expect(deviceFamily('curl/8.5.0')).toBe(deviceFamily('curl/8.9.1'));
  });

  it('a new device or network alone is allowed; together, or after a burst, notify; a denied network steps up', () => {
    expect(assessRisk([]).level).toBe('low');
    expect(assessRisk(['new_device']).level).toBe('low');
    expect(assessRisk(['new_network']).level).toBe('low');
    expect(assessRisk(['new_device', 'new_network']).level).toBe('medium');
    expect(assessRisk(['failure_burst']).level).toBe('medium');
    expect(assessRisk(['denylisted_network']).level).toBe('high');
    expect(assessRisk(['failure_burst', 'new_device', 'new_network']).level).toBe('high');
    expect(actionFor('high', true)).toBe('step_up');
    expect(actionFor('high', false)).toBe('notify');
    expect(actionFor('medium', true)).toBe('notify');
    expect(actionFor('low', true)).toBe('allow');
  });
});

describe('through the login route', () => {
  let user: TestUser;
  beforeAll(async () => {
    user = await createUser(t.app); // first sign-in: nothing to compare with, nothing flagged
    await loginAs(t.app, user.email, user.password, { ua: FIREFOX_LINUX }); // new device alone: allowed
  });

  it('the first sign-ins raise nothing', async () => {
    expect(await suspiciousEvents(user.id)).toHaveLength(0);
    expect(await mailsTo(t.app, user.email, 'suspicious_login')).toHaveLength(0);
  });

  it('a new device on a new network signs in, and the owner is asked "was this you?"', async () => {
    const res = await loginAs(t.app, user.email, user.password, { ip: '203.0.113.50', ua: SAFARI_IPHONE });
    expect(res.statusCode).toBe(200);
    const events = await suspiciousEvents(user.id);
    expect(events).toHaveLength(1);
    expect(events[0]!.metadata).toMatchObject({
      signals: ['new_device', 'new_network'],
      level: 'medium',
      action: 'notify',
      session: res.json().sessionId,
    });
    const mails = await mailsTo(t.app, user.email, 'suspicious_login');
    expect(mails).toHaveLength(1);
    expect(mails[0]!.text).toContain('203.0.113.50');
    // Seen now: the same device and network again raise nothing.
    await loginAs(t.app, user.email, user.password, { ip: '203.0.113.51', ua: SAFARI_IPHONE });
    expect(await suspiciousEvents(user.id)).toHaveLength(1);
  });

  it('"it was not me" ends that session once and starts a password reset', async () => {
    const intruder = await loginAs(t.app, user.email, user.password, { ip: '192.0.2.66', ua: 'curl/8.5.0' });
    const intruderAuth = { authorization: `Bearer ${intruder.json().accessToken as string}` };
    expect((await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: intruderAuth })).statusCode).toBe(200);
    const token = tokenIn((await mailsTo(t.app, user.email, 'suspicious_login')).at(-1));
    const res = await t.app.inject({ method: 'POST', url: '/api/auth/login/not-me', payload: { token } });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ status: 'secured', sessionRevoked: true });
    expect((await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: intruderAuth })).statusCode).toBe(401);
    // The owner's own session is untouched.
    expect((await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: user.auth })).statusCode).toBe(200);
    const again = await t.app.inject({ method: 'POST', url: '/api/auth/login/not-me', payload: { token } });
    expect(again.json().code).toBe('INVALID_TOKEN');
    const next = strongPassword();
    const reset = await t.app.inject({
      method: 'POST',
      url: '/api/auth/password/reset',
      payload: { token: body.resetToken, newPassword: next },
    });
    expect(reset.statusCode).toBe(200);
    user.password = next;
  });

  it('a burst of failures before the right password is flagged', async () => {
    const before = (await suspiciousEvents(user.id)).length;
    for (let i = 0; i < 3; i++) {
      expect(
        (await loginAs(t.app, user.email, `Wrong-${i}-Harbor-Lantern`, { ip: '203.0.113.50', ua: SAFARI_IPHONE }))
          .statusCode,
      ).toBe(401);
    }
    const res = await loginAs(t.app, user.email, user.password, { ip: '203.0.113.50', ua: SAFARI_IPHONE });
    expect(res.statusCode).toBe(200);
    const events = await suspiciousEvents(user.id);
    expect(events).toHaveLength(before + 1);
    expect(events.at(-1)!.metadata).toMatchObject({ signals: ['failure_burst'], action: 'notify' });
  });

  it('a denylisted network without MFA: allowed, flagged high, owner notified', async () => {
    const res = await loginAs(t.app, user.email, user.password, { ip: DENIED, ua: SAFARI_IPHONE });
    expect(res.statusCode).toBe(200);
    expect(res.json().accessToken).toBeTruthy();
    const last = (await suspiciousEvents(user.id)).at(-1)!.metadata;
    expect(last.signals).toContain('denylisted_network');
    expect(last).toMatchObject({ level: 'high', action: 'notify' });
  });
});

describe('step-up for a user with MFA', () => {
  it('a trusted device from a denylisted network must still pass the second factor', async () => {
    const user = await createUser(t.app);
    const { secret } = await enrollTotp(t.app, t.clock, user);
    const first = await login(t.app, user);
    const v = await verify(t.app, {
      mfaToken: first.body['mfaToken'],
      code: oathCode(secret, t.clock.now().getTime()),
      rememberDevice: true,
    });
    const device = { ...client(), 'x-device-token': String(v.body['deviceToken']) };
    // From a usual network, the trusted device skips the second factor ...
    const usual = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      headers: device,
      payload: { email: user.email, password: user.password },
    });
    expect(usual.json().accessToken).toBeTruthy();
    // ... from a denylisted one it does not.
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      remoteAddress: DENIED,
      headers: device,
      payload: { email: user.email, password: user.password },
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.mfaRequired).toBe(true);
    expect(body.accessToken).toBeUndefined();
    expect(body.methods).toContain('totp');
    const events = await suspiciousEvents(user.id);
    expect(events.at(-1)!.metadata).toMatchObject({ level: 'high', action: 'step_up' });
    t.clock.advance(30_000);
    const done = await t.app.inject({
      method: 'POST',
      url: '/api/auth/mfa/verify',
      remoteAddress: DENIED,
      headers: client(),
      payload: { mfaToken: body.mfaToken, code: oathCode(secret, t.clock.now().getTime()) },
    });
    expect(done.statusCode, done.body).toBe(200);
    expect(done.json().accessToken).toBeTruthy();
    // The completed sign-in is still reported to the owner.
    expect((await mailsTo(t.app, user.email, 'suspicious_login')).length).toBeGreaterThanOrEqual(1);
  });
});
