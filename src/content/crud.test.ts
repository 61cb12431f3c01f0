/**
 * The happy paths of the content API: every route of every kind answers with the documented status
 * and shape, so the security tests beside this file test a working API, not a broken one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../test/helpers/app.js';
import { createPortfolio, createUser, type TestUser } from '../../test/helpers/factories.js';
import { CHILD_SAMPLES, call, createChild } from '../../test/content-helpers.js';
import { enableLanguages } from '../../test/support/languages/helpers.js';

let t: TestApp;
let owner: TestUser;
let editor: TestUser;

beforeAll(async () => {
  t = await buildTestApp();
  owner = await createUser(t.app);
  await enableLanguages(t.app, 'pt-BR');
  editor = await createUser(t.app, { role: 'editor' });
});
afterAll(async () => {
  await t.close();
});

describe('portfolios', () => {
  it('creates, reads, lists, patches and deletes', async () => {
    const created = await createPortfolio(t.app, owner, { title: 'Mine', summary: 'Hi', defaultLanguage: 'pt-BR' });
    expect(created).toMatchObject({
      title: 'Mine',
      summary: 'Hi',
      ownerId: owner.id,
      visibility: 'private',
      published: false,
      isDefault: false,
      defaultLanguage: 'pt-BR',
      translations: {},
    });
    expect(new Date(created['createdAt'] as string).toISOString()).toBe(created['createdAt']);

    const got = await call(t.app, 'GET', `/api/portfolios/${created.id}`, { as: owner });
    expect(got.statusCode).toBe(200);
    expect(got.json()).toEqual(created);

    const list = await call(t.app, 'GET', '/api/portfolios', { as: owner });
    expect(list.json().items.map((p: { id: string }) => p.id)).toContain(created.id);

    const patched = await call(t.app, 'PATCH', `/api/portfolios/${created.id}`, {
      as: owner,
      body: { title: 'Renamed', visibility: 'public', published: true, translations: { es: { title: 'Renombrado' } } },
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({
      title: 'Renamed',
      visibility: 'public',
      published: true,
      translations: { es: { title: 'Renombrado' } },
    });

    const del = await call(t.app, 'DELETE', `/api/portfolios/${created.id}`, { as: owner });
    expect(del.statusCode).toBe(204);
    expect(del.body).toBe('');
    expect((await call(t.app, 'GET', `/api/portfolios/${created.id}`, { as: owner })).statusCode).toBe(404);
  });

  it('answers 409 SLUG_TAKEN for a slug in use, on create and on rename', async () => {
    const first = await createPortfolio(t.app, owner);
    const other = await createUser(t.app);
    const res = await call(t.app, 'POST', '/api/portfolios', { as: other, body: { title: 'X', slug: first.slug } });
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe('SLUG_TAKEN');
    const second = await createPortfolio(t.app, owner);
    const patch = await call(t.app, 'PATCH', `/api/portfolios/${second.id}`, { as: owner, body: { slug: first.slug } });
    expect(patch.statusCode).toBe(409);
    expect(patch.json().code).toBe('SLUG_TAKEN');
  });

  it('reserves the slug "default", which the public default route would shadow', async () => {
    const res = await call(t.app, 'POST', '/api/portfolios', { as: owner, body: { title: 'X', slug: 'default' } });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('SLUG_RESERVED');
  });

  it('keeps one site default: setting it on one clears it on the other', async () => {
    const a = await createPortfolio(t.app, owner);
    const b = await createPortfolio(t.app, owner);
    expect(
      (await call(t.app, 'PATCH', `/api/portfolios/${a.id}`, { as: editor, body: { isDefault: true } })).json()
        .isDefault,
    ).toBe(true);
    expect(
      (await call(t.app, 'PATCH', `/api/portfolios/${b.id}`, { as: editor, body: { isDefault: true } })).json()
        .isDefault,
    ).toBe(true);
    expect((await call(t.app, 'GET', `/api/portfolios/${a.id}`, { as: owner })).json().isDefault).toBe(false);
    const created = await call(t.app, 'POST', '/api/portfolios', {
      as: editor,
      body: { title: 'C', slug: 'site-c', isDefault: true },
    });
    expect(created.statusCode).toBe(201);
    expect((await call(t.app, 'GET', `/api/portfolios/${b.id}`, { as: owner })).json().isDefault).toBe(false);
  });

  it('concurrent default switches all succeed and leave exactly one default', async () => {
    const ps = await Promise.all([1, 2, 3, 4, 5].map(() => createPortfolio(t.app, owner)));
    const results = await Promise.all(
      [...ps, ...ps].map((p) =>
        call(t.app, 'PATCH', `/api/portfolios/${p.id}`, { as: editor, body: { isDefault: true } }),
      ),
    );
    expect(results.map((r) => r.statusCode)).toEqual(results.map(() => 200));
    const all = (await call(t.app, 'GET', '/api/portfolios?limit=100', { as: editor })).json();
    expect(all.items.filter((p: { isDefault: boolean }) => p.isDefault)).toHaveLength(1);
  });

  it('lets only content:write_any set isDefault (403 for the owner)', async () => {
    const mine = await createPortfolio(t.app, owner);
    const patch = await call(t.app, 'PATCH', `/api/portfolios/${mine.id}`, { as: owner, body: { isDefault: true } });
    expect(patch.statusCode).toBe(403);
    expect(patch.json().code).toBe('FORBIDDEN');
    const post = await call(t.app, 'POST', '/api/portfolios', {
      as: owner,
      body: { title: 'X', slug: 'wants-default', isDefault: true },
    });
    expect(post.statusCode).toBe(403);
    expect((await call(t.app, 'GET', `/api/portfolios/${mine.id}`, { as: owner })).json().isDefault).toBe(false);
  });

  it('deleting a portfolio deletes its children', async () => {
    const p = await createPortfolio(t.app, owner);
    const project = await createChild(t.app, owner, p.id, 'projects', { title: 'Gone soon' });
    await call(t.app, 'DELETE', `/api/portfolios/${p.id}`, { as: owner });
    expect((await call(t.app, 'GET', `/api/projects/${project.id}`, { as: owner })).statusCode).toBe(404);
  });
});

describe.each(CHILD_SAMPLES)('$path', ({ path, body, patch }) => {
  it('creates (201), reads, lists, patches and deletes (204)', async () => {
    const p = await createPortfolio(t.app, owner);
    const created = await createChild(t.app, owner, p.id, path, body);
    expect(created).toMatchObject({ ...body, portfolioId: p.id, position: 0, translations: {} });
    const second = await createChild(t.app, owner, p.id, path, body);
    expect(second['position']).toBe(1);

    const got = await call(t.app, 'GET', `/api/${path}/${created.id}`, { as: owner });
    expect(got.statusCode).toBe(200);
    expect(got.json()).toEqual(created);

    const list = await call(t.app, 'GET', `/api/portfolios/${p.id}/${path}`, { as: owner });
    expect(list.statusCode).toBe(200);
    expect(list.json()).toEqual({ items: [created, second], nextCursor: null });

    const patched = await call(t.app, 'PATCH', `/api/${path}/${created.id}`, { as: owner, body: patch });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject(patch);

    const del = await call(t.app, 'DELETE', `/api/${path}/${created.id}`, { as: owner });
    expect(del.statusCode).toBe(204);
    expect((await call(t.app, 'GET', `/api/${path}/${created.id}`, { as: owner })).statusCode).toBe(404);
    expect((await call(t.app, 'DELETE', `/api/${path}/${created.id}`, { as: owner })).statusCode).toBe(404);
  });
});

describe('projects fields', () => {
  it('round-trips date, skills, urls and clears a nullable field with null', async () => {
    const p = await createPortfolio(t.app, owner);
    const project = await createChild(t.app, owner, p.id, 'projects', {
      title: 'Site',
      description: 'A site',
      url: 'https://example.com/site?x=1',
      repositoryUrl: 'http://git.example.com/me/site',
      date: '2024-02-29',
      skills: ['ts', 'sql'],
      position: 7,
    });
    expect(project).toMatchObject({
      date: '2024-02-29',
      skills: ['ts', 'sql'],
      position: 7,
      url: 'https://example.com/site?x=1',
    });
    const cleared = await call(t.app, 'PATCH', `/api/projects/${project.id}`, {
      as: owner,
      body: { url: null, date: null },
    });
    expect(cleared.json()).toMatchObject({ url: null, date: null, repositoryUrl: 'http://git.example.com/me/site' });
  });

  it("moves a project between two of the owner's portfolios", async () => {
    const a = await createPortfolio(t.app, owner);
    const b = await createPortfolio(t.app, owner);
    const project = await createChild(t.app, owner, a.id, 'projects', { title: 'Mover' });
    const moved = await call(t.app, 'PATCH', `/api/projects/${project.id}`, { as: owner, body: { portfolioId: b.id } });
    expect(moved.statusCode).toBe(200);
    expect(moved.json().portfolioId).toBe(b.id);
    expect((await call(t.app, 'GET', `/api/portfolios/${a.id}/projects`, { as: owner })).json().items).toEqual([]);
  });
});

describe('openapi', () => {
  it('documents every content route with tags and security', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/openapi.json' });
    const doc = res.json<{ paths: Record<string, Record<string, { tags?: string[]; security?: unknown[] }>> }>();
    const paths = Object.keys(doc.paths);
    for (const p of [
      '/api/portfolios',
      '/api/portfolios/{id}',
      '/api/public/portfolios/{slug}',
      '/api/public/portfolios/default',
    ]) {
      expect(paths).toContain(p);
    }
    for (const { path } of CHILD_SAMPLES) {
      expect(paths).toContain(`/api/portfolios/{id}/${path}`);
      expect(paths).toContain(`/api/${path}/{id}`);
      expect(doc.paths[`/api/${path}/{id}`]?.['patch']?.security).toEqual([{ bearerAuth: [] }]);
    }
    expect(doc.paths['/api/portfolios']?.['get']?.tags).toEqual(['content']);
    expect(doc.paths['/api/public/portfolios/{slug}']?.['get']?.tags).toEqual(['public']);
    expect(doc.paths['/api/public/portfolios/{slug}']?.['get']?.security).toBeUndefined();
  });
});
