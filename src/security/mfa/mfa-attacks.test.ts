/**
 * The ways around a second factor an attacker would try: a backup code used twice or from an old
 * set; an mfaToken that is expired, reused, taken to another client or guessed against; a device
 * token of another user or one that outlived a password change; a privileged account that never
 * enrolled; a code replayed on another node; sensitive changes from an old session.
 */
import { buildApp } from '../../app.js';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.js';
import { createUser } from '../../../test/helpers/factories.js';
import { openDb } from '../../platform/db/index.js';
import { TEST_DATABASE_URL } from '../../../test/helpers/services.js';
import { claimsOf, client, enrollTotp, login, oathCode, verify } from '../../../test/support/mfa/helpers.js';

let t: TestApp;

beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(async () => {
  await t.close();
});

const now = () => t.clock.now().getTime();

describe('backup codes', () => {
  it('each works once; the second use is refused; status counts down; low-code warning at 2 left', async () => {
    const user = await createUser(t.app);
    const { backupCodes } = await enrollTotp(t.app, t.clock, user);
    const first = await login(t.app, user);
    // Lower case and without the dash: typed from paper, still the same code.
    const typed = backupCodes[0]!.toLowerCase().replace('-', '');
    const ok = await verify(t.app, { mfaToken: first.body['mfaToken'], backupCode: typed });
    expect(ok.status).toBe(200);
    expect(ok.body['backupCodesRemaining']).toBe(9);
    expect(claimsOf(String(ok.body['accessToken']))['amr']).toEqual(expect.arrayContaining(['pwd', 'backup', 'mfa']));

    const again = await login(t.app, user);
    const reuse = await verify(t.app, { mfaToken: again.body['mfaToken'], backupCode: backupCodes[0] });
    expect(reuse.status).toBe(401);
    expect(reuse.body['code']).toBe('MFA_CODE_INVALID');

    for (const code of backupCodes.slice(1, 8)) {
      const l = await login(t.app, user);
      expect((await verify(t.app, { mfaToken: l.body['mfaToken'], backupCode: code })).status).toBe(200);
    }
    const status = await t.app.inject({ method: 'GET', url: '/api/auth/mfa', headers: user.auth });
    expect(status.json()).toMatchObject({ backupCodes: { remaining: 2, total: 10 } });
    await t.app.audit.flush();
    const low = await t.deps.db.query(
      `select 1 from audit_events where action = 'mfa.backup_codes.low' and target_id = $1`,
      [user.id],
    );
    expect(low.length).toBeGreaterThanOrEqual(1);
  });

  it('concurrent use of one backup code: exactly one succeeds', async () => {
    const user = await createUser(t.app);
    const { backupCodes } = await enrollTotp(t.app, t.clock, user);
    const tokens: unknown[] = [];
    for (let i = 0; i < 5; i++) tokens.push((await login(t.app, user)).body['mfaToken']);
    const results = await Promise.all(
      tokens.map((mfaToken) => verify(t.app, { mfaToken, backupCode: backupCodes[3] })),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
  });

  it('are stored hashed, not as typed', async () => {
    const user = await createUser(t.app);
    const { backupCodes } = await enrollTotp(t.app, t.clock, user);
    const rows = await t.deps.db.query(`select * from mfa_backup_codes where user_id = $1`, [user.id]);
    expect(rows).toHaveLength(10);
    const dump = JSON.stringify(rows);
    for (const c of backupCodes) {
      expect(dump).not.toContain(c);
      expect(dump).not.toContain(c.replace('-', ''));
    }
  });

  it('regenerating needs the password and a current code, and the old set stops working', async () => {
    const user = await createUser(t.app);
    const { secret, backupCodes } = await enrollTotp(t.app, t.clock, user);
    const noCode = await t.app.inject({
      method: 'POST',
      url: '/api/auth/mfa/backup-codes',
      headers: user.auth,
      payload: { password: user.password },
    });
    expect(noCode.statusCode).toBe(400);
    const wrongPassword = await t.app.inject({
      method: 'POST',
      url: '/api/auth/mfa/backup-codes',
      headers: user.auth,
      payload: { password: 'wrong-password-123', code: oathCode(secret, now()) },
    });
    expect(wrongPassword.statusCode).toBe(401);
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/auth/mfa/backup-codes',
      headers: user.auth,
      payload: { password: user.password, code: oathCode(secret, now()) },
    });
    expect(res.statusCode, res.body).toBe(200);
    const fresh = res.json<{ backupCodes: string[] }>().backupCodes;
    expect(fresh).toHaveLength(10);
    const old = await login(t.app, user);
    expect((await verify(t.app, { mfaToken: old.body['mfaToken'], backupCode: backupCodes[5] })).status).toBe(401);
    const neu = await login(t.app, user);
    expect((await verify(t.app, { mfaToken: neu.body['mfaToken'], backupCode: fresh[5] })).status).toBe(200);
  });
});

describe('mfaToken', () => {
  it('expires after 5 minutes', async () => {
    const user = await createUser(t.app);
    const { secret } = await enrollTotp(t.app, t.clock, user);
    const l = await login(t.app, user);
    t.clock.advance(5 * 60_000 + 1000);
    const res = await verify(t.app, { mfaToken: l.body['mfaToken'], code: oathCode(secret, now()) });
    expect(res.status).toBe(401);
    expect(res.body['code']).toBe('MFA_TOKEN_INVALID');
  });

  it('works once: reused after a success, it is refused', async () => {
    const user = await createUser(t.app);
    const { secret } = await enrollTotp(t.app, t.clock, user);
    const l = await login(t.app, user);
    expect((await verify(t.app, { mfaToken: l.body['mfaToken'], code: oathCode(secret, now()) })).status).toBe(200);
    t.clock.advance(30_000);
    const res = await verify(t.app, { mfaToken: l.body['mfaToken'], code: oathCode(secret, now()) });
    expect(res.status).toBe(401);
    expect(res.body['code']).toBe('MFA_TOKEN_INVALID');
  });

  it('from another login attempt (another client) it is refused, and the real client can still use its own', async () => {
    const user = await createUser(t.app);
    const { secret } = await enrollTotp(t.app, t.clock, user);
    const mine = await login(t.app, user, client(undefined, 'Browser A'));
    const stolen = await verify(
      t.app,
      { mfaToken: mine.body['mfaToken'], code: oathCode(secret, now()) },
      client(undefined, 'Attacker tool'),
    );
    expect(stolen.status).toBe(401);
    expect(stolen.body['code']).toBe('MFA_TOKEN_INVALID');
    const own = await verify(
      t.app,
      { mfaToken: mine.body['mfaToken'], code: oathCode(secret, now()) },
      client(undefined, 'Browser A'),
    );
    expect(own.status).toBe(200);
  });

  it('an unknown token is refused like a dead one', async () => {
    const res = await verify(t.app, { mfaToken: 'A'.repeat(43), code: '123456' });
    expect(res.status).toBe(401);
    expect(res.body['code']).toBe('MFA_TOKEN_INVALID');
  });

  it('dies after 5 wrong codes: the right code is refused afterwards', async () => {
    const user = await createUser(t.app);
    const { secret } = await enrollTotp(t.app, t.clock, user);
    const l = await login(t.app, user);
    const right = oathCode(secret, now());
    const wrong = right === '000000' ? '111111' : '000000';
    const lefts: unknown[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await verify(t.app, { mfaToken: l.body['mfaToken'], code: wrong });
      expect(r.status).toBe(401);
      lefts.push(r.body['attemptsLeft']);
    }
    expect(lefts).toEqual([4, 3, 2, 1, 0]);
    const res = await verify(t.app, { mfaToken: l.body['mfaToken'], code: right });
    expect(res.status).toBe(401);
    expect(res.body['code']).toBe('MFA_TOKEN_INVALID');
  });

  it('many wrong codes in parallel still get at most 5 checks', async () => {
    const user = await createUser(t.app);
    await enrollTotp(t.app, t.clock, user);
    const l = await login(t.app, user);
    const guesses = Array.from({ length: 20 }, (_, i) => String(100000 + i * 7919).slice(0, 6));
    const results = await Promise.all(guesses.map((code) => verify(t.app, { mfaToken: l.body['mfaToken'], code })));
    expect(results.filter((r) => r.body['code'] === 'MFA_CODE_INVALID').length).toBeLessThanOrEqual(5);
    const [row] = await t.deps.db.query<{ attempts: number }>(
      `select attempts from mfa_challenges where user_id = $1 and kind = 'login'`,
      [user.id],
    );
    expect(row?.attempts).toBe(5);
  });

  it('is stored hashed', async () => {
    const user = await createUser(t.app);
    await enrollTotp(t.app, t.clock, user);
    const l = await login(t.app, user);
    const rows = await t.deps.db.query(`select * from mfa_challenges where user_id = $1`, [user.id]);
    expect(JSON.stringify(rows)).not.toContain(String(l.body['mfaToken']));
  });
});

describe('trusted devices', () => {
  async function trustedLogin(user: Awaited<ReturnType<typeof createUser>>, secret: string) {
    const l = await login(t.app, user);
    const v = await verify(t.app, {
      mfaToken: l.body['mfaToken'],
      code: oathCode(secret, now()),
      rememberDevice: true,
      deviceName: 'Work laptop',
    });
    expect(v.status).toBe(200);
    t.clock.advance(30_000);
    return String(v.body['deviceToken']);
  }

  it('skip the second factor, are listed, stored hashed, and can be revoked', async () => {
    const user = await createUser(t.app);
    const { secret } = await enrollTotp(t.app, t.clock, user);
    const deviceToken = await trustedLogin(user, secret);
    expect(deviceToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const skip = await login(t.app, user, { ...client(), 'x-device-token': deviceToken });
    expect(skip.body['mfaRequired']).toBeUndefined();
    expect(claimsOf(String(skip.body['accessToken']))['amr']).toEqual(['pwd', 'device']);
    const auth = { authorization: `Bearer ${String(skip.body['accessToken'])}` };
    const list = await t.app.inject({ method: 'GET', url: '/api/auth/mfa/devices', headers: auth });
    const items = list.json<{ items: { id: string; label: string }[] }>().items;
    expect(items).toHaveLength(1);
    expect(items[0]?.label).toBe('Work laptop');
    expect(
      JSON.stringify(await t.deps.db.query(`select * from trusted_devices where user_id = $1`, [user.id])),
    ).not.toContain(deviceToken);
    const del = await t.app.inject({ method: 'DELETE', url: `/api/auth/mfa/devices/${items[0]!.id}`, headers: auth });
    expect(del.statusCode).toBe(204);
    const after = await login(t.app, user, { ...client(), 'x-device-token': deviceToken });
    expect(after.body['mfaRequired']).toBe(true);
  });

  it('a device token of another user is refused (the second factor is still asked)', async () => {
    const alice = await createUser(t.app);
    const bob = await createUser(t.app);
    const a = await enrollTotp(t.app, t.clock, alice);
    await enrollTotp(t.app, t.clock, bob);
    const aliceDevice = await trustedLogin(alice, a.secret);
    const res = await login(t.app, bob, { ...client(), 'x-device-token': aliceDevice });
    expect(res.body['mfaRequired']).toBe(true);
    expect(res.body['accessToken']).toBeUndefined();
  });

  it('expire after TRUSTED_DEVICE_DAYS', async () => {
    const user = await createUser(t.app);
    const { secret } = await enrollTotp(t.app, t.clock, user);
    const deviceToken = await trustedLogin(user, secret);
    t.clock.advance(t.config.TRUSTED_DEVICE_DAYS * 86_400_000 + 1000);
    const res = await login(t.app, user, { ...client(), 'x-device-token': deviceToken });
    expect(res.body['mfaRequired']).toBe(true);
  });

  it('are all revoked when every token of the user is revoked (password change, reset, logout-all)', async () => {
    const user = await createUser(t.app);
    const { secret } = await enrollTotp(t.app, t.clock, user);
    const deviceToken = await trustedLogin(user, secret);
    for (const reason of ['password_change', 'password_reset', 'logout_all'] as const) {
      await t.app.tokens.revokeUser(user.id, reason);
      const res = await login(t.app, user, { ...client(), 'x-device-token': deviceToken });
      expect(res.body['mfaRequired'], reason).toBe(true);
    }
  });

  it('are revoked by logout-all through the API', async () => {
    const user = await createUser(t.app);
    const { secret } = await enrollTotp(t.app, t.clock, user);
    const deviceToken = await trustedLogin(user, secret);
    const l = await login(t.app, user, { ...client(), 'x-device-token': deviceToken });
    expect(l.body['accessToken']).toBeTypeOf('string');
    const out = await t.app.inject({
      method: 'POST',
      url: '/api/auth/logout-all',
      headers: client(String(l.body['accessToken'])),
    });
    expect(out.statusCode).toBe(204);
    const res = await login(t.app, user, { ...client(), 'x-device-token': deviceToken });
    expect(res.body['mfaRequired']).toBe(true);
  });
});

describe('enforcement by role', () => {
  it('an admin without MFA: inside the grace period full tokens and a notice; after it, a token that only allows enrollment', async () => {
    const admin = await createUser(t.app, { role: 'admin' });
    const inGrace = await login(t.app, admin);
    expect(inGrace.body).toMatchObject({ mfaEnrollmentRequired: true });
    expect(Date.parse(String(inGrace.body['enrollBy']))).toBeGreaterThan(now());
    expect(claimsOf(String(inGrace.body['accessToken']))['scp']).toBeUndefined();

    t.clock.advance((t.config.MFA_ENROLLMENT_GRACE_DAYS + 1) * 86_400_000);
    const past = await login(t.app, admin);
    expect(past.status).toBe(200);
    expect(claimsOf(String(past.body['accessToken']))['scp']).toBe('mfa_enrollment');
    const auth = client(String(past.body['accessToken']));
    // Not a full token: the API refuses it everywhere except MFA enrollment.
    for (const [method, url] of [
      ['GET', '/api/auth/me'],
      ['GET', '/api/admin/users'],
      ['GET', '/api/portfolios'],
      ['GET', '/api/auth/mfa/devices'],
    ] as const) {
      const res = await t.app.inject({ method, url, headers: auth });
      expect(res.statusCode, url).toBe(403);
      expect(res.json(), url).toMatchObject({ code: 'MFA_ENROLLMENT_REQUIRED' });
    }
    // The refresh token cannot launder the restriction away either.
    const refreshed = await t.app.inject({
      method: 'POST',
      url: '/api/auth/refresh',
      headers: client(),
      payload: { refreshToken: past.body['refreshToken'] },
    });
    expect(refreshed.statusCode).toBe(200);
    expect(claimsOf(refreshed.json<{ accessToken: string }>().accessToken)['scp']).toBe('mfa_enrollment');

    // Enrollment works with the restricted token; then login asks for the second factor.
    const enroll = await t.app.inject({
      method: 'POST',
      url: '/api/auth/mfa/totp/enroll',
      headers: auth,
      payload: { password: admin.password },
    });
    expect(enroll.statusCode).toBe(200);
    const { secret } = enroll.json<{ secret: string }>();
    const confirm = await t.app.inject({
      method: 'POST',
      url: '/api/auth/mfa/totp/confirm',
      headers: auth,
      payload: { code: oathCode(secret, now()) },
    });
    expect(confirm.statusCode).toBe(200);
    t.clock.advance(30_000);
    const full = await login(t.app, admin);
    expect(full.body['mfaRequired']).toBe(true);
    const v = await verify(t.app, { mfaToken: full.body['mfaToken'], code: oathCode(secret, now()) });
    expect(v.status).toBe(200);
    expect(claimsOf(String(v.body['accessToken']))['scp']).toBeUndefined();
    const users = await t.app.inject({
      method: 'GET',
      url: '/api/admin/users',
      headers: client(String(v.body['accessToken'])),
    });
    expect(users.statusCode).toBe(200);
  });

  it('a plain user is not required to enroll', async () => {
    const user = await createUser(t.app);
    const res = await login(t.app, user);
    expect(res.body['mfaEnrollmentRequired']).toBeUndefined();
  });

  it('a privileged user with MFA never skips it', async () => {
    const admin = await createUser(t.app, { role: 'admin' });
    await enrollTotp(t.app, t.clock, admin);
    const res = await login(t.app, admin);
    expect(res.body['mfaRequired']).toBe(true);
    expect(res.body['accessToken']).toBeUndefined();
  });
});

describe('disable and reset', () => {
  it('disabling needs a recent sign-in, the password and a current code', async () => {
    const user = await createUser(t.app);
    const { secret } = await enrollTotp(t.app, t.clock, user);
    const l = await login(t.app, user);
    const v = await verify(t.app, { mfaToken: l.body['mfaToken'], code: oathCode(secret, now()) });
    const auth = client(String(v.body['accessToken']));
    t.clock.advance(30_000);
    const noCode = await t.app.inject({
      method: 'POST',
      url: '/api/auth/mfa/disable',
      headers: auth,
      payload: { password: user.password, code: '000000' },
    });
    expect(noCode.statusCode).toBe(401);
    expect(noCode.json()).toMatchObject({ code: 'MFA_CODE_INVALID' });

    t.clock.advance((t.config.REAUTH_MAX_AGE + 1) * 1000);
    const stale = await t.app.inject({
      method: 'POST',
      url: '/api/auth/mfa/disable',
      headers: auth,
      payload: { password: user.password, code: oathCode(secret, now()) },
    });
    expect(stale.statusCode).toBe(401);
    expect(stale.json()).toMatchObject({ code: 'REAUTH_REQUIRED' });

    const l2 = await login(t.app, user);
    const v2 = await verify(t.app, { mfaToken: l2.body['mfaToken'], code: oathCode(secret, now()) });
    t.clock.advance(30_000);
    const ok = await t.app.inject({
      method: 'POST',
      url: '/api/auth/mfa/disable',
      headers: client(String(v2.body['accessToken'])),
      payload: { password: user.password, code: oathCode(secret, now()) },
    });
    expect(ok.statusCode).toBe(204);
    const after = await login(t.app, user);
    expect(after.body['accessToken']).toBeTypeOf('string');
  });

  it('an admin resets a user: factors gone, sessions revoked, audit event, mail to the user; a non-admin cannot', async () => {
    const admin = await createUser(t.app, { role: 'admin' });
    const user = await createUser(t.app);
    await enrollTotp(t.app, t.clock, user);
    const asUser = await t.app.inject({
      method: 'POST',
      url: `/api/admin/users/${user.id}/mfa/reset`,
      headers: client(user.accessToken),
    });
    expect(asUser.statusCode).toBe(403);
    const res = await t.app.inject({
      method: 'POST',
      url: `/api/admin/users/${user.id}/mfa/reset`,
      headers: client(admin.accessToken),
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ removed: { totp: true, backupCodes: 10 } });
    // The user's old tokens are revoked.
    const me = await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: user.auth });
    expect(me.statusCode).toBe(401);
    const l = await login(t.app, user);
    expect(l.body['accessToken']).toBeTypeOf('string');
    await t.app.audit.flush();
    const events = await t.deps.db.query<{ actor: string }>(
      `select actor from audit_events where action = 'mfa.reset' and target_id = $1`,
      [user.id],
    );
    expect(events).toEqual([{ actor: admin.id }]);
    const mails = await t.deps.db.query(
      `select 1 from mail_outbox where template = 'mfa_reset_notice' and lower(to_address) = lower($1)`,
      [user.email],
    );
    expect(mails).toHaveLength(1);
    const missing = await t.app.inject({
      method: 'POST',
      url: `/api/admin/users/00000000-0000-7000-8000-000000000000/mfa/reset`,
      headers: client(admin.accessToken),
    });
    expect(missing.statusCode).toBe(404);
  });

  it('a reset never grants a privileged user a new grace period', async () => {
    const admin = await createUser(t.app, { role: 'admin' });
    const target = await createUser(t.app, { role: 'admin' });
    await login(t.app, target);
    await enrollTotp(t.app, t.clock, target);
    t.clock.advance((t.config.MFA_ENROLLMENT_GRACE_DAYS + 1) * 86_400_000);
    // The admin signs in afresh (recent auth) to reset.
    const adminLogin = await login(t.app, admin);
    const adminToken = String(adminLogin.body['accessToken']);
    const res = await t.app.inject({
      method: 'POST',
      url: `/api/admin/users/${target.id}/mfa/reset`,
      headers: client(adminToken),
    });
    // The admin is past their own grace too: their token is restricted, so even the reset is refused.
    expect(res.statusCode).toBe(403);
    await t.app.mfa.resetUser(
      admin.id,
      { id: target.id, email: target.email, name: target.name },
      { ip: null, userAgent: null, requestId: null },
    );
    const l = await login(t.app, target);
    expect(claimsOf(String(l.body['accessToken']))['scp']).toBe('mfa_enrollment');
  });
});

describe('another node', () => {
  it('a code used on one node is refused on another (shared database, no node state)', async () => {
    // A second app on the same database (its own connection pool on PostgreSQL) and KV.
    let db2 = t.deps.db;
    if (TEST_DATABASE_URL) {
      const [row] = await t.deps.db.query<{ schema: string }>('select current_schema() as schema');
      db2 = await openDb({ url: TEST_DATABASE_URL, dataDir: 'unused', schema: row!.schema, poolSize: 5 });
    }
    const node2: FastifyInstance = await buildApp({ ...t.deps, db: db2 }, { logger: false });
    await node2.ready();
    try {
      const user = await createUser(t.app);
      const { secret } = await enrollTotp(t.app, t.clock, user);
      const code = oathCode(secret, now());
      const l1 = await login(t.app, user);
      const l2 = await login(node2, user);
      expect((await verify(t.app, { mfaToken: l1.body['mfaToken'], code })).status).toBe(200);
      const replay = await verify(node2, { mfaToken: l2.body['mfaToken'], code });
      expect(replay.status).toBe(401);
      expect(replay.body['code']).toBe('MFA_CODE_INVALID');

      // Concurrent, one request per node: exactly one wins.
      t.clock.advance(30_000);
      const code2 = oathCode(secret, now());
      const a = await login(t.app, user);
      const b = await login(node2, user);
      const results = await Promise.all([
        verify(t.app, { mfaToken: a.body['mfaToken'], code: code2 }),
        verify(node2, { mfaToken: b.body['mfaToken'], code: code2 }),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
    } finally {
      await node2.close();
      if (db2 !== t.deps.db) await db2.close();
    }
  });
});
