/**
 * Revocation as users and admins use it, and across nodes: sessions list and end, logout,
 * logout-all, admin revoke, and a logout on node A refused on node B within a second.
 */
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.js';
import { createUser } from '../../../test/helpers/factories.js';
import { secondNode } from '../../../test/helpers/tokens.js';

interface Pair {
  accessToken: string;
  refreshToken: string;
  sessionId: string;
}

const FIREFOX = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0';
const IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';

describe('sessions and revocation', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp();
  });
  afterAll(async () => t.close());

  const get = (url: string, token: string) =>
    t.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
  const post = (url: string, token: string) =>
    t.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${token}` } });
  const del = (url: string, token: string) =>
    t.app.inject({ method: 'DELETE', url, headers: { authorization: `Bearer ${token}` } });
  const login = async (email: string, password: string, ua: string) =>
    (
      await t.app.inject({
        method: 'POST',
        url: '/api/auth/login',
        payload: { email, password },
        headers: { 'user-agent': ua },
      })
    ).json<Pair>();

  it('lists the caller’s sessions with parsed devices and the current one marked', async () => {
    const u = await createUser(t.app);
    const desktop = await login(u.email, u.password, FIREFOX);
    await login(u.email, u.password, IPHONE);
    const res = await get('/api/auth/sessions', desktop.accessToken);
    expect(res.statusCode).toBe(200);
    const { sessions } = res.json<{
      sessions: { id: string; current: boolean; browser: string; os: string; device: string; ip: string }[];
    }>();
    expect(sessions).toHaveLength(3); // the factory's login, desktop, phone
    const current = sessions.filter((s) => s.current);
    expect(current.map((s) => s.id)).toEqual([desktop.sessionId]);
    expect(current[0]?.browser).toBe('Firefox 128');
    expect(current[0]?.os).toMatch(/^Windows/);
    expect(current[0]?.ip).toBe('127.0.0.1');
    expect(sessions.some((s) => s.device.startsWith('mobile Apple iPhone'))).toBe(true);
  });

  it('ends one session: its tokens die, the others live; another user’s session id is 404', async () => {
    const u = await createUser(t.app);
    const a = await login(u.email, u.password, FIREFOX);
    const b = await login(u.email, u.password, IPHONE);
    const stranger = await createUser(t.app);
    expect((await del(`/api/auth/sessions/${b.sessionId}`, stranger.accessToken)).statusCode).toBe(404);
    expect((await get('/api/auth/me', b.accessToken)).statusCode).toBe(200);

    expect((await del(`/api/auth/sessions/${b.sessionId}`, a.accessToken)).statusCode).toBe(204);
    expect((await get('/api/auth/me', b.accessToken)).statusCode).toBe(401);
    expect(
      (await t.app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refreshToken: b.refreshToken } }))
        .statusCode,
    ).toBe(401);
    expect((await get('/api/auth/me', a.accessToken)).statusCode).toBe(200);
    expect((await del(`/api/auth/sessions/${b.sessionId}`, a.accessToken)).statusCode).toBe(404);
  });

  it('"sign out other devices" ends every other session and keeps the current one', async () => {
    const u = await createUser(t.app);
    const a = await login(u.email, u.password, FIREFOX);
    const b = await login(u.email, u.password, IPHONE);
    const res = await del('/api/auth/sessions', a.accessToken);
    expect(res.statusCode).toBe(200);
    expect(res.json<{ ended: number }>().ended).toBe(2);
    expect((await get('/api/auth/me', a.accessToken)).statusCode).toBe(200);
    expect((await get('/api/auth/me', b.accessToken)).statusCode).toBe(401);
    expect((await get('/api/auth/me', u.accessToken)).statusCode).toBe(401);
  });

  it('logout revokes the access token itself (jti denylist) and the session', async () => {
    const u = await createUser(t.app);
    expect((await post('/api/auth/logout', u.accessToken)).statusCode).toBe(204);
    expect((await get('/api/auth/me', u.accessToken)).statusCode).toBe(401);
    const jti = String(decodeJwt(u.accessToken)['jti']);
    const rows = await t.deps.db.query<{ reason: string }>(`select reason from revoked_tokens where jti = $1`, [jti]);
    expect(rows[0]?.reason).toBe('logout');
  });

  it('an admin revokes every token of a user; a plain user cannot', async () => {
    const admin = await createUser(t.app, { role: 'admin' });
    const victim = await createUser(t.app);
    const plain = await createUser(t.app);
    expect((await post(`/api/admin/users/${victim.id}/revoke-tokens`, plain.accessToken)).statusCode).toBe(403);
    expect((await get('/api/auth/me', victim.accessToken)).statusCode).toBe(200);
    expect((await post(`/api/admin/users/${victim.id}/revoke-tokens`, admin.accessToken)).statusCode).toBe(204);
    expect((await get('/api/auth/me', victim.accessToken)).statusCode).toBe(401);
    expect(
      (await post(`/api/admin/users/00000000-0000-7000-8000-000000000000/revoke-tokens`, admin.accessToken)).statusCode,
    ).toBe(404);
    await t.app.audit.flush();
    const events = await t.deps.db.query<{ actor: string; target_id: string }>(
      `select actor, target_id from audit_events where action = 'token.revoked' and target_id = $1`,
      [victim.id],
    );
    expect(events[0]?.actor).toBe(admin.id);
  });

  it('admin revoke needs a recent sign-in (step-up)', async () => {
    const admin = await createUser(t.app, { role: 'admin' });
    const victim = await createUser(t.app);
    t.clock.advance((t.config.REAUTH_MAX_AGE + 1) * 1000);
    try {
      const res = await post(`/api/admin/users/${victim.id}/revoke-tokens`, admin.accessToken);
      // The access token is still valid (ACCESS_TOKEN_TTL 1800 > REAUTH_MAX_AGE 600): only the sign-in is too old.
      expect(res.statusCode).toBe(401);
      expect(res.json<{ code: string }>().code).toBe('REAUTH_REQUIRED');
      expect((await get('/api/auth/me', admin.accessToken)).statusCode).toBe(200);
    } finally {
      t.clock.advance(-(t.config.REAUTH_MAX_AGE + 1) * 1000);
    }
  });

  it('changing a user’s role takes effect on the next request', async () => {
    const admin = await createUser(t.app, { role: 'admin' });
    const u = await createUser(t.app);
    expect((await get('/api/admin/users', u.accessToken)).statusCode).toBe(403);
    const patch = await t.app.inject({
      method: 'PATCH',
      url: `/api/admin/users/${u.id}`,
      headers: { authorization: `Bearer ${admin.accessToken}` },
      payload: { role: 'admin' },
    });
    expect(patch.statusCode).toBe(200);
    expect((await get('/api/admin/users', u.accessToken)).statusCode).toBe(200);
  });
});

describe('two nodes', () => {
  let t: TestApp;
  let b: Awaited<ReturnType<typeof secondNode>>;
  beforeAll(async () => {
    t = await buildTestApp();
    b = await secondNode(t.deps);
  });
  afterAll(async () => {
    await b.close();
    await t.close();
  });

  /** Polls node B until it refuses the token; returns how long that took. */
  async function refusedOnB(token: string): Promise<number> {
    const started = Date.now();
    for (;;) {
      const res = await b.app.inject({
        method: 'GET',
        url: '/api/auth/me',
        headers: { authorization: `Bearer ${token}` },
      });
      if (res.statusCode === 401) return Date.now() - started;
      if (Date.now() - started > 5_000) throw new Error('node B still accepts the token after 5 s');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it('a logout on node A is refused on node B within 1 s, though B had cached the token', async () => {
    const u = await createUser(t.app);
    // B verifies (and caches) the token first.
    for (let i = 0; i < 3; i++) {
      expect(
        (
          await b.app.inject({
            method: 'GET',
            url: '/api/auth/me',
            headers: { authorization: `Bearer ${u.accessToken}` },
          })
        ).statusCode,
      ).toBe(200);
    }
    const out = await t.app.inject({
      method: 'POST',
      url: '/api/auth/logout',
      headers: { authorization: `Bearer ${u.accessToken}` },
    });
    expect(out.statusCode).toBe(204);
    expect(await refusedOnB(u.accessToken)).toBeLessThan(1_000);
  });

  it('logout-all and a disabled account on node A are refused on node B within 1 s', async () => {
    const u = await createUser(t.app);
    const v = await createUser(t.app);
    for (const token of [u.accessToken, v.accessToken]) {
      expect(
        (await b.app.inject({ method: 'GET', url: '/api/auth/me', headers: { authorization: `Bearer ${token}` } }))
          .statusCode,
      ).toBe(200);
    }
    await t.app.inject({
      method: 'POST',
      url: '/api/auth/logout-all',
      headers: { authorization: `Bearer ${u.accessToken}` },
    });
    await t.app.users.update(v.id, { disabled: true });
    expect(await refusedOnB(u.accessToken)).toBeLessThan(1_000);
    expect(await refusedOnB(v.accessToken)).toBeLessThan(1_000);
  });

  it('a node that starts after a revocation refuses the revoked token', async () => {
    const u = await createUser(t.app);
    await t.app.inject({
      method: 'POST',
      url: '/api/auth/logout',
      headers: { authorization: `Bearer ${u.accessToken}` },
    });
    const c = await secondNode(t.deps);
    try {
      const res = await c.app.inject({
        method: 'GET',
        url: '/api/auth/me',
        headers: { authorization: `Bearer ${u.accessToken}` },
      });
      expect(res.statusCode).toBe(401);
    } finally {
      await c.close();
    }
  });

  it('verifies tokens of node A on node B (one key ring in the database)', async () => {
    const u = await createUser(t.app);
    const res = await b.app.inject({
      method: 'GET',
      url: '/api/auth/me',
      headers: { authorization: `Bearer ${u.accessToken}` },
    });
    expect(res.statusCode).toBe(200);
  });
});
