/**
 * Input that must never be stored: unknown fields (a typo such as `visiblity` silently ignored
 * would publish nothing, or worse), link schemes that execute in a reader's browser
 * (`javascript:`, `data:`), impossible dates and year ranges, and translations that are not
 * language tags or name fields the resource does not have. All answer 400 VALIDATION_FAILED.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../test/helpers/app.js';
import { createPortfolio, createUser, type TestUser } from '../../test/helpers/factories.js';
import { CHILD_SAMPLES, call, createChild } from '../../test/content-helpers.js';
import { enableLanguages } from '../../test/support/languages/helpers.js';

let t: TestApp;
let owner: TestUser;
let portfolioId: string;

beforeAll(async () => {
  t = await buildTestApp();
  owner = await createUser(t.app);
  await enableLanguages(t.app, 'es');
  portfolioId = (await createPortfolio(t.app, owner)).id;
});
afterAll(async () => {
  await t.close();
});

async function expectInvalid(method: 'POST' | 'PATCH', url: string, body: unknown, code = 'VALIDATION_FAILED') {
  const res = await call(t.app, method, url, { as: owner, body });
  expect(res.statusCode, `${JSON.stringify(body)} → ${res.body}`).toBe(400);
  expect(res.json().code).toBe(code);
  return res.json();
}

describe('unknown fields', () => {
  it('are refused on portfolios, naming the field', async () => {
    const body = await expectInvalid('POST', '/api/portfolios', { title: 'x', slug: 'typo-slug', visiblity: 'public' });
    expect(body.errors).toEqual([{ path: 'body/visiblity', message: 'unknown field' }]);
    await expectInvalid('PATCH', `/api/portfolios/${portfolioId}`, { ownerId: owner.id });
    await expectInvalid('PATCH', `/api/portfolios/${portfolioId}`, { id: portfolioId });
  });

  it.each(CHILD_SAMPLES)('are refused on $path create and patch', async ({ path, body }) => {
    await expectInvalid('POST', `/api/portfolios/${portfolioId}/${path}`, { ...body, evil: 1 });
    const child = await createChild(t.app, owner, portfolioId, path, body);
    await expectInvalid('PATCH', `/api/${path}/${child.id}`, { createdAt: '2020-01-01T00:00:00Z' });
  });

  it('an empty PATCH is a 400', async () => {
    await expectInvalid('PATCH', `/api/portfolios/${portfolioId}`, {});
    const project = await createChild(t.app, owner, portfolioId, 'projects', { title: 'x' });
    await expectInvalid('PATCH', `/api/projects/${project.id}`, {});
  });
});

describe('ids', () => {
  it('a malformed id is 400, an unknown one 404', async () => {
    await expect(call(t.app, 'GET', '/api/portfolios/123', { as: owner })).resolves.toMatchObject({ statusCode: 400 });
    await expect(call(t.app, 'GET', '/api/projects/not-a-uuid', { as: owner })).resolves.toMatchObject({
      statusCode: 400,
    });
    const res = await call(t.app, 'GET', '/api/links/00000000-0000-7000-8000-000000000000', { as: owner });
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe('NOT_FOUND');
    await expectInvalid(
      'PATCH',
      `/api/projects/${(await createChild(t.app, owner, portfolioId, 'projects', { title: 'x' })).id}`,
      {
        portfolioId: 'nope',
      },
    );
  });
});

describe('portfolio fields', () => {
  it.each(['ab', 'A-Upper', 'has space', 'x'.repeat(65), 'émoji', 'under_score'])(
    'slug %j is refused',
    async (slug) => {
      await expectInvalid('POST', '/api/portfolios', { title: 'x', slug });
    },
  );

  it.each(['english', 'EN', 'en_US', 'e', 'en-us-'])('defaultLanguage %j is refused', async (defaultLanguage) => {
    await expectInvalid('POST', '/api/portfolios', { title: 'x', slug: 'lang-test', defaultLanguage });
  });

  it('refuses blank titles, a wrong visibility and a non-boolean published', async () => {
    await expectInvalid('POST', '/api/portfolios', { title: '   ', slug: 'blank-title' });
    await expectInvalid('PATCH', `/api/portfolios/${portfolioId}`, { visibility: 'secret' });
    await expectInvalid('PATCH', `/api/portfolios/${portfolioId}`, { published: 'true' });
    await expectInvalid('PATCH', `/api/portfolios/${portfolioId}`, { summary: 'x'.repeat(2001) });
  });
});

describe('urls', () => {
  const badHttp = [
    'javascript:alert(1)',
    'JAVASCRIPT:alert(1)',
    'data:text/html,<script>alert(1)</script>',
    'vbscript:msgbox',
    'ftp://example.com/file',
    '//example.com/no-scheme',
    'https://bank.example@evil.example/',
    'https://exa mple.com',
    'mailto:me@example.com',
    ' https://example.com',
  ];
  it.each(badHttp)('project url %j is refused', async (url) => {
    await expectInvalid('POST', `/api/portfolios/${portfolioId}/projects`, { title: 'x', url });
    await expectInvalid('POST', `/api/portfolios/${portfolioId}/projects`, { title: 'x', repositoryUrl: url });
  });

  it.each(badHttp.filter((u) => !u.startsWith('mailto:')).concat(['mailto:', 'mailto:javascript:alert(1)']))(
    'link url %j is refused',
    async (url) => {
      await expectInvalid('POST', `/api/portfolios/${portfolioId}/links`, { url });
    },
  );

  it.each(['https://example.com', 'http://localhost:8080/x?y=1#z', 'https://medium.com/@me', 'mailto:me@example.com'])(
    'link url %j is accepted',
    async (url) => {
      const link = await createChild(t.app, owner, portfolioId, 'links', { url });
      expect(link['url']).toBe(url);
    },
  );
});

describe('dates and ranges', () => {
  it.each(['2024-02-30', '2023-13-01', '24-01-01', '0000-01-01', '2024-1-1', '2024-01-01T00:00:00Z'])(
    'project date %j is refused',
    async (date) => {
      await expectInvalid('POST', `/api/portfolios/${portfolioId}/projects`, { title: 'x', date });
    },
  );

  it('endYear before startYear is refused on create and on patch of either year', async () => {
    const body = await expectInvalid('POST', `/api/portfolios/${portfolioId}/experiences`, {
      title: 'x',
      startYear: 2020,
      endYear: 2019,
    });
    expect(body.errors).toEqual([{ path: 'body/endYear', message: 'must be greater than or equal to startYear' }]);
    const exp = await createChild(t.app, owner, portfolioId, 'experiences', {
      title: 'x',
      startYear: 2018,
      endYear: 2020,
    });
    await expectInvalid('PATCH', `/api/experiences/${exp.id}`, { endYear: 2017 });
    await expectInvalid('PATCH', `/api/experiences/${exp.id}`, { startYear: 2021 });
    const ok = await call(t.app, 'PATCH', `/api/experiences/${exp.id}`, {
      as: owner,
      body: { endYear: null, startYear: 2021 },
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ startYear: 2021, endYear: null });
  });

  it('refuses years, levels, positions, kinds and types out of range', async () => {
    await expectInvalid('POST', `/api/portfolios/${portfolioId}/experiences`, { title: 'x', startYear: 1200 });
    await expectInvalid('POST', `/api/portfolios/${portfolioId}/experiences`, { title: 'x', startYear: '2020' });
    await expectInvalid('POST', `/api/portfolios/${portfolioId}/experiences`, { title: 'x' });
    await expectInvalid('POST', `/api/portfolios/${portfolioId}/skills`, { name: 'x', level: 6 });
    await expectInvalid('POST', `/api/portfolios/${portfolioId}/skills`, { name: 'x', level: 0 });
    await expectInvalid('POST', `/api/portfolios/${portfolioId}/skills`, { name: 'x', type: 'magic' });
    await expectInvalid('POST', `/api/portfolios/${portfolioId}/sections`, { kind: 'sidebar', title: 'x' });
    await expectInvalid('POST', `/api/portfolios/${portfolioId}/links`, { url: 'https://x.example', kind: 'myspace' });
    await expectInvalid('POST', `/api/portfolios/${portfolioId}/projects`, { title: 'x', position: -1 });
    await expectInvalid('POST', `/api/portfolios/${portfolioId}/projects`, { title: 'x', skills: 'ts' });
    await expectInvalid('POST', `/api/portfolios/${portfolioId}/projects`, {
      title: 'x',
      skills: Array.from({ length: 51 }, () => 'a'),
    });
  });
});

describe('translations', () => {
  it.each([
    ['a key that is not a language tag', { english: { title: 'x' } }],
    ['a lowercase region', { 'pt-br': { title: 'x' } }],
    ['a field the resource has not', { es: { url: 'https://x.example' } }],
    ['a non-translatable field', { es: { date: '2020-01-01' } }],
    ['a non-string text', { es: { title: 5 } }],
    ['an empty language entry', { es: {} }],
    ['a text over the field cap', { es: { title: 'x'.repeat(201) } }],
    ['not an object', ['es']],
    [
      'too many languages',
      Object.fromEntries(
        [
          'aa',
          'ab',
          'ac',
          'ad',
          'ae',
          'af',
          'ag',
          'ah',
          'ai',
          'aj',
          'ak',
          'al',
          'am',
          'an',
          'ao',
          'ap',
          'aq',
          'ar',
          'as',
          'at',
          'au',
        ].map((l) => [l, { title: 'x' }]),
      ),
    ],
  ])('refuses %s', async (_name, translations) => {
    await expectInvalid('POST', `/api/portfolios/${portfolioId}/projects`, { title: 'x', translations });
  });

  it('refuses a __proto__ key (the JSON parser already stops prototype poisoning)', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: `/api/portfolios/${portfolioId}/projects`,
      headers: { ...owner.auth, 'content-type': 'application/json' },
      payload: '{"title":"x","translations":{"__proto__":{"title":"x"}}}',
    });
    expect(res.statusCode).toBe(400);
  });

  it('refuses a translation in the default language, whose text is the plain field', async () => {
    await expectInvalid('POST', `/api/portfolios/${portfolioId}/projects`, {
      title: 'x',
      translations: { en: { title: 'y' } },
    });
    await expectInvalid('POST', '/api/portfolios', {
      title: 'x',
      slug: 'es-default',
      defaultLanguage: 'es',
      translations: { es: { title: 'y' } },
    });
    const p = await createPortfolio(t.app, owner, { translations: { es: { title: 'Hola' } } });
    await expectInvalid('PATCH', `/api/portfolios/${p.id}`, { defaultLanguage: 'es' });
  });

  it('refuses a default language that is not an enabled site language, on create and on change', async () => {
    await expectInvalid(
      'POST',
      '/api/portfolios',
      { title: 'x', slug: 'nl-default', defaultLanguage: 'nl' },
      'LANGUAGE_NOT_ENABLED',
    );
    await expectInvalid(
      'PATCH',
      `/api/portfolios/${portfolioId}`,
      { defaultLanguage: 'xx-YY' },
      'LANGUAGE_NOT_ENABLED',
    );
    // An enabled one is fine.
    const p = await createPortfolio(t.app, owner, { defaultLanguage: 'es' });
    expect(p['defaultLanguage']).toBe('es');
  });

  it('accepts and replaces translations on each kind', async () => {
    const translations = {
      projects: { es: { title: 'Proyecto', description: 'Desc' } },
      sections: { es: { title: 'Sobre mí', body: 'Hola' } },
      experiences: { es: { title: 'Ingeniera', organization: 'Acme ES', description: 'Cosas' } },
      skills: { es: { name: 'Trabajo en equipo' } },
      links: { es: { label: 'Mi GitHub' } },
    } as Record<string, Record<string, Record<string, string>>>;
    for (const { path, body } of CHILD_SAMPLES) {
      const child = await createChild(t.app, owner, portfolioId, path, { ...body, translations: translations[path] });
      expect(child['translations'], path).toEqual(translations[path]);
      const replaced = await call(t.app, 'PATCH', `/api/${path}/${child.id}`, {
        as: owner,
        body: {
          translations: { 'pt-BR': Object.fromEntries(Object.entries(translations[path]?.['es'] ?? {}).slice(0, 1)) },
        },
      });
      expect(replaced.statusCode, replaced.body).toBe(200);
      expect(Object.keys(replaced.json().translations)).toEqual(['pt-BR']);
    }
  });
});

describe('bodies', () => {
  it('refuses non-JSON and malformed JSON', async () => {
    const text = await t.app.inject({
      method: 'POST',
      url: '/api/portfolios',
      headers: { ...owner.auth, 'content-type': 'text/plain' },
      payload: 'title=x',
    });
    expect(text.statusCode).toBe(415);
    const broken = await t.app.inject({
      method: 'POST',
      url: '/api/portfolios',
      headers: { ...owner.auth, 'content-type': 'application/json' },
      payload: '{"title":',
    });
    expect(broken.statusCode).toBe(400);
  });
});
