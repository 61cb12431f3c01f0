/**
 * Admin user management as an attacker probes it: no user:manage permission, no access (a user
 * cannot promote themselves, an editor cannot manage users); an admin cannot lock everyone out by
 * demoting or disabling their own account; disabling a user ends their access at once.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../test/helpers/app.js';
import { createUser, strongPassword, uniqueEmail, type TestUser } from '../../test/helpers/factories.js';
import { enrollTotp } from '../../test/support/mfa/helpers.js';

let t: TestApp;
let admin: TestUser;
let editor: TestUser;
let user: TestUser;
beforeAll(async () => {
  t = await buildTestApp();
  admin = await createUser(t.app, { role: 'admin' });
  editor = await createUser(t.app, { role: 'editor' });
  user = await createUser(t.app);
});
afterAll(async () => {
  await t.close();
});

const req = (method: 'GET' | 'POST' | 'PATCH', url: string, who?: TestUser, payload?: object) =>
  t.app.inject({ method, url, ...(who ? { headers: who.auth } : {}), ...(payload ? { payload } : {}) });

describe('who may manage users', () => {
  it('anonymous → 401 on every admin route', async () => {
    expect((await req('GET', '/api/admin/users')).statusCode).toBe(401);
    expect(
      (
        await req('POST', '/api/admin/users', undefined, {
          email: uniqueEmail(),
          name: 'X',
          password: strongPassword(),
        })
      ).statusCode,
    ).toBe(401);
    expect((await req('PATCH', `/api/admin/users/${user.id}`, undefined, { role: 'admin' })).statusCode).toBe(401);
  });

  it.each(['user', 'editor'] as const)('a %s gets 403 and cannot promote themselves', async (role) => {
    const who = role === 'user' ? user : editor;
    expect((await req('GET', '/api/admin/users', who)).statusCode).toBe(403);
    expect((await req('GET', `/api/admin/users/${who.id}`, who)).statusCode).toBe(403);
    const promote = await req('PATCH', `/api/admin/users/${who.id}`, who, { role: 'admin' });
    expect(promote.statusCode).toBe(403);
    expect(promote.json().code).toBe('FORBIDDEN');
    const create = await req('POST', '/api/admin/users', who, {
      email: uniqueEmail(),
      name: 'Sock',
      password: strongPassword(),
      role: 'admin',
    });
    expect(create.statusCode).toBe(403);
    const me = await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: who.auth });
    expect(me.json().user.role).toBe(role);
  });
});

describe('what an admin may do', () => {
  it('creates users with the password policy applied, and refuses duplicates', async () => {
    const email = uniqueEmail('made');
    const ok = await req('POST', '/api/admin/users', admin, {
      email,
      name: 'Made',
      password: strongPassword(),
      role: 'editor',
    });
    expect(ok.statusCode).toBe(201);
    expect(ok.json()).toMatchObject({ email, role: 'editor', disabled: false });
    expect(ok.body).not.toMatch(/argon2|passwordHash/);
    const weak = await req('POST', '/api/admin/users', admin, {
      email: uniqueEmail(),
      name: 'W',
      password: 'password1234',
    });
    expect(weak.json().code).toBe('WEAK_PASSWORD');
    const dup = await req('POST', '/api/admin/users', admin, {
      email: email.toUpperCase(),
      name: 'D',
      password: strongPassword(),
    });
    expect(dup.statusCode).toBe(409);
  });

  it('lists every user once across pages', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await req('GET', `/api/admin/users?limit=2${cursor ? `&cursor=${cursor}` : ''}`, admin);
      expect(res.statusCode).toBe(200);
      const page = res.json<{ items: { id: string }[]; nextCursor: string | null }>();
      seen.push(...page.items.map((u) => u.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(expect.arrayContaining([admin.id, editor.id, user.id]));
  });

  it('shows which second factors each account has (TOTP, passkeys, none), never a secret', async () => {
    const withTotp = await createUser(t.app);
    const { secret } = await enrollTotp(t.app, t.clock, withTotp);
    const withPasskey = await createUser(t.app);
    await t.app.mfa.repo.credentials.createCredential({
      id: randomUUID(),
      userId: withPasskey.id,
      credentialId: 'cred-admin-list',
      publicKey: 'public-key-bytes',
      counter: 0,
      transports: ['internal'],
      name: 'Laptop',
      deviceType: 'singleDevice',
      backedUp: false,
      createdAt: t.clock.now(),
    });
    // Started but never confirmed: not a second factor.
    const pending = await createUser(t.app);
    const started = await req('POST', '/api/auth/mfa/totp/enroll', pending, { password: pending.password });
    expect(started.statusCode).toBe(200);
    const pendingSecret = started.json<{ secret: string }>().secret;

    const items: { id: string; secondFactors?: unknown }[] = [];
    let cursor: string | null = null;
    do {
      const res = await req('GET', `/api/admin/users?limit=100${cursor ? `&cursor=${cursor}` : ''}`, admin);
      expect(res.statusCode).toBe(200);
      for (const leaked of [
        secret,
        pendingSecret,
        'public-key-bytes',
        'cred-admin-list',
        'secret_ciphertext',
        'Laptop',
      ])
        expect(res.body).not.toContain(leaked);
      const page = res.json<{ items: typeof items; nextCursor: string | null }>();
      items.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    const factorsOf = (id: string) => items.find((u) => u.id === id)?.secondFactors;
    expect(factorsOf(withTotp.id)).toEqual({ totp: true, passkeys: 0 });
    expect(factorsOf(withPasskey.id)).toEqual({ totp: false, passkeys: 1 });
    expect(factorsOf(pending.id)).toEqual({ totp: false, passkeys: 0 });
    expect(factorsOf(user.id)).toEqual({ totp: false, passkeys: 0 });
    const one = await req('GET', `/api/admin/users/${withTotp.id}`, admin);
    expect(one.json<{ secondFactors: unknown }>().secondFactors).toEqual({ totp: true, passkeys: 0 });
    expect(one.body).not.toContain(secret);
  });

  it('disabling a user ends their access at once', async () => {
    const victim = await createUser(t.app);
    expect((await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: victim.auth })).statusCode).toBe(200);
    const res = await req('PATCH', `/api/admin/users/${victim.id}`, admin, { disabled: true });
    expect(res.statusCode).toBe(200);
    expect(res.json().disabled).toBe(true);
    expect((await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: victim.auth })).statusCode).toBe(401);
  });

  it('needs a recent sign-in to change accounts (step-up), not to read them', async () => {
    const fresh = await createUser(t.app, { role: 'admin' });
    t.clock.advance((t.config.REAUTH_MAX_AGE + 1) * 1000);
    try {
      expect((await req('GET', '/api/admin/users', fresh)).statusCode).toBe(200);
      const res = await req('PATCH', `/api/admin/users/${user.id}`, fresh, { name: 'Renamed' });
      expect(res.statusCode).toBe(401);
      expect(res.json().code).toBe('REAUTH_REQUIRED');
      const created = await req('POST', '/api/admin/users', fresh, {
        email: uniqueEmail(),
        name: 'X',
        password: strongPassword(),
      });
      expect(created.json().code).toBe('REAUTH_REQUIRED');
    } finally {
      t.clock.advance(-(t.config.REAUTH_MAX_AGE + 1) * 1000);
    }
  });

  it('cannot demote or disable their own account (no lock-out of the last admin)', async () => {
    for (const body of [{ role: 'user' }, { role: 'editor' }, { disabled: true }]) {
      const res = await req('PATCH', `/api/admin/users/${admin.id}`, admin, body);
      expect(res.statusCode).toBe(409);
      expect(res.json().code).toBe('CANNOT_CHANGE_OWN_ACCESS');
    }
    expect((await req('PATCH', `/api/admin/users/${admin.id}`, admin, { name: 'Renamed Admin' })).statusCode).toBe(200);
  });

  it('answers bad input with 400/404, never 500', async () => {
    expect((await req('PATCH', `/api/admin/users/${user.id}`, admin, {})).statusCode).toBe(400);
    expect((await req('PATCH', `/api/admin/users/${user.id}`, admin, { role: 'root' })).statusCode).toBe(400);
    expect((await req('PATCH', `/api/admin/users/${user.id}`, admin, { email: 'x@y.z' })).statusCode).toBe(400);
    const missing = await req('PATCH', '/api/admin/users/0190a6d4-0000-7000-8000-000000000000', admin, { name: 'N' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().code).toBe('USER_NOT_FOUND');
    expect((await req('GET', '/api/admin/users/not-a-uuid', admin)).statusCode).toBe(400);
  });
});
