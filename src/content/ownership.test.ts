/**
 * Broken object-level authorization (OWASP API1): user B knows or guesses the ids of user A's
 * portfolio and its children and tries every verb on them. Each attempt must answer 404 with the
 * same body as an id that never existed, so B cannot even learn that A's objects exist; editors
 * (content:write_any) and admins may act on anyone's content; anonymous callers get 401.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../test/helpers/app.js';
import { createPortfolio, createUser, type TestUser } from '../../test/helpers/factories.js';
import { CHILD_SAMPLES, call, createChild } from '../../test/content-helpers.js';

let t: TestApp;
let alice: TestUser;
let bob: TestUser;
let editor: TestUser;
let admin: TestUser;
let alicePortfolio: { id: string; slug: string };
let bobPortfolio: { id: string; slug: string };
/** path → id of one of Alice's children of that kind. */
const aliceChildren = new Map<string, string>();

/** A 404 body without the per-request id, to compare "not yours" with "not there". */
function notFoundShape(body: Record<string, unknown>) {
  const { requestId: _ignored, ...rest } = body;
  return rest;
}

beforeAll(async () => {
  t = await buildTestApp();
  alice = await createUser(t.app);
  bob = await createUser(t.app);
  editor = await createUser(t.app, { role: 'editor' });
  admin = await createUser(t.app, { role: 'admin' });
  alicePortfolio = await createPortfolio(t.app, alice, { title: 'Alice private' });
  bobPortfolio = await createPortfolio(t.app, bob, { title: 'Bob' });
  for (const { path, body } of CHILD_SAMPLES) {
    aliceChildren.set(path, (await createChild(t.app, alice, alicePortfolio.id, path, body)).id);
  }
});
afterAll(async () => {
  await t.close();
});

describe('another user\'s portfolio', () => {
  it('answers 404 to read, patch and delete, identical to a missing id', async () => {
    const missing = notFoundShape((await call(t.app, 'GET', `/api/portfolios/${randomUUID()}`, { as: bob })).json());
    for (const [method, body] of [['GET', undefined], ['PATCH', { title: 'pwned' }], ['DELETE', undefined]] as const) {
      const res = await call(t.app, method, `/api/portfolios/${alicePortfolio.id}`, { as: bob, body });
      expect(res.statusCode, method).toBe(404);
      expect(notFoundShape(res.json()), method).toEqual(missing);
    }
    const still = await call(t.app, 'GET', `/api/portfolios/${alicePortfolio.id}`, { as: alice });
    expect(still.json().title).toBe('Alice private');
  });

  it('is not in the other user\'s list', async () => {
    const res = await call(t.app, 'GET', '/api/portfolios?limit=100', { as: bob });
    const ids = res.json().items.map((p: { id: string }) => p.id);
    expect(ids).toContain(bobPortfolio.id);
    expect(ids).not.toContain(alicePortfolio.id);
  });

  it('cannot have children listed or created in it by the other user', async () => {
    for (const { path, body } of CHILD_SAMPLES) {
      const list = await call(t.app, 'GET', `/api/portfolios/${alicePortfolio.id}/${path}`, { as: bob });
      expect(list.statusCode, path).toBe(404);
      const create = await call(t.app, 'POST', `/api/portfolios/${alicePortfolio.id}/${path}`, { as: bob, body });
      expect(create.statusCode, path).toBe(404);
      expect(create.json().code).toBe('NOT_FOUND');
    }
    const list = await call(t.app, 'GET', `/api/portfolios/${alicePortfolio.id}/projects`, { as: alice });
    expect(list.json().items).toHaveLength(1);
  });

  it('stays hidden even once published and public (management API is owner-only)', async () => {
    const pub = await createPortfolio(t.app, alice, { visibility: 'public', published: true });
    expect((await call(t.app, 'PATCH', `/api/portfolios/${pub.id}`, { as: bob, body: { title: 'x' } })).statusCode).toBe(404);
  });
});

describe.each(CHILD_SAMPLES)('another user\'s $path', ({ path, patch }) => {
  it('answers 404 to read, patch and delete, and is left unchanged', async () => {
    const id = aliceChildren.get(path) ?? '';
    const before = (await call(t.app, 'GET', `/api/${path}/${id}`, { as: alice })).json();
    for (const [method, body] of [['GET', undefined], ['PATCH', patch], ['DELETE', undefined]] as const) {
      const res = await call(t.app, method, `/api/${path}/${id}`, { as: bob, body });
      expect(res.statusCode, `${method} ${path}`).toBe(404);
      expect(res.json().code).toBe('NOT_FOUND');
    }
    expect((await call(t.app, 'GET', `/api/${path}/${id}`, { as: alice })).json()).toEqual(before);
  });

  it('cannot be moved into the attacker\'s portfolio, nor the attacker\'s into the victim\'s', async () => {
    const id = aliceChildren.get(path) ?? '';
    const steal = await call(t.app, 'PATCH', `/api/${path}/${id}`, { as: bob, body: { portfolioId: bobPortfolio.id } });
    expect(steal.statusCode).toBe(404);
    const sample = CHILD_SAMPLES.find((s) => s.path === path);
    const own = await createChild(t.app, bob, bobPortfolio.id, path, sample?.body ?? {});
    const plant = await call(t.app, 'PATCH', `/api/${path}/${own.id}`, { as: bob, body: { portfolioId: alicePortfolio.id } });
    expect(plant.statusCode).toBe(404);
    expect((await call(t.app, 'GET', `/api/${path}/${own.id}`, { as: bob })).json().portfolioId).toBe(bobPortfolio.id);
    expect((await call(t.app, 'GET', `/api/${path}/${id}`, { as: alice })).json().portfolioId).toBe(alicePortfolio.id);
  });
});

describe('editors and admins', () => {
  it.each([
    ['editor', () => editor],
    ['admin', () => admin],
  ] as const)('%s reads, lists and changes anyone\'s content', async (_role, who) => {
    const actor = who();
    const p = await createPortfolio(t.app, alice, { title: 'For staff' });
    expect((await call(t.app, 'GET', `/api/portfolios/${p.id}`, { as: actor })).statusCode).toBe(200);
    const all = await call(t.app, 'GET', '/api/portfolios?limit=100', { as: actor });
    expect(all.json().items.map((x: { id: string }) => x.id)).toEqual(expect.arrayContaining([p.id, bobPortfolio.id]));
    const patched = await call(t.app, 'PATCH', `/api/portfolios/${p.id}`, { as: actor, body: { title: 'Edited by staff' } });
    expect(patched.statusCode).toBe(200);
    expect(patched.json().ownerId).toBe(alice.id);
    const project = await call(t.app, 'POST', `/api/portfolios/${p.id}/projects`, { as: actor, body: { title: 'Staff pick' } });
    expect(project.statusCode).toBe(201);
    const moved = await call(t.app, 'PATCH', `/api/projects/${project.json().id}`, { as: actor, body: { portfolioId: bobPortfolio.id } });
    expect(moved.statusCode).toBe(200);
    expect(moved.json().portfolioId).toBe(bobPortfolio.id);
    expect((await call(t.app, 'DELETE', `/api/projects/${project.json().id}`, { as: actor })).statusCode).toBe(204);
    expect((await call(t.app, 'DELETE', `/api/portfolios/${p.id}`, { as: actor })).statusCode).toBe(204);
  });
});

describe('anonymous callers', () => {
  it('get 401 on every protected route, before validation', async () => {
    const id = alicePortfolio.id;
    const routes: [('GET' | 'POST' | 'PATCH' | 'DELETE'), string][] = [
      ['GET', '/api/portfolios'],
      ['POST', '/api/portfolios'],
      ['GET', `/api/portfolios/${id}`],
      ['PATCH', `/api/portfolios/${id}`],
      ['DELETE', `/api/portfolios/${id}`],
      ['GET', '/api/portfolios/not-a-uuid'],
    ];
    for (const { path } of CHILD_SAMPLES) {
      const childId = aliceChildren.get(path) ?? '';
      routes.push(['GET', `/api/portfolios/${id}/${path}`], ['POST', `/api/portfolios/${id}/${path}`]);
      routes.push(['GET', `/api/${path}/${childId}`], ['PATCH', `/api/${path}/${childId}`], ['DELETE', `/api/${path}/${childId}`]);
    }
    for (const [method, url] of routes) {
      const res = await call(t.app, method, url, { body: method === 'POST' || method === 'PATCH' ? { title: 'x' } : undefined });
      expect(res.statusCode, `${method} ${url}`).toBe(401);
      expect(res.json().code).toBe('UNAUTHORIZED');
    }
  });

  it('get 401 for a forged token', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/portfolios', headers: { authorization: 'Bearer abc.def.ghi' } });
    expect(res.statusCode).toBe(401);
  });
});
