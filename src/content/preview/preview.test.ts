/**
 * Preview links, attacked: a link shows a draft, private portfolio as the public read would if it
 * were published, with no-store and noindex, and never enters (or comes from) the public-read
 * cache. Its token dies on revoke, on expiry and with the portfolio; a reused, expired, unknown or
 * malformed token is the same 404. Another user's portfolio is 404, a translator may not make
 * links, anonymous callers 401; expiresIn is bounded; the token is stored only as a hash.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createChild } from '../../../test/content-helpers.js';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.js';
import { createPortfolio, type TestUser } from '../../../test/helpers/factories.js';
import { contentCast } from '../../../test/support/users/roles.js';
import { newId } from '../../platform/ids.js';

let t: TestApp;
let owner: TestUser;
let other: TestUser;
let editor: TestUser;
let translator: TestUser;

beforeAll(async () => {
  t = await buildTestApp();
  ({ owner, other, editor, translator } = await contentCast(t.app));
});
afterAll(async () => t.close());

async function draft() {
  const p = await createPortfolio(t.app, owner, { title: 'Secret draft', translations: { es: { title: 'Borrador' } } });
  await createChild(t.app, owner, p.id, 'projects', { title: 'Unreleased' });
  return p;
}

async function makeLink(portfolioId: string, expiresIn = 3600, as: TestUser = owner) {
  const res = await call(t.app, 'POST', `/api/portfolios/${portfolioId}/preview-links`, { as, body: { expiresIn } });
  expect(res.statusCode, res.body).toBe(201);
  const body = res.json<{ id: string; url: string; expiresAt: string }>();
  return { ...body, path: new URL(body.url).pathname, token: body.url.split('/').pop() as string };
}

const open = (path: string, headers: Record<string, string> = {}) =>
  t.app.inject({ method: 'GET', url: path, headers });

async function expectDead(path: string) {
  const res = await open(path);
  expect(res.statusCode).toBe(404);
  const unknown = await open(`/api/public/preview/${'A'.repeat(43)}`);
  const { requestId: _a, ...body } = res.json();
  const { requestId: _b, ...unknownBody } = unknown.json();
  expect(body).toEqual(unknownBody);
}

describe('a preview link', () => {
  it('shows the draft as the public read would, no-store and noindex, without touching the public cache', async () => {
    const p = await draft();
    expect((await open(`/api/public/portfolios/${p.slug}`)).statusCode).toBe(404);
    const link = await makeLink(p.id);
    expect(link.url).toMatch(/\/api\/public\/preview\/[A-Za-z0-9_-]{43}$/);
    expect(Date.parse(link.expiresAt) - t.clock.now().getTime()).toBe(3600_000);
    const stats = { ...t.app.content.public.cache.stats };
    for (let i = 0; i < 2; i++) {
      const res = await open(link.path);
      expect(res.statusCode).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers['x-robots-tag']).toBe('noindex');
      expect(res.headers['etag']).toBeUndefined();
      expect(res.json()).toMatchObject({
        id: p.id,
        slug: p.slug,
        title: 'Secret draft',
        projects: [{ title: 'Unreleased' }],
      });
    }
    expect((await open(`${link.path}?lang=es`)).json().title).toBe('Borrador');
    expect(t.app.content.public.cache.stats).toEqual(stats);
    // Still a draft for everyone else.
    expect((await open(`/api/public/portfolios/${p.slug}`)).statusCode).toBe(404);
  });

  it('is stored only as a SHA-256 hash, listed without its token, and audited', async () => {
    const p = await draft();
    const link = await makeLink(p.id);
    const rows = await t.deps.db.query<Record<string, unknown>>(`select * from preview_links where id = $1`, [link.id]);
    expect(JSON.stringify(rows)).not.toContain(link.token);
    expect(rows[0]?.['token_hash']).toBe(createHash('sha256').update(link.token).digest('hex'));
    const list = await call(t.app, 'GET', `/api/portfolios/${p.id}/preview-links`, { as: owner });
    expect(list.statusCode).toBe(200);
    expect(list.json().items).toEqual([
      { id: link.id, createdAt: expect.any(String), expiresAt: link.expiresAt, createdBy: owner.id },
    ]);
    expect(list.body).not.toContain(link.token);
    await t.app.audit.flush();
    expect(await t.app.audit.repo.query({ action: 'content.preview.created', targetId: link.id }, 5)).toHaveLength(1);
  });

  it('dies when revoked: reusing the token is the same 404 as an unknown one', async () => {
    const p = await draft();
    const link = await makeLink(p.id);
    expect((await open(link.path)).statusCode).toBe(200);
    const del = await call(t.app, 'DELETE', `/api/portfolios/${p.id}/preview-links/${link.id}`, { as: owner });
    expect(del.statusCode).toBe(204);
    await expectDead(link.path);
    expect(
      (await call(t.app, 'DELETE', `/api/portfolios/${p.id}/preview-links/${link.id}`, { as: owner })).statusCode,
    ).toBe(404);
    expect((await call(t.app, 'GET', `/api/portfolios/${p.id}/preview-links`, { as: owner })).json().items).toEqual([]);
    await t.app.audit.flush();
    expect(await t.app.audit.repo.query({ action: 'content.preview.revoked', targetId: link.id }, 5)).toHaveLength(1);
  });

  it('dies when it expires, to the second', async () => {
    const p = await draft();
    const link = await makeLink(p.id, 120);
    t.clock.advance(119_000);
    expect((await open(link.path)).statusCode).toBe(200);
    t.clock.advance(1_000);
    await expectDead(link.path);
    expect((await call(t.app, 'GET', `/api/portfolios/${p.id}/preview-links`, { as: owner })).json().items).toEqual([]);
  });

  it('dies with its portfolio (the rows go too)', async () => {
    const p = await draft();
    const link = await makeLink(p.id);
    expect((await call(t.app, 'DELETE', `/api/portfolios/${p.id}`, { as: owner })).statusCode).toBe(204);
    await expectDead(link.path);
    expect(await t.deps.db.query(`select 1 from preview_links where id = $1`, [link.id])).toEqual([]);
  });

  it('a malformed or guessed token is the same 404', async () => {
    for (const token of ['x', 'A'.repeat(42), 'A'.repeat(44), '..%2F..', 'B'.repeat(200)])
      await expectDead(`/api/public/preview/${token}`);
  });
});

describe('who may manage links', () => {
  it("another user's portfolio is 404 for every route, a missing one too", async () => {
    const p = await draft();
    const link = await makeLink(p.id);
    for (const id of [p.id, newId()]) {
      expect(
        (await call(t.app, 'POST', `/api/portfolios/${id}/preview-links`, { as: other, body: { expiresIn: 60 } }))
          .statusCode,
      ).toBe(404);
      expect((await call(t.app, 'GET', `/api/portfolios/${id}/preview-links`, { as: other })).statusCode).toBe(404);
      expect(
        (await call(t.app, 'DELETE', `/api/portfolios/${id}/preview-links/${link.id}`, { as: other })).statusCode,
      ).toBe(404);
    }
    // A link id of another portfolio (even the caller's own) revokes nothing.
    const mine = await createPortfolio(t.app, other);
    expect(
      (await call(t.app, 'DELETE', `/api/portfolios/${mine.id}/preview-links/${link.id}`, { as: other })).statusCode,
    ).toBe(404);
    expect((await open(link.path)).statusCode).toBe(200);
  });

  it('a translator may read the list but not make or revoke links; anonymous is 401; an editor may', async () => {
    const p = await draft();
    const link = await makeLink(p.id);
    const made = await call(t.app, 'POST', `/api/portfolios/${p.id}/preview-links`, {
      as: translator,
      body: { expiresIn: 60 },
    });
    expect(made.statusCode).toBe(403);
    expect(made.json().code).toBe('FORBIDDEN');
    expect(
      (await call(t.app, 'DELETE', `/api/portfolios/${p.id}/preview-links/${link.id}`, { as: translator })).statusCode,
    ).toBe(403);
    expect((await call(t.app, 'GET', `/api/portfolios/${p.id}/preview-links`, { as: translator })).statusCode).toBe(
      200,
    );
    expect(
      (await call(t.app, 'POST', `/api/portfolios/${p.id}/preview-links`, { body: { expiresIn: 60 } })).statusCode,
    ).toBe(401);
    expect((await call(t.app, 'GET', `/api/portfolios/${p.id}/preview-links`)).statusCode).toBe(401);
    await makeLink(p.id, 60, editor);
  });

  it('refuses a hostile expiresIn (400) and caps live links per portfolio (409)', async () => {
    const p = await draft();
    for (const body of [
      { expiresIn: 604_801 },
      { expiresIn: 1e308 },
      { expiresIn: 0 },
      { expiresIn: -60 },
      { expiresIn: 59 },
      { expiresIn: 3600.5 },
      { expiresIn: '3600' },
      { expiresIn: null },
      {},
      { expiresIn: 3600, token: 'mine' },
      { expiresIn: 3600, portfolioId: newId() },
    ]) {
      const res = await call(t.app, 'POST', `/api/portfolios/${p.id}/preview-links`, { as: owner, body });
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().code).toBe('VALIDATION_FAILED');
    }
    const week = await makeLink(p.id, 604_800);
    expect(Date.parse(week.expiresAt) - t.clock.now().getTime()).toBe(604_800_000);
    for (let i = 1; i < 20; i++) await makeLink(p.id, 60);
    const over = await call(t.app, 'POST', `/api/portfolios/${p.id}/preview-links`, {
      as: owner,
      body: { expiresIn: 60 },
    });
    expect(over.statusCode).toBe(409);
    expect(over.json().code).toBe('CONTENT_LIMIT_REACHED');
  });
});
