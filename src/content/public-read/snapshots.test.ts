/**
 * Stored answers (public_snapshots, docs/PUBLIC_READ.md "Stored answers"): a node's cache miss is
 * one statement when the answer for the portfolio's current version is stored, and never serves
 * an answer of another version, whatever order renders and writes finish in. A second node serves
 * a write made on the first from the answer the first stored, without rendering it again.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { call } from '../../../test/content-helpers.js';
import type { TestApp } from '../../../test/helpers/app.js';
import { createPortfolio, createUser, type TestUser } from '../../../test/helpers/factories.js';
import { secondNode } from '../../../test/helpers/tokens.js';
import { statementsDuring } from '../../../test/support/content/statements.js';
import { png, upload, uploadTestApp } from '../../../test/support/uploads/helpers.js';
import { NO_LANGUAGE } from './service.js';

let t: TestApp;
let b: Awaited<ReturnType<typeof secondNode>>;
let owner: TestUser;

beforeAll(async () => {
  t = await uploadTestApp();
  b = await secondNode(t.deps);
  owner = await createUser(t.app);
});
afterAll(async () => {
  await b.close();
  await t.close();
});
beforeEach(() => vi.restoreAllMocks());

async function published(input: Record<string, unknown> = {}) {
  return createPortfolio(t.app, owner, { published: true, visibility: 'public', ...input });
}

async function read(app: FastifyInstance, url: string) {
  const res = await app.inject({ method: 'GET', url });
  return { status: res.statusCode, body: res.body, title: res.statusCode === 200 ? res.json().title : undefined };
}

/** A miss on this node: its cache is emptied, so the answer comes from the database. */
async function miss(app: FastifyInstance, url: string) {
  app.content.public.cache.clear();
  return read(app, url);
}

const stats = (app: FastifyInstance) => ({ ...app.content.public.cache.stats });

describe('a miss with a stored answer', () => {
  it('is one statement, the stored answer (not the render), and the same bytes', async () => {
    const p = await published({ title: 'Stored', translations: { es: { title: 'Guardado' } } });
    for (const q of ['', '?lang=es']) {
      const url = `/api/public/portfolios/${p.slug}${q}`;
      const rendered = await miss(t.app, url);
      expect(rendered.status).toBe(200);
      t.app.content.public.cache.clear();
      const render = vi.spyOn(t.app.content.public.reads, 'bySlug');
      const before = stats(t.app);
      let body = '';
      const sent = await statementsDuring(t.deps.db, async () => {
        const entry = await t.app.content.public.prepared({ slug: p.slug }, q ? 'es' : undefined, [], () => {
          throw new Error('a stored answer is not serialized again');
        });
        body = entry.body.bytes.toString('utf8');
      });
      expect(sent).toHaveLength(1);
      expect(sent[0]?.sql).toContain('public_snapshots');
      expect(sent[0]?.options?.prepared).toBe(true);
      expect(render).not.toHaveBeenCalled();
      expect(stats(t.app).stored).toBe(before.stored + 1);
      expect(stats(t.app).renders).toBe(before.renders);
      expect(body).toBe(rendered.body);
      render.mockRestore();
    }
  });

  it('a portfolio that is not public is the same 404 from that one statement, stored answers or not', async () => {
    const p = await published({ title: 'Soon private' });
    const url = `/api/public/portfolios/${p.slug}`;
    expect((await miss(t.app, url)).status).toBe(200);
    expect(
      (await call(t.app, 'PATCH', `/api/portfolios/${p.id}`, { as: owner, body: { visibility: 'private' } }))
        .statusCode,
    ).toBe(200);
    const before = stats(t.app);
    expect((await miss(t.app, url)).status).toBe(404);
    expect((await miss(b.app, url)).status).toBe(404);
    expect(stats(t.app).renders).toBe(before.renders);
  });

  it('an Accept-Language reader whose first preference is a language of the portfolio gets its stored answer', async () => {
    const p = await published({ title: 'Hello', translations: { es: { title: 'Hola' } } });
    const url = `/api/public/portfolios/${p.slug}`;
    expect((await miss(t.app, `${url}?lang=es`)).title).toBe('Hola');
    t.app.content.public.cache.clear();
    const before = stats(t.app);
    const res = await t.app.inject({ method: 'GET', url, headers: { 'accept-language': 'es, en;q=0.5' } });
    expect(res.json().title).toBe('Hola');
    expect(stats(t.app).renders).toBe(before.renders);
  });
});

describe('never a stale stored answer', () => {
  it('a render that began before a write and is stored after it is never served', async () => {
    const p = await published({ title: 'Before' });
    const url = `/api/public/portfolios/${p.slug}`;
    const snapshots = t.app.content.public.snapshots!;
    const store = snapshots.store.bind(snapshots);
    // The render has read 'Before'; the write commits; only then does the render store its answer.
    vi.spyOn(snapshots, 'store').mockImplementationOnce(async (rendered) => {
      const res = await call(t.app, 'PATCH', `/api/portfolios/${p.id}`, { as: owner, body: { title: 'After' } });
      expect(res.statusCode).toBe(200);
      await store(rendered);
    });
    expect((await miss(t.app, url)).title).toBe('Before');
    // Cache emptied: the stored answer is of an older version, so it is rendered anew...
    const before = stats(t.app);
    expect((await miss(t.app, url)).title).toBe('After');
    expect(stats(t.app).stored).toBe(before.stored);
    expect(stats(t.app).renders).toBe(before.renders + 1);
    // ...and that render is what the other node is then served.
    expect((await miss(b.app, url)).title).toBe('After');
  });

  it('a render of an older version never replaces a newer one (the store compares versions)', async () => {
    const p = await published({ title: 'One' });
    const url = `/api/public/portfolios/${p.slug}`;
    const service = t.app.content.public;
    const old = await service.snapshots!.lookup({ slug: p.slug }, NO_LANGUAGE, service.format);
    expect((await miss(t.app, url)).title).toBe('One');
    expect(
      (await call(t.app, 'PATCH', `/api/portfolios/${p.id}`, { as: owner, body: { title: 'Two' } })).statusCode,
    ).toBe(200);
    expect((await miss(t.app, url)).title).toBe('Two');
    const current = await service.snapshots!.lookup({ slug: p.slug }, NO_LANGUAGE, service.format);
    expect(current?.body).toContain('"Two"');
    // A slow render of the older version arrives last.
    await service.snapshots!.store({
      portfolioId: p.id,
      selector: NO_LANGUAGE,
      version: old!.version,
      format: service.format,
      body: '{"title":"One"}',
      linksExpireAt: null,
    });
    expect(await service.snapshots!.lookup({ slug: p.slug }, NO_LANGUAGE, service.format)).toEqual(current);
    expect((await miss(b.app, url)).title).toBe('Two');
  });

  it('a site-wide change (touchAll) leaves no stored answer current', async () => {
    const p = await published({ title: 'Site' });
    const url = `/api/public/portfolios/${p.slug}`;
    const service = t.app.content.public;
    await miss(t.app, url);
    expect((await service.snapshots!.lookup({ slug: p.slug }, NO_LANGUAGE, service.format))?.body).not.toBeNull();
    await t.app.content.publicChanges.touchAll(t.deps.db);
    expect((await service.snapshots!.lookup({ slug: p.slug }, NO_LANGUAGE, service.format))?.body).toBeNull();
    const before = stats(t.app);
    expect((await miss(t.app, url)).title).toBe('Site');
    expect(stats(t.app).renders).toBe(before.renders + 1);
  });

  it('an answer of another format (other code) is neither served nor kept as this one', async () => {
    const p = await published({ title: 'Format' });
    const service = t.app.content.public;
    await miss(t.app, `/api/public/portfolios/${p.slug}`);
    expect((await service.snapshots!.lookup({ slug: p.slug }, NO_LANGUAGE, 'another-format'))?.body).toBeNull();
  });

  it('what visitors ask for does not add stored answers: only the languages the read negotiates', async () => {
    const p = await published({ title: 'Hi', translations: { es: { title: 'Hola' } } });
    const url = `/api/public/portfolios/${p.slug}`;
    const service = t.app.content.public;
    expect((await miss(t.app, `${url}?lang=es-MX`)).title).toBe('Hola');
    expect((await miss(t.app, `${url}?category=nothing-here`)).status).toBe(200);
    const lookup = (selector: string) => service.snapshots!.lookup({ slug: p.slug }, selector, service.format);
    expect((await lookup('es-mx'))?.body).toBeNull();
    expect((await lookup('es'))?.body).toContain('"Hola"');
  });
});

describe('two nodes', () => {
  it('a write on node A is served by node B within 1 s from the answer A stored, without rendering it again', async () => {
    const p = await published({ title: 'First' });
    const url = `/api/public/portfolios/${p.slug}`;
    expect((await read(t.app, url)).title).toBe('First');
    expect((await read(b.app, url)).title).toBe('First');
    expect(
      (await call(t.app, 'PATCH', `/api/portfolios/${p.id}`, { as: owner, body: { title: 'Second' } })).statusCode,
    ).toBe(200);
    expect((await read(t.app, url)).title).toBe('Second');
    const before = stats(b.app);
    const started = Date.now();
    let seen: string | undefined;
    while (Date.now() - started <= 1_000) {
      seen = (await read(b.app, url)).title;
      if (seen === 'Second') break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(seen).toBe('Second');
    expect(stats(b.app).renders).toBe(before.renders);
    expect(stats(b.app).stored).toBe(before.stored + 1);
  });
});

describe('signed links in a stored answer', () => {
  it('is served while its links have half their lifetime left, then rendered with fresh links', async () => {
    const p = await published();
    const res = await upload(
      t.app,
      owner,
      { portfolioId: p.id },
      { name: 's.png', type: 'image/png', data: await png(20, 20) },
    );
    expect(res.statusCode, res.body).toBe(202);
    const url = `/api/public/portfolios/${p.slug}`;
    const first = await miss(t.app, url);
    type Medium = { url: string; expiresAt: string };
    const linkOf = (body: string) => (JSON.parse(body) as { media: Medium[] }).media[0] as Medium;
    const expiry = Date.parse(linkOf(first.body).expiresAt);
    const ttlMs = t.config.UPLOAD_URL_TTL * 1000;
    t.clock.set(new Date(expiry - ttlMs / 2 - 1));
    let before = stats(b.app);
    expect((await miss(b.app, url)).body).toBe(first.body);
    expect(stats(b.app).stored).toBe(before.stored + 1);
    t.clock.advance(2);
    before = stats(b.app);
    const late = await miss(b.app, url);
    expect(stats(b.app).renders).toBe(before.renders + 1);
    const link = linkOf(late.body);
    expect(Date.parse(link.expiresAt) - t.clock.now().getTime()).toBeGreaterThanOrEqual(ttlMs / 2);
    const u = new URL(link.url);
    expect((await t.app.inject({ method: 'GET', url: u.pathname + u.search })).statusCode).toBe(200);
  });
});
