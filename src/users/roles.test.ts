/**
 * Roles and permissions from the admin, as an attacker probes them: who may reach the routes,
 * hostile bodies, escalation, the built-in roles, the last account holding user:manage on every
 * path, deleting a role in use, and a role change reaching existing tokens at once, on this node
 * and on a second one (shared PostgreSQL + Redis when TEST_DATABASE_URL/TEST_REDIS_URL are set).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildTestApp, type TestApp } from '../../test/helpers/app.js';
import { createUser, type TestUser } from '../../test/helpers/factories.js';
import { secondNode } from '../../test/helpers/tokens.js';
import { giveRoles, makeRole, permissionsOf } from '../../test/support/users/roles.js';

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';
const call = (t: TestApp, method: Method, url: string, who?: TestUser, payload?: unknown) =>
  t.app.inject({
    method,
    url,
    ...(who ? { headers: who.auth } : {}),
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });

describe('who may manage roles', () => {
  let t: TestApp;
  let admin: TestUser;
  let editor: TestUser;
  let user: TestUser;
  beforeAll(async () => {
    t = await buildTestApp();
    admin = await createUser(t.app, { role: 'admin' });
    editor = await createUser(t.app, { role: 'editor' });
    user = await createUser(t.app);
    await makeRole(t.app, 'target-role', ['portfolio:read']);
  });
  afterAll(async () => t.close());

  const routes: [Method, string, unknown?][] = [
    ['GET', '/api/admin/permissions'],
    ['GET', '/api/admin/roles'],
    ['GET', '/api/admin/roles/target-role'],
    ['POST', '/api/admin/roles', { name: 'sneaky', description: 'x', permissions: ['user:manage'] }],
    ['PATCH', '/api/admin/roles/target-role', { permissions: ['user:manage'] }],
    ['DELETE', '/api/admin/roles/target-role'],
  ];

  it('anonymous → 401, a user or an editor → 403 on every route; nothing changed', async () => {
    for (const [method, url, body] of routes) {
      expect((await call(t, method, url, undefined, body)).statusCode, `${method} ${url}`).toBe(401);
      for (const who of [user, editor]) {
        const res = await call(t, method, url, who, body);
        expect(res.statusCode, `${method} ${url}`).toBe(403);
        expect(res.json().code).toBe('FORBIDDEN');
      }
    }
    // A user cannot give themselves a role either.
    const self = await call(t, 'PATCH', `/api/admin/users/${user.id}`, user, { roles: ['admin'] });
    expect(self.statusCode).toBe(403);
    const role = await call(t, 'GET', '/api/admin/roles/target-role', admin);
    expect(role.json()).toMatchObject({ name: 'target-role', permissions: ['portfolio:read'], userCount: 0 });
    expect((await call(t, 'GET', '/api/admin/roles/sneaky', admin)).statusCode).toBe(404);
  });

  it('an admin reads the catalogue (each with a description) and the roles', async () => {
    const perms = await call(t, 'GET', '/api/admin/permissions', admin);
    expect(perms.statusCode).toBe(200);
    const items = perms.json<{ items: { name: string; description: string }[] }>().items;
    expect(items.map((p) => p.name)).toEqual(expect.arrayContaining(['user:manage', 'content:write_any']));
    for (const p of items) expect(p.description.length).toBeGreaterThan(0);
    const roles = await call(t, 'GET', '/api/admin/roles', admin);
    const list = roles.json<{ items: { name: string; builtIn: boolean; userCount: number }[] }>().items;
    expect(list.slice(0, 3).map((r) => r.name)).toEqual(['admin', 'editor', 'user']);
    expect(list.find((r) => r.name === 'admin')?.userCount).toBeGreaterThanOrEqual(1);
  });

  it('every change needs a recent sign-in (step-up), reads do not', async () => {
    const fresh = await createUser(t.app, { role: 'admin' });
    t.clock.advance((t.config.REAUTH_MAX_AGE + 1) * 1000);
    try {
      expect((await call(t, 'GET', '/api/admin/roles', fresh)).statusCode).toBe(200);
      for (const [method, url, body] of routes.filter(([m]) => m !== 'GET')) {
        const res = await call(t, method, url, fresh, body);
        expect(res.json().code, `${method} ${url}`).toBe('REAUTH_REQUIRED');
      }
      const grant = await call(t, 'PATCH', `/api/admin/users/${user.id}`, fresh, { roles: ['editor'] });
      expect(grant.json().code).toBe('REAUTH_REQUIRED');
    } finally {
      t.clock.advance(-(t.config.REAUTH_MAX_AGE + 1) * 1000);
    }
  });

  it('each change is audited in its own transaction', async () => {
    const created = await call(t, 'POST', '/api/admin/roles', admin, {
      name: 'audited',
      description: 'Audited role',
      permissions: ['portfolio:read'],
    });
    expect(created.statusCode).toBe(201);
    expect(
      (
        await call(t, 'PATCH', '/api/admin/roles/audited', admin, {
          permissions: ['portfolio:read', 'portfolio:write'],
        })
      ).statusCode,
    ).toBe(200);
    const holder = await createUser(t.app);
    expect((await call(t, 'PATCH', `/api/admin/users/${holder.id}`, admin, { roles: ['audited'] })).statusCode).toBe(
      200,
    );
    expect((await call(t, 'DELETE', '/api/admin/roles/audited?reassignTo=user', admin)).statusCode).toBe(204);
    const rows = await t.deps.db.query<{ action: string; target_id: string }>(
      `select action, target_id from audit_inbox where action in ('role.created', 'role.updated', 'role.deleted', 'user.access.changed')
       union all select action, target_id from audit_events where action in ('role.created', 'role.updated', 'role.deleted', 'user.access.changed')`,
    );
    const seen = rows.map((r) => `${r.action} ${r.target_id}`);
    expect(seen).toEqual(
      expect.arrayContaining([
        'role.created audited',
        'role.updated audited',
        'role.deleted audited',
        `user.access.changed ${holder.id}`,
      ]),
    );
  });
});

describe('hostile bodies and escalation', () => {
  let t: TestApp;
  let admin: TestUser;
  let manager: TestUser;
  let victim: TestUser;
  beforeAll(async () => {
    t = await buildTestApp();
    admin = await createUser(t.app, { role: 'admin' });
    // Manages users, but holds neither security:manage nor audit:read.
    await makeRole(t.app, 'people', ['user:manage', 'portfolio:read', 'portfolio:write']);
    manager = await createUser(t.app);
    await giveRoles(t.app, manager.id, ['people']);
    victim = await createUser(t.app);
  });
  afterAll(async () => t.close());

  it.each([
    ['unknown field', { name: 'r1', description: 'd', permissions: [], isAdmin: true }, 'VALIDATION_FAILED'],
    ['wrong type', { name: 'r1', description: 'd', permissions: 'user:manage' }, 'VALIDATION_FAILED'],
    ['unknown permission', { name: 'r1', description: 'd', permissions: ['root:everything'] }, 'UNKNOWN_PERMISSION'],
    ['malformed permission', { name: 'r1', description: 'd', permissions: ['USER:MANAGE'] }, 'VALIDATION_FAILED'],
    [
      '10,000 permissions',
      {
        name: 'r1',
        description: 'd',
        permissions: Array.from({ length: 10_000 }, (_, i) => `p:x${'a'.repeat(i % 20)}`),
      },
      'VALIDATION_FAILED',
    ],
    [
      'a permission twice',
      { name: 'r1', description: 'd', permissions: ['portfolio:read', 'portfolio:read'] },
      'VALIDATION_FAILED',
    ],
    ['a name that is not a slug', { name: 'Admin', description: 'd', permissions: [] }, 'VALIDATION_FAILED'],
    ['a name with spaces', { name: 'my role', description: 'd', permissions: [] }, 'VALIDATION_FAILED'],
    [
      'languages with a non-content permission',
      { name: 'r1', description: 'd', permissions: ['user:manage'], languages: ['es'] },
      'LANGUAGES_CONTENT_ONLY',
    ],
    [
      'a malformed language',
      { name: 'r1', description: 'd', permissions: [], languages: ['spanish!'] },
      'VALIDATION_FAILED',
    ],
  ])('POST /api/admin/roles with %s → 400 %s', async (_what, body, code) => {
    const res = await call(t, 'POST', '/api/admin/roles', admin, body);
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe(code);
    expect((await call(t, 'GET', '/api/admin/roles/r1', admin)).statusCode).toBe(404);
  });

  it('a built-in name, in any case, is not a new role', async () => {
    expect(
      (await call(t, 'POST', '/api/admin/roles', admin, { name: 'admin', description: 'd', permissions: [] })).json()
        .code,
    ).toBe('ROLE_EXISTS');
    expect(
      (await call(t, 'POST', '/api/admin/roles', admin, { name: 'ADMIN', description: 'd', permissions: [] }))
        .statusCode,
    ).toBe(400);
  });

  it.each([
    ['duplicate roles', { roles: ['editor', 'editor'] }, 'VALIDATION_FAILED'],
    ['a role of another case', { roles: ['Admin'] }, 'VALIDATION_FAILED'],
    ['an unknown role', { roles: ['superuser'] }, 'UNKNOWN_ROLE'],
    ['no role at all', { roles: [] }, 'VALIDATION_FAILED'],
    ['role and roles together', { role: 'user', roles: ['editor'] }, 'VALIDATION_FAILED'],
    ['an unknown field', { roles: ['editor'], permissions: ['user:manage'] }, 'VALIDATION_FAILED'],
    ['10,000 roles', { roles: Array.from({ length: 10_000 }, (_, i) => `r${i}`) }, 'VALIDATION_FAILED'],
  ])('PATCH /api/admin/users/:id with %s → 400 %s, roles unchanged', async (_what, body, code) => {
    const res = await call(t, 'PATCH', `/api/admin/users/${victim.id}`, admin, body);
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe(code);
    expect((await call(t, 'GET', `/api/admin/users/${victim.id}`, admin)).json().roles).toEqual(['user']);
  });

  it('the service refuses duplicate and wrong-case role names too (the one check, not only the schema)', async () => {
    await expect(t.app.users.update(victim.id, { roles: ['editor', 'editor'] })).rejects.toMatchObject({
      code: 'DUPLICATE_ROLE',
    });
    await expect(t.app.users.update(victim.id, { roles: ['Editor'] })).rejects.toMatchObject({ code: 'UNKNOWN_ROLE' });
  });

  it('no escalation: a manager cannot create, widen, grant or hand out through reassignment what they do not hold', async () => {
    const create = await call(t, 'POST', '/api/admin/roles', manager, {
      name: 'sec',
      description: 'd',
      permissions: ['security:manage'],
    });
    expect(create.statusCode).toBe(403);
    expect(create.json().code).toBe('ROLE_ESCALATION');
    const widen = await call(t, 'PATCH', '/api/admin/roles/people', manager, {
      permissions: ['user:manage', 'portfolio:read', 'portfolio:write', 'audit:read'],
    });
    expect(widen.json().code).toBe('ROLE_ESCALATION');
    for (const roles of [['admin'], ['user', 'admin']]) {
      const grant = await call(t, 'PATCH', `/api/admin/users/${victim.id}`, manager, { roles });
      expect(grant.statusCode).toBe(403);
      expect(grant.json().code).toBe('ROLE_ESCALATION');
    }
    expect((await call(t, 'PATCH', `/api/admin/users/${victim.id}`, manager, { role: 'admin' })).json().code).toBe(
      'ROLE_ESCALATION',
    );
    const make = await call(t, 'POST', '/api/admin/users', manager, {
      email: 'esc@example.test',
      name: 'E',
      password: 'Violet-9f8e7d6c5b-Harbor-Lantern',
      role: 'admin',
    });
    expect(make.json().code).toBe('ROLE_ESCALATION');
    // Nor may they take a role they do not fully hold away from someone (demoting an admin).
    const demote = await call(t, 'PATCH', `/api/admin/users/${admin.id}`, manager, { roles: ['user'] });
    expect(demote.json().code).toBe('ROLE_ESCALATION');
    await makeRole(t.app, 'auditors', ['audit:read']);
    const drop = await call(t, 'DELETE', '/api/admin/roles/people?reassignTo=auditors', manager);
    expect(drop.json().code).toBe('ROLE_ESCALATION');
    expect((await permissionsOf(t.app, victim)).sort()).toEqual(['portfolio:read', 'portfolio:write']);
    // What they do hold, they may grant.
    expect(
      (await call(t, 'PATCH', `/api/admin/users/${victim.id}`, manager, { roles: ['user', 'people'] })).statusCode,
    ).toBe(200);
  });

  it('built-in roles keep their defining permissions and cannot be deleted or limited', async () => {
    const strip = await call(t, 'PATCH', '/api/admin/roles/editor', admin, {
      permissions: ['portfolio:read', 'portfolio:write'],
    });
    expect(strip.statusCode).toBe(409);
    expect(strip.json().code).toBe('BUILT_IN_ROLE');
    expect(
      (await call(t, 'PATCH', '/api/admin/roles/admin', admin, { permissions: ['user:manage'] })).json().code,
    ).toBe('BUILT_IN_ROLE');
    expect((await call(t, 'PATCH', '/api/admin/roles/user', admin, { languages: ['es'] })).json().code).toBe(
      'BUILT_IN_ROLE',
    );
    for (const name of ['admin', 'editor', 'user']) {
      const del = await call(t, 'DELETE', `/api/admin/roles/${name}?reassignTo=user`, admin);
      expect(del.statusCode).toBe(409);
      expect(del.json().code).toBe('BUILT_IN_ROLE');
    }
    // Adding to a built-in role is allowed (and taking the addition away again).
    const add = await call(t, 'PATCH', '/api/admin/roles/editor', admin, {
      permissions: ['portfolio:read', 'portfolio:write', 'content:read_any', 'content:write_any', 'audit:read'],
    });
    expect(add.statusCode).toBe(200);
    expect(
      (
        await call(t, 'PATCH', '/api/admin/roles/editor', admin, {
          permissions: ['portfolio:read', 'portfolio:write', 'content:read_any', 'content:write_any'],
        })
      ).statusCode,
    ).toBe(200);
  });
});

describe('the last account holding user:manage keeps it, on every path', () => {
  let t: TestApp;
  let last: TestUser;
  let other: TestUser;
  beforeAll(async () => {
    t = await buildTestApp();
    // The only account that manages users holds user:manage through a custom role alone.
    await makeRole(t.app, 'managers', ['user:manage']);
    last = await createUser(t.app);
    await giveRoles(t.app, last.id, ['user', 'managers']);
    other = await createUser(t.app);
  });
  afterAll(async () => t.close());

  const stillManager = async () => expect(await permissionsOf(t.app, last)).toContain('user:manage');

  it('role edit: taking user:manage from the role', async () => {
    const res = await call(t, 'PATCH', '/api/admin/roles/managers', last, { permissions: ['portfolio:read'] });
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe('LAST_USER_MANAGER');
    // Limiting it to languages would end it too (and is refused for a non-content permission).
    expect((await call(t, 'PATCH', '/api/admin/roles/managers', last, { languages: ['es'] })).statusCode).toBe(400);
    await stillManager();
  });

  it('role delete: reassigning its holders to a role without it', async () => {
    const res = await call(t, 'DELETE', '/api/admin/roles/managers?reassignTo=user', last);
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe('LAST_USER_MANAGER');
    await stillManager();
  });

  it('role change: over the API (own account) and from the operator (no actor)', async () => {
    const own = await call(t, 'PATCH', `/api/admin/users/${last.id}`, last, { roles: ['user'] });
    expect(own.statusCode).toBe(409);
    await expect(t.app.users.update(last.id, { roles: ['user'] })).rejects.toMatchObject({ code: 'LAST_USER_MANAGER' });
    await expect(t.app.users.update(last.id, { role: 'editor' })).rejects.toMatchObject({ code: 'LAST_USER_MANAGER' });
    await stillManager();
  });

  it('disabling: over the API (own account) and from the operator', async () => {
    expect((await call(t, 'PATCH', `/api/admin/users/${last.id}`, last, { disabled: true })).statusCode).toBe(409);
    await expect(t.app.users.update(last.id, { disabled: true })).rejects.toMatchObject({ code: 'LAST_USER_MANAGER' });
    await stillManager();
  });

  it('with a second holder, the first may go; then the second is the last', async () => {
    expect(
      (await call(t, 'PATCH', `/api/admin/users/${other.id}`, last, { roles: ['user', 'managers'] })).statusCode,
    ).toBe(200);
    expect((await call(t, 'PATCH', `/api/admin/users/${last.id}`, other, { roles: ['user'] })).statusCode).toBe(200);
    expect(await permissionsOf(t.app, last)).not.toContain('user:manage');
    await expect(t.app.users.update(other.id, { disabled: true })).rejects.toMatchObject({ code: 'LAST_USER_MANAGER' });
  });

  it('two concurrent demotions of the two holders cannot both pass', async () => {
    const a = await createUser(t.app);
    await giveRoles(t.app, a.id, ['user', 'managers']);
    // other and a hold user:manage; each is demoted at the same time.
    const results = await Promise.allSettled([
      t.app.users.update(other.id, { roles: ['user'] }),
      t.app.users.update(a.id, { roles: ['user'] }),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(await t.app.users.roles.repo.countHolders('user:manage')).toBe(1);
  });
});

describe('deleting a role in use', () => {
  let t: TestApp;
  let admin: TestUser;
  beforeAll(async () => {
    t = await buildTestApp();
    admin = await createUser(t.app, { role: 'admin' });
  });
  afterAll(async () => t.close());

  it('without reassignTo → 409 ROLE_IN_USE; with it, holders get the new role and their tokens see it at once', async () => {
    await makeRole(t.app, 'reviewers', ['portfolio:read', 'content:read_any']);
    const holder = await createUser(t.app);
    await giveRoles(t.app, holder.id, ['reviewers']);
    const refused = await call(t, 'DELETE', '/api/admin/roles/reviewers', admin);
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({ code: 'ROLE_IN_USE', userCount: 1 });
    expect((await call(t, 'DELETE', '/api/admin/roles/reviewers?reassignTo=nobody', admin)).json().code).toBe(
      'UNKNOWN_ROLE',
    );
    expect((await call(t, 'DELETE', '/api/admin/roles/reviewers?reassignTo=reviewers', admin)).json().code).toBe(
      'INVALID_REASSIGNMENT',
    );
    expect((await call(t, 'DELETE', '/api/admin/roles/reviewers?reassignTo=Editor', admin)).json().code).toBe(
      'UNKNOWN_ROLE',
    );
    expect(await permissionsOf(t.app, holder)).toContain('content:read_any');

    const ok = await call(t, 'DELETE', '/api/admin/roles/reviewers?reassignTo=editor', admin);
    expect(ok.statusCode).toBe(204);
    expect((await call(t, 'GET', `/api/admin/users/${holder.id}`, admin)).json().roles).toEqual(['editor']);
    expect(await permissionsOf(t.app, holder)).toContain('content:write_any');
    expect((await call(t, 'GET', '/api/admin/roles/reviewers', admin)).statusCode).toBe(404);
  });

  it('a role nobody holds is deleted without reassignTo; a missing one is 404', async () => {
    await makeRole(t.app, 'unused', ['portfolio:read']);
    expect((await call(t, 'DELETE', '/api/admin/roles/unused', admin)).statusCode).toBe(204);
    expect((await call(t, 'DELETE', '/api/admin/roles/unused', admin)).json().code).toBe('ROLE_NOT_FOUND');
  });
});

describe('a change reaches existing tokens at once', () => {
  let t: TestApp;
  let b: Awaited<ReturnType<typeof secondNode>>;
  let admin: TestUser;
  beforeAll(async () => {
    t = await buildTestApp();
    b = await secondNode(t.deps);
    admin = await createUser(t.app, { role: 'admin' });
  });
  afterAll(async () => {
    await b.close();
    await t.close();
  });

  const mePermissionsOn = async (app: TestApp['app'], who: TestUser) =>
    (await app.inject({ method: 'GET', url: '/api/auth/me', headers: who.auth })).json<{
      user: { permissions: string[] };
    }>().user.permissions;

  /** Polls node B until `check` holds for the token's permissions; returns how long that took. */
  async function seenOnB(who: TestUser, check: (permissions: string[]) => boolean): Promise<number> {
    const started = Date.now();
    for (;;) {
      if (check(await mePermissionsOn(b.app, who))) return Date.now() - started;
      if (Date.now() - started > 5_000) throw new Error('node B still answers with the old permissions after 5 s');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it('granting roles: the same token can do more on this node at once', async () => {
    const u = await createUser(t.app);
    expect(await mePermissionsOn(t.app, u)).not.toContain('content:write_any');
    expect((await call(t, 'PATCH', `/api/admin/users/${u.id}`, admin, { roles: ['user', 'editor'] })).statusCode).toBe(
      200,
    );
    expect(await mePermissionsOn(t.app, u)).toContain('content:write_any');
    const res = await call(t, 'GET', `/api/admin/users/${u.id}`, admin);
    expect(res.json()).toMatchObject({ role: 'editor', roles: ['editor', 'user'] });
  });

  it('editing a role: every holder’s token loses the permission at once', async () => {
    await makeRole(t.app, 'curators', ['portfolio:read', 'content:read_any', 'content:write_any']);
    const holders = [await createUser(t.app), await createUser(t.app)];
    for (const h of holders) await giveRoles(t.app, h.id, ['curators']);
    for (const h of holders) expect(await mePermissionsOn(t.app, h)).toContain('content:write_any');
    expect(
      (await call(t, 'PATCH', '/api/admin/roles/curators', admin, { permissions: ['portfolio:read'] })).statusCode,
    ).toBe(200);
    for (const h of holders) expect(await mePermissionsOn(t.app, h)).toEqual(['portfolio:read']);
  });

  it('a role change on node A is seen on node B within 1 s, though B had cached the user', async () => {
    const u = await createUser(t.app);
    for (let i = 0; i < 3; i++) expect(await mePermissionsOn(b.app, u)).not.toContain('content:write_any');
    expect((await call(t, 'PATCH', `/api/admin/users/${u.id}`, admin, { roles: ['editor'] })).statusCode).toBe(200);
    expect(await seenOnB(u, (p) => p.includes('content:write_any'))).toBeLessThan(1_000);
  });

  it('a permission taken after the cache warmed is refused on the next request: node A at once, node B within 1 s', async () => {
    const owner = await createUser(t.app);
    const draft = await call(t, 'POST', '/api/portfolios', owner, {
      title: 'Draft',
      slug: `draft-${owner.id.slice(-8)}`,
    });
    expect(draft.statusCode).toBe(201);
    const url = `/api/portfolios/${draft.json<{ id: string }>().id}`;
    const editor = await createUser(t.app, { role: 'editor' });
    const readOn = async (node: TestApp['app']) =>
      (await node.inject({ method: 'GET', url, headers: editor.auth })).statusCode;
    // Warm both nodes: the editor reads someone else's draft (content:read_any), and the last read
    // of each node is answered from its local copy of the user (no database read for the token).
    for (const node of [t.app, b.app]) {
      await vi.waitFor(() => expect(node.tokens.revocation.isLive()).toBe(true));
      for (let i = 0; i < 3; i++) expect(await readOn(node)).toBe(200);
      const before = { ...node.tokens.revocation.stats };
      expect(await readOn(node)).toBe(200);
      expect(node.tokens.revocation.stats.dbReads).toBe(before.dbReads);
      expect(node.tokens.revocation.stats.cacheHits).toBeGreaterThan(before.cacheHits);
    }

    expect((await call(t, 'PATCH', `/api/admin/users/${editor.id}`, admin, { roles: ['user'] })).statusCode).toBe(200);

    // Node A: the very next request with the same token, read or write, no longer has it.
    expect(await readOn(t.app)).toBe(404);
    const write = await t.app.inject({ method: 'PATCH', url, headers: editor.auth, payload: { title: 'Defaced' } });
    expect(write.statusCode).toBe(404);
    // Node B: within 1 s, and never again afterwards.
    const started = Date.now();
    while ((await readOn(b.app)) !== 404) {
      if (Date.now() - started > 5_000) throw new Error('node B still lets the demoted editor read after 5 s');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(Date.now() - started).toBeLessThan(1_000);
    for (let i = 0; i < 3; i++) expect(await readOn(b.app)).toBe(404);
    expect((await call(t, 'GET', url, owner)).json()).toMatchObject({ title: 'Draft' });
  });

  it('a role edit on node A is seen on node B within 1 s by every holder', async () => {
    await makeRole(t.app, 'helpers', ['portfolio:read', 'content:read_any']);
    const u = await createUser(t.app);
    await giveRoles(t.app, u.id, ['helpers']);
    for (let i = 0; i < 3; i++) expect(await mePermissionsOn(b.app, u)).toContain('content:read_any');
    expect(
      (await call(t, 'PATCH', '/api/admin/roles/helpers', admin, { permissions: ['portfolio:read'] })).statusCode,
    ).toBe(200);
    expect(await seenOnB(u, (p) => !p.includes('content:read_any'))).toBeLessThan(1_000);
  });
});
