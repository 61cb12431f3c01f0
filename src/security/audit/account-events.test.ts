/**
 * GET /api/account/events: the signed-in user's recent security events, own account only. The
 * attacks: asking for another user's events (by parameter, by cursor), and reading what an admin's
 * action on your account reveals about the admin.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.js';
import { createUser, type TestUser } from '../../../test/helpers/factories.js';
import { encodeCursor } from '../../http/cursor.js';

interface Item {
  id: number;
  time: string;
  action: string;
  outcome: string;
  by: string;
  ip: string | null;
  userAgent: string | null;
  metadata: Record<string, unknown>;
}

describe('GET /api/account/events', () => {
  let t: TestApp;
  let alice: TestUser;
  let bob: TestUser;
  let admin: TestUser;

  beforeAll(async () => {
    t = await buildTestApp();
    alice = await createUser(t.app);
    bob = await createUser(t.app);
    admin = await createUser(t.app, { role: 'admin' });
    // Someone tries Bob's password from another address.
    const failed = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      remoteAddress: '203.0.113.9',
      payload: { email: bob.email, password: 'Not-his-password-42' },
    });
    expect(failed.statusCode).toBe(401);
    // An admin acts on Bob's account from the admin's own address and browser.
    const revoked = await t.app.inject({
      method: 'POST',
      url: `/api/admin/users/${bob.id}/revoke-tokens`,
      remoteAddress: '198.51.100.7',
      headers: { ...admin.auth, 'user-agent': 'AdminBrowser/1.0' },
    });
    expect(revoked.statusCode, revoked.body).toBe(204);
    // Bob signs in again (the admin ended his sessions).
    const again = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { email: bob.email, password: bob.password },
    });
    bob = { ...bob, auth: { authorization: `Bearer ${again.json().accessToken as string}` } };
    // Alice does ordinary, non-security things: not her security events.
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/portfolios',
      headers: alice.auth,
      payload: { title: 'Alice', slug: `alice-${Date.now()}` },
    });
    expect(created.statusCode).toBe(201);
  });
  afterAll(async () => t.close());

  async function eventsOf(user: TestUser, query = ''): Promise<{ items: Item[]; nextCursor: string | null }> {
    const res = await t.app.inject({ method: 'GET', url: `/api/account/events${query}`, headers: user.auth });
    expect(res.statusCode, res.body).toBe(200);
    return res.json();
  }

  /** Every audit row that is about `userId`'s account under the rule: target this user, or theirs about no other user. */
  async function ownSeqs(userId: string): Promise<Set<number>> {
    const rows = await t.app.deps.db.query<{ seq: string | number }>(
      `select seq from audit_events
        where (target_type = 'user' and target_id = $1) or (actor = $1 and (target_type is null or target_type <> 'user'))`,
      [userId],
    );
    return new Set(rows.map((r) => Number(r.seq)));
  }

  it("lists the caller's own security events, newest first, and nothing of anyone else's", async () => {
    const page = await eventsOf(alice, '?limit=100');
    expect(page.items.length).toBeGreaterThan(0);
    expect(page.items.map((e) => e.action)).toContain('auth.login.succeeded');
    // Only security families: her portfolio request is not one.
    expect(page.items.every((e) => /^(auth|account|token|session|mfa|user\.access)\./.test(e.action))).toBe(true);
    const ids = page.items.map((e) => e.id);
    expect([...ids].sort((a, b) => b - a)).toEqual(ids);
    const own = await ownSeqs(alice.id);
    for (const e of page.items) expect(own.has(e.id), `${e.action} #${e.id}`).toBe(true);
    // Bob's failed sign-in and the admin's action on Bob are not Alice's.
    const bobs = await ownSeqs(bob.id);
    expect(ids.some((id) => bobs.has(id))).toBe(false);
  });

  it("shows attempts against the account with their address, and an admin's action without the admin's address", async () => {
    const { items } = await eventsOf(bob, '?limit=100');
    const failed = items.find((e) => e.action === 'auth.login.failed');
    expect(failed).toMatchObject({ by: 'anonymous', outcome: 'failure', ip: '203.0.113.9' });
    const byAdmin = items.find((e) => e.action === 'token.revoked');
    expect(byAdmin).toMatchObject({ by: 'administrator', ip: null, userAgent: null });
    expect(JSON.stringify(items)).not.toContain(admin.id);
    expect(JSON.stringify(items)).not.toContain('198.51.100.7');
    expect(JSON.stringify(items)).not.toContain('AdminBrowser');
  });

  it("the admin's own list does not hold what the admin did to another account", async () => {
    const { items } = await eventsOf(admin, '?limit=100');
    expect(items.find((e) => e.action === 'token.revoked')).toBeUndefined();
    const bobs = await ownSeqs(bob.id);
    expect(items.some((e) => bobs.has(e.id))).toBe(false);
  });

  it('no parameter can name another user: unknown query fields are refused', async () => {
    for (const q of [`?userId=${bob.id}`, `?actor=${bob.id}`, `?targetId=${bob.id}`]) {
      const res = await t.app.inject({ method: 'GET', url: `/api/account/events${q}`, headers: alice.auth });
      expect(res.statusCode, q).toBe(400);
      expect(res.json().code).toBe('VALIDATION_FAILED');
    }
  });

  it("pages with limit and cursor; a crafted cursor only moves within the caller's own events", async () => {
    const all = await eventsOf(alice, '?limit=100');
    const first = await eventsOf(alice, '?limit=1');
    expect(first.items).toHaveLength(1);
    expect(first.nextCursor).not.toBeNull();
    const second = await eventsOf(alice, `?limit=1&cursor=${first.nextCursor ?? ''}`);
    expect(second.items[0]?.id).toBe(all.items[1]?.id);

    // A cursor pointing past Bob's newest event still yields Alice's events only.
    const bobs = await ownSeqs(bob.id);
    const crafted = encodeCursor([Math.max(...bobs) + 1]);
    const page = await eventsOf(alice, `?limit=100&cursor=${crafted}`);
    expect(page.items.some((e) => bobs.has(e.id))).toBe(false);

    const bad = await t.app.inject({
      method: 'GET',
      url: '/api/account/events?cursor=bm90LWEtY3Vyc29y',
      headers: alice.auth,
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().code).toBe('INVALID_CURSOR');
  });

  it('needs a signed-in user', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/account/events' });
    expect(res.statusCode).toBe(401);
  });
});
