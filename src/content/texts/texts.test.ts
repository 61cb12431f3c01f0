/**
 * Site texts attacked as each caller would: every route against anonymous, a user, an editor and
 * an admin; hostile bodies and files (unknown fields, wrong types, a language not enabled,
 * 10,000 keys, deep nesting, huge strings, prototype keys); per-key fallback along a chain; the
 * public ETag changing exactly when a text does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.js';
import { addLanguage, cast, putText, send, type Cast } from '../../../test/support/languages/helpers.js';

let t: TestApp;
let c: Cast;

beforeAll(async () => {
  t = await buildTestApp();
  c = await cast(t.app);
  await addLanguage(t.app, c.admin, { code: 'es' });
  await addLanguage(t.app, c.admin, { code: 'pt' });
  await addLanguage(t.app, c.admin, { code: 'pt-BR', fallback: ['pt', 'es'] });
  await addLanguage(t.app, c.admin, { code: 'fr', enabled: false });
});
afterAll(async () => {
  await t.close();
});

/** Raw JSON nested `depth` objects deep (too deep for JSON.stringify to build). */
const nested = (depth: number): string => `${'{"n":'.repeat(depth)}{"leaf":"x"}${'}'.repeat(depth)}`;

describe('who may call what', () => {
  const routes: [string, string, unknown?][] = [
    ['GET', '/api/admin/texts'],
    ['PUT', '/api/admin/texts/nav.home', { translations: { en: 'Home' } }],
    ['DELETE', '/api/admin/texts/nav.home'],
    ['GET', '/api/admin/texts/export?lang=en'],
    ['PUT', '/api/admin/texts/import?lang=en', { nav: { home: 'Home' } }],
  ];

  it.each(routes)('%s %s: anonymous 401, user 403 (before the body is looked at)', async (method, url, body) => {
    expect((await send(t.app, method as 'GET', url, { body })).statusCode).toBe(401);
    const user = await send(t.app, method as 'GET', url, {
      as: c.user,
      body: body === undefined ? undefined : { x: 1 },
    });
    expect(user.statusCode).toBe(403);
  });

  it('an editor and an admin may read and write texts; anyone may read the public texts', async () => {
    for (const who of [c.editor, c.admin]) {
      expect(
        (await send(t.app, 'PUT', '/api/admin/texts/who.key', { as: who, body: { translations: { en: 'Hi' } } }))
          .statusCode,
      ).toBe(200);
      expect((await send(t.app, 'GET', '/api/admin/texts?prefix=who.', { as: who })).json().items).toHaveLength(1);
      expect(
        (await send(t.app, 'PUT', '/api/admin/texts/import?lang=es', { as: who, body: { who: { key: 'Hola' } } }))
          .statusCode,
      ).toBe(200);
      expect((await send(t.app, 'GET', '/api/admin/texts/export?lang=es', { as: who })).json()).toMatchObject({
        who: { key: 'Hola' },
      });
      expect((await send(t.app, 'DELETE', '/api/admin/texts/who.key', { as: who })).statusCode).toBe(204);
    }
    expect((await send(t.app, 'DELETE', '/api/admin/texts/who.key', { as: c.admin })).statusCode).toBe(404);
    expect((await send(t.app, 'GET', '/api/public/texts?lang=en')).statusCode).toBe(200);
  });
});

describe('hostile bodies on PUT /api/admin/texts/:key', () => {
  it.each([
    ['an unknown field', 'a.b', { translations: { en: 'x' }, extra: 1 }, 'VALIDATION_FAILED'],
    ['a number for a text', 'a.b', { translations: { en: 1 } }, 'VALIDATION_FAILED'],
    ['an empty text', 'a.b', { translations: { en: '' } }, 'VALIDATION_FAILED'],
    ['no language', 'a.b', { translations: {} }, 'VALIDATION_FAILED'],
    ['a huge text', 'a.b', { translations: { en: 'x'.repeat(100_000) } }, 'VALIDATION_FAILED'],
    [
      '10,000 languages',
      'a.b',
      { translations: Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`l${i}`, 'x'])) },
      'VALIDATION_FAILED',
    ],
    ['a disabled language', 'a.b', { translations: { en: 'x', fr: 'y' } }, 'LANGUAGE_NOT_ENABLED'],
    ['an unknown language', 'a.b', { translations: { zz: 'y' } }, 'LANGUAGE_NOT_ENABLED'],
    ['a bad key', 'a..b', { translations: { en: 'x' } }, 'VALIDATION_FAILED'],
    ['a prototype key', '__proto__.x', { translations: { en: 'x' } }, 'VALIDATION_FAILED'],
    ['a key nine levels deep', 'a.b.c.d.e.f.g.h.i', { translations: { en: 'x' } }, 'VALIDATION_FAILED'],
    ['a reserved key', 'import', { translations: { en: 'x' } }, 'VALIDATION_FAILED'],
  ])('%s → 400 %s, nothing stored', async (_what, key, body, code) => {
    const res = await send(t.app, 'PUT', `/api/admin/texts/${key}`, { as: c.admin, body });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe(code);
    expect((await send(t.app, 'GET', '/api/admin/texts?prefix=a.', { as: c.admin })).json().items).toEqual([]);
  });

  it('refuses a key that is the parent of another (409 TEXT_KEY_CONFLICT), either way round', async () => {
    await putText(t.app, c.admin, 'menu.file', { en: 'File' });
    const child = await send(t.app, 'PUT', '/api/admin/texts/menu.file.open', {
      as: c.admin,
      body: { translations: { en: 'Open' } },
    });
    expect(child.statusCode).toBe(409);
    expect(child.json().code).toBe('TEXT_KEY_CONFLICT');
    const parent = await send(t.app, 'PUT', '/api/admin/texts/menu', {
      as: c.admin,
      body: { translations: { en: 'Menu' } },
    });
    expect(parent.json().code).toBe('TEXT_KEY_CONFLICT');
  });
});

describe('import and export (i18next JSON)', () => {
  it('refuses non-string leaves, naming each', async () => {
    const res = await send(t.app, 'PUT', '/api/admin/texts/import?lang=en', {
      as: c.admin,
      body: { ok: 'fine', n: 1, b: true, z: null, list: ['a'], deep: { x: 2 } },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('TEXTS_IMPORT_INVALID');
    expect(res.json().errors.map((e: { path: string }) => e.path)).toEqual([
      'body/n',
      'body/b',
      'body/z',
      'body/list',
      'body/deep/x',
    ]);
    expect((await send(t.app, 'GET', '/api/admin/texts?prefix=ok', { as: c.admin })).json().items).toEqual([]);
  });

  it.each([
    ['10,000 keys', Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`k${i}`, 'x']))],
    ['nesting 9 levels deep', nested(9)],
    ['nesting 100,000 levels deep (about 600 KB)', nested(100_000)],
    ['a huge text', { big: 'x'.repeat(6_000) }],
    ['a prototype key', '{"constructor": {"x": "y"}}'],
    ['the same key twice', { 'a.b': 'x', a: { b: 'y' } }],
    ['a bad key', { 'has space': 'x' }],
  ] as [string, unknown][])('refuses %s with 400 TEXTS_IMPORT_INVALID, storing nothing', async (_what, body) => {
    const res = await send(t.app, 'PUT', '/api/admin/texts/import?lang=en', { as: c.admin, body });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('TEXTS_IMPORT_INVALID');
    expect((await send(t.app, 'GET', '/api/admin/texts/export?lang=en', { as: c.admin })).json()).not.toHaveProperty(
      'k0',
    );
  });

  it('refuses a language that is not enabled, and unknown query parameters', async () => {
    const off = await send(t.app, 'PUT', '/api/admin/texts/import?lang=fr', { as: c.admin, body: { a: 'b' } });
    expect(off.json().code).toBe('LANGUAGE_NOT_ENABLED');
    const mode = await send(t.app, 'PUT', '/api/admin/texts/import?lang=en&mode=wipe', {
      as: c.admin,
      body: { a: 'b' },
    });
    expect(mode.statusCode).toBe(400);
  });

  it('merges by default, replaces with mode=replace (that language only), and exports nested', async () => {
    await putText(t.app, c.admin, 'shop.cart', { en: 'Cart', es: 'Carrito' });
    const merged = await send(t.app, 'PUT', '/api/admin/texts/import?lang=es', {
      as: c.admin,
      body: { shop: { buy: 'Comprar', items_one: '{{count}} artículo', empty: '' } },
    });
    expect(merged.json()).toEqual({ lang: 'es', mode: 'merge', keys: 2, written: 2, removed: 0 });
    let exported = (await send(t.app, 'GET', '/api/admin/texts/export?lang=es', { as: c.admin })).json();
    expect(exported.shop).toEqual({ buy: 'Comprar', cart: 'Carrito', items_one: '{{count}} artículo' });

    const replaced = await send(t.app, 'PUT', '/api/admin/texts/import?lang=es&mode=replace', {
      as: c.admin,
      body: { shop: { buy: 'Comprar ya' } },
    });
    expect(replaced.json()).toMatchObject({ mode: 'replace', written: 1 });
    exported = (await send(t.app, 'GET', '/api/admin/texts/export?lang=es', { as: c.admin })).json();
    expect(exported).toEqual({ shop: { buy: 'Comprar ya' } });
    // English texts are untouched by a Spanish replace.
    expect((await send(t.app, 'GET', '/api/admin/texts/export?lang=en', { as: c.admin })).json().shop).toEqual({
      cart: 'Cart',
    });

    await t.app.audit.flush();
    const [event] = await t.app.audit.repo.query({ action: 'content.texts.imported' }, 1);
    expect(event?.metadata).toMatchObject({ lang: 'es', mode: 'replace' });
  });
});

describe('public texts', () => {
  it('falls back key by key along the chain (pt-BR → pt → es) and then the default', async () => {
    await putText(t.app, c.admin, 'chain.one', { en: 'one', es: 'uno', pt: 'um', 'pt-BR': 'um (BR)' });
    await putText(t.app, c.admin, 'chain.two', { en: 'two', es: 'dos', pt: 'dois' });
    await putText(t.app, c.admin, 'chain.three', { en: 'three', es: 'tres' });
    await putText(t.app, c.admin, 'chain.four', { en: 'four' });
    const texts = async (url: string, headers: Record<string, string> = {}) => {
      const res = await send(t.app, 'GET', url, { headers });
      expect(res.statusCode).toBe(200);
      const body = res.json<{ lang: string; texts: Record<string, string> }>();
      return {
        lang: body.lang,
        chain: Object.fromEntries(Object.entries(body.texts).filter(([k]) => k.startsWith('chain.'))),
      };
    };
    expect(await texts('/api/public/texts?lang=pt-br')).toEqual({
      lang: 'pt-BR',
      chain: { 'chain.four': 'four', 'chain.one': 'um (BR)', 'chain.three': 'tres', 'chain.two': 'dois' },
    });
    expect(await texts('/api/public/texts?lang=es')).toMatchObject({
      lang: 'es',
      chain: { 'chain.two': 'dos', 'chain.four': 'four' },
    });
    // A disabled language is not served: its reader gets the default.
    expect((await texts('/api/public/texts?lang=fr')).lang).toBe('en');
    // pt-PT is not a site language: its primary language is.
    expect((await texts('/api/public/texts?lang=pt-PT')).chain['chain.two']).toBe('dois');
    const negotiated = await send(t.app, 'GET', '/api/public/texts', {
      headers: { 'accept-language': 'de, es;q=0.8' },
    });
    expect(negotiated.json().lang).toBe('es');
    expect(String(negotiated.headers.vary)).toMatch(/Accept-Language/);
  });

  it('answers 304 for the current ETag, and a new ETag once a text changes', async () => {
    await putText(t.app, c.admin, 'etag.title', { en: 'Title', es: 'Título' });
    const first = await send(t.app, 'GET', '/api/public/texts?lang=es');
    const etag = String(first.headers.etag);
    expect(etag).toMatch(/^"/);
    expect(first.headers['cache-control']).toMatch(/^public, max-age=/);
    expect(
      (await send(t.app, 'GET', '/api/public/texts?lang=es', { headers: { 'if-none-match': etag } })).statusCode,
    ).toBe(304);
    await putText(t.app, c.admin, 'etag.title', { en: 'Title', es: 'Título nuevo' });
    const after = await send(t.app, 'GET', '/api/public/texts?lang=es', { headers: { 'if-none-match': etag } });
    expect(after.statusCode).toBe(200);
    expect(after.headers.etag).not.toBe(etag);
    expect(after.json().texts['etag.title']).toBe('Título nuevo');
  });

  it('refuses a malformed lang with 400', async () => {
    expect((await send(t.app, 'GET', '/api/public/texts?lang=%3Cscript%3E')).statusCode).toBe(400);
  });
});
