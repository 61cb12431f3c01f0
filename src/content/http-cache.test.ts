/**
 * HTTP caching of the content routes (issue 16, item 3), attacked as a browser, a CDN and a
 * second user would: a 304 only for the bytes the client really has, never for changed content
 * or another language; signed-in views never stored for anyone else; compression that decodes
 * to the same JSON; hostile conditional headers that can only get a normal 200.
 */
import zlib from 'node:zlib';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../test/helpers/app.js';
import { createPortfolio, createUser, type TestUser } from '../../test/helpers/factories.js';
import { call, createChild } from '../../test/content-helpers.js';
import { png, upload, uploadTestApp } from '../../test/support/uploads/helpers.js';

let t: TestApp;
let owner: TestUser;
let other: TestUser;
let slug: string;
let portfolioId: string;
let projectId: string;

function get(url: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return t.app.inject({ method: 'GET', url, headers });
}

/** The JSON of a response, whatever its content coding. */
function decoded(res: LightMyRequestResponse): unknown {
  const coding = res.headers['content-encoding'];
  const raw = res.rawPayload;
  const bytes = coding === 'br' ? zlib.brotliDecompressSync(raw) : coding === 'gzip' ? zlib.gunzipSync(raw) : raw;
  return JSON.parse(bytes.toString('utf8'));
}

const varyOf = (res: LightMyRequestResponse) =>
  String(res.headers['vary'] ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase());

beforeAll(async () => {
  t = await buildTestApp();
  owner = await createUser(t.app);
  other = await createUser(t.app);
  const p = await createPortfolio(t.app, owner, {
    visibility: 'public',
    published: true,
    title: 'Work',
    // Large enough (> 1 KB) to be compressed.
    summary: 'What I build, and how. '.repeat(60),
    translations: { es: { title: 'Trabajo' }, 'pt-BR': { title: 'Trabalho' } },
  });
  slug = p.slug;
  portfolioId = p.id;
  projectId = (
    await createChild(t.app, owner, p.id, 'projects', {
      title: 'Parser',
      translations: { es: { title: 'Analizador' } },
    })
  ).id;
});
afterAll(async () => {
  await t.close();
});

describe('ETag and If-None-Match on public reads', () => {
  it('answers 304 with no body and the same ETag, Cache-Control and Vary for a matching tag', async () => {
    const first = await get(`/api/public/portfolios/${slug}?lang=es`);
    expect(first.statusCode).toBe(200);
    const etag = String(first.headers['etag']);
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{43}"$/);
    expect(first.headers['cache-control']).toBe('public, max-age=60, stale-while-revalidate=300');

    for (const header of [etag, `W/${etag}`, `"nope", ${etag}`, `W/"x", W/${etag} , "y"`, '*']) {
      const again = await get(`/api/public/portfolios/${slug}?lang=es`, { 'if-none-match': header });
      expect(again.statusCode, header).toBe(304);
      expect(again.body, header).toBe('');
      expect(again.headers['etag']).toBe(etag);
      expect(again.headers['cache-control']).toBe(first.headers['cache-control']);
      expect(again.headers['vary']).toBe(first.headers['vary']);
      expect(again.headers['content-encoding']).toBeUndefined();
    }
  });

  it('answers 200 with the body for a tag that is not current', async () => {
    const first = await get(`/api/public/portfolios/${slug}`);
    const etag = String(first.headers['etag']);
    for (const header of [`"${etag.slice(2)}`, etag.replace(/.$/, 'x"'), `"a,${etag.slice(1, -1)}"`]) {
      const res = await get(`/api/public/portfolios/${slug}`, { 'if-none-match': header });
      expect(res.statusCode, header).toBe(200);
      expect(res.json()).toEqual(first.json());
    }
  });

  it('never sends a 304 for changed content: a new title is a new ETag, the old tag gets the new body', async () => {
    const url = `/api/public/portfolios/${slug}?lang=es`;
    const before = await get(url);
    const oldTag = String(before.headers['etag']);
    // The tag is current before the change...
    expect((await get(url, { 'if-none-match': oldTag })).statusCode).toBe(304);
    const patched = await call(t.app, 'PATCH', `/api/projects/${projectId}`, {
      as: owner,
      body: { title: 'Parser v2', translations: { es: { title: 'Analizador v2' } } },
    });
    expect(patched.statusCode).toBe(200);

    const after = await get(url, { 'if-none-match': oldTag });
    // ...and not after it.
    expect(after.statusCode).toBe(200);
    expect(after.headers['etag']).toMatch(/^"[A-Za-z0-9_-]{43}"$/);
    expect(after.headers['etag']).not.toBe(oldTag);
    expect(after.json().projects[0].title).toBe('Analizador v2');
    // The same for the compressed representation a CDN may hold.
    const brBefore = String(before.headers['etag']).replace(/"$/, '-br"');
    const brAfter = await get(url, { 'if-none-match': brBefore, 'accept-encoding': 'br' });
    expect(brAfter.statusCode).toBe(200);
    expect((decoded(brAfter) as { projects: { title: string }[] }).projects[0]?.title).toBe('Analizador v2');
  });

  it('gives each language its own ETag, and a tag of one language never gets a 304 in another', async () => {
    const en = await get(`/api/public/portfolios/${slug}?lang=en`);
    const es = await get(`/api/public/portfolios/${slug}?lang=es`);
    const pt = await get(`/api/public/portfolios/${slug}`, { 'accept-language': 'pt-BR' });
    const tags = [en, es, pt].map((r) => String(r.headers['etag']));
    expect(new Set(tags).size).toBe(3);
    const cross = await get(`/api/public/portfolios/${slug}?lang=es`, { 'if-none-match': tags[0] ?? '' });
    expect(cross.statusCode).toBe(200);
    expect(cross.json().title).toBe('Trabajo');
  });

  it('tags the default-portfolio route the same way', async () => {
    const editor = await createUser(t.app, { role: 'editor' });
    await call(t.app, 'PATCH', `/api/portfolios/${portfolioId}`, { as: editor, body: { isDefault: true } });
    const first = await get('/api/public/portfolios/default?lang=es');
    expect(first.statusCode).toBe(200);
    const again = await get('/api/public/portfolios/default?lang=es', {
      'if-none-match': String(first.headers['etag']),
    });
    expect(again.statusCode).toBe(304);
  });

  it('does not tag or cache a 404', async () => {
    const res = await get('/api/public/portfolios/no-such-portfolio', { 'if-none-match': '*' });
    expect(res.statusCode).toBe(404);
    expect(res.headers['etag']).toBeUndefined();
    expect(String(res.headers['cache-control'] ?? '')).not.toContain('public');
  });
});

describe('language selection and Vary', () => {
  it('takes the language from Accept-Language when there is no ?lang=, and says Vary: Accept-Language', async () => {
    const res = await get(`/api/public/portfolios/${slug}`, {
      'accept-language': 'fr-CA, fr;q=0.9, es;q=0.8, en;q=0.5',
    });
    expect(res.json()).toMatchObject({ language: 'es', title: 'Trabajo' });
    expect(varyOf(res)).toContain('accept-language');
    // No header at all: the default language, and still Vary (a header would change the answer).
    const none = await get(`/api/public/portfolios/${slug}`);
    expect(none.json().language).toBe('en');
    expect(varyOf(none)).toContain('accept-language');
  });

  it('?lang= is the primary selector: it wins over the header, and the answer does not vary on it', async () => {
    const res = await get(`/api/public/portfolios/${slug}?lang=pt-BR`, { 'accept-language': 'es' });
    expect(res.json()).toMatchObject({ language: 'pt-BR', title: 'Trabalho' });
    expect(varyOf(res)).not.toContain('accept-language');
  });

  it('reads a garbage or hostile Accept-Language as no preference', async () => {
    for (const header of ['<script>', '*', 'es;q=abc', 'es;q=0', ',,,;;;', `${'x'.repeat(50_000)}, es`]) {
      const res = await get(`/api/public/portfolios/${slug}`, { 'accept-language': header });
      expect(res.statusCode, header).toBe(200);
      expect(res.json().language, header).toBe('en');
    }
  });
});

describe('signed-in reads are private', () => {
  it("GET /api/portfolios/:id is private, no-store, and another user never gets the owner's view", async () => {
    const mine = await call(t.app, 'GET', `/api/portfolios/${portfolioId}`, { as: owner });
    expect(mine.statusCode).toBe(200);
    expect(mine.headers['cache-control']).toBe('private, no-store');
    expect(mine.headers['etag']).toBeUndefined();

    const theirs = await t.app.inject({
      method: 'GET',
      url: `/api/portfolios/${portfolioId}`,
      headers: { ...other.auth, 'if-none-match': '*' },
    });
    expect(theirs.statusCode).toBe(404);
    expect(theirs.body).not.toContain(mine.json().title);
    expect(theirs.headers['cache-control']).toBe('private, no-store');
  });

  it('holds for every signed-in route, not only content (one rule, not per route)', async () => {
    for (const url of [`/api/portfolios/${portfolioId}/projects`, '/api/portfolios', '/api/auth/me']) {
      const res = await call(t.app, 'GET', url, { as: owner });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['cache-control'], url).toBe('private, no-store');
    }
  });

  it('a public read by a signed-in visitor is still the public representation', async () => {
    const res = await call(t.app, 'GET', `/api/public/portfolios/${slug}`, { as: owner });
    expect(res.headers['cache-control']).toContain('public');
    expect(res.body).not.toContain(owner.id);
  });
});

describe('compression', () => {
  it.each(['br', 'gzip'])('a large public read in %s decodes to the same JSON, with its own tag', async (coding) => {
    const plain = await get(`/api/public/portfolios/${slug}`, { 'accept-encoding': 'identity' });
    const packed = await get(`/api/public/portfolios/${slug}`, { 'accept-encoding': coding });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(packed.headers['content-encoding']).toBe(coding);
    expect(packed.rawPayload.length).toBeLessThan(plain.rawPayload.length);
    expect(decoded(packed)).toEqual(plain.json());
    expect(varyOf(packed)).toContain('accept-encoding');
    expect(packed.headers['etag']).not.toBe(plain.headers['etag']);

    const revalidated = await get(`/api/public/portfolios/${slug}`, {
      'accept-encoding': coding,
      'if-none-match': String(packed.headers['etag']),
    });
    expect(revalidated.statusCode).toBe(304);
    expect(revalidated.rawPayload.length).toBe(0);
    expect(revalidated.headers['content-encoding']).toBeUndefined();
  });

  it('follows q-values and never sends a coding the client refused', async () => {
    const cases: [string, string | undefined][] = [
      ['br;q=0, gzip', 'gzip'],
      ['gzip;q=0.5, br;q=0.4', 'gzip'],
      ['*', 'br'],
      ['*;q=0, identity', undefined],
      ['deflate', undefined],
      ['br;q=garbage', undefined],
    ];
    for (const [header, expected] of cases) {
      const res = await get(`/api/public/portfolios/${slug}`, { 'accept-encoding': header });
      expect(res.statusCode, header).toBe(200);
      expect(res.headers['content-encoding'], header).toBe(expected);
    }
  });

  it('compresses other large JSON answers too, and leaves small ones alone', async () => {
    const big = await call(t.app, 'GET', `/api/portfolios/${portfolioId}`, { as: owner });
    const packed = await t.app.inject({
      method: 'GET',
      url: `/api/portfolios/${portfolioId}`,
      headers: { ...owner.auth, 'accept-encoding': 'gzip' },
    });
    expect(packed.headers['content-encoding']).toBe('gzip');
    expect(decoded(packed)).toEqual(big.json());
    const small = await get('/api/public/portfolios/no-such-portfolio', { 'accept-encoding': 'br' });
    expect(small.headers['content-encoding']).toBeUndefined();
  });
});

describe('hostile If-None-Match', () => {
  it('huge or malformed headers get a normal 200, never a 304 or a 500', async () => {
    const ok = await get(`/api/public/portfolios/${slug}`);
    const etag = String(ok.headers['etag']);
    expect((await get(`/api/public/portfolios/${slug}`, { 'if-none-match': etag })).statusCode).toBe(304);
    const hostile = [
      '"'.repeat(100_000),
      'W/'.repeat(50_000),
      ','.repeat(100_000),
      `${'"x",'.repeat(20_000)}${etag}`,
      `W/"${'a'.repeat(100_000)}`,
      '\u00ff\u00fe garbage "',
      'W/',
      '**',
      `${etag.slice(0, -1)}`,
    ];
    for (const header of hostile) {
      const res = await get(`/api/public/portfolios/${slug}`, { 'if-none-match': header });
      expect(res.statusCode, header.slice(0, 40)).toBe(200);
      expect(res.json(), header.slice(0, 40)).toEqual(ok.json());
    }
  });
});

describe('configuration and link lifetime', () => {
  it('PUBLIC_CACHE_* set Cache-Control, capped so no cache keeps a payload past its signed media links', async () => {
    const custom = await uploadTestApp({
      PUBLIC_CACHE_MAX_AGE: '100',
      PUBLIC_CACHE_STALE_WHILE_REVALIDATE: '300',
      UPLOAD_URL_TTL: '120',
    });
    try {
      const u = await createUser(custom.app);
      const read = (s: string) => custom.app.inject({ method: 'GET', url: `/api/public/portfolios/${s}` });
      const plain = await createPortfolio(custom.app, u, { visibility: 'public', published: true });
      expect((await read(plain.slug)).headers['cache-control']).toBe('public, max-age=100, stale-while-revalidate=300');

      const withMedia = await createPortfolio(custom.app, u, { visibility: 'public', published: true });
      const up = await upload(
        custom.app,
        u,
        { portfolioId: withMedia.id },
        { name: 'a.png', type: 'image/png', data: await png() },
      );
      expect(up.statusCode, up.body).toBe(202);
      const res = await read(withMedia.slug);
      expect(res.json().media).toHaveLength(1);
      // Every cache's copy dies with its links: fresh + stale never outlive the signed media
      // links in the payload (signed as of the start of a 60 s window, valid for 120 s).
      const left = (Date.parse(res.json().media[0].expiresAt) - custom.clock.now().getTime()) / 1000;
      expect(left).toBeGreaterThanOrEqual(60);
      expect(left).toBeLessThanOrEqual(120);
      const cc = /^public, max-age=(\d+), stale-while-revalidate=(\d+)$/.exec(String(res.headers['cache-control']));
      expect(cc).not.toBeNull();
      expect(Number(cc?.[1]) + Number(cc?.[2])).toBeLessThanOrEqual(Math.ceil(left));

      // The links are stable within their window, so the payload and its ETag are too (a
      // revalidation is a 304); past the window they are signed afresh, with a new ETag.
      const windowStart = Math.floor(custom.clock.now().getTime() / 60_000) * 60_000;
      custom.clock.set(new Date(windowStart + 1_000));
      const first = await read(withMedia.slug);
      custom.clock.set(new Date(windowStart + 50_000));
      const again = await custom.app.inject({
        method: 'GET',
        url: `/api/public/portfolios/${withMedia.slug}`,
        headers: { 'if-none-match': String(first.headers.etag) },
      });
      expect(again.statusCode).toBe(304);
      custom.clock.set(new Date(windowStart + 61_000));
      const later = await read(withMedia.slug);
      expect(later.headers.etag).not.toBe(first.headers.etag);
      expect(Date.parse(later.json().media[0].expiresAt) - custom.clock.now().getTime()).toBeGreaterThanOrEqual(59_000);
    } finally {
      await custom.close();
    }
  });
});
