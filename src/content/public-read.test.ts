/**
 * The anonymous read side. A draft or private portfolio must be indistinguishable from one that
 * does not exist (no status or body difference), the payload must carry nothing private (owner,
 * flags, raw translations), and `?lang=` must resolve texts field by field with a fallback to
 * the default language, so a half-translated portfolio still renders completely.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../test/helpers/app.js';
import { createPortfolio, createUser, type TestUser } from '../../test/helpers/factories.js';
import { call, createChild } from '../../test/content-helpers.js';

let t: TestApp;
let owner: TestUser;
let editor: TestUser;

function withoutRequestId(body: Record<string, unknown>) {
  const { requestId: _ignored, ...rest } = body;
  return rest;
}

beforeAll(async () => {
  t = await buildTestApp();
  owner = await createUser(t.app, { email: 'owner-public@example.test' });
  editor = await createUser(t.app, { role: 'editor' });
});
afterAll(async () => {
  await t.close();
});

describe('visibility', () => {
  it.each([
    ['draft and private', { visibility: 'private', published: false }],
    ['public but unpublished', { visibility: 'public', published: false }],
    ['published but private', { visibility: 'private', published: true }],
  ] as const)('%s answers the same 404 as a missing slug', async (_name, flags) => {
    const p = await createPortfolio(t.app, owner, flags);
    const res = await call(t.app, 'GET', `/api/public/portfolios/${p.slug}`);
    const missing = await call(t.app, 'GET', '/api/public/portfolios/no-such-portfolio');
    expect(res.statusCode).toBe(404);
    expect(withoutRequestId(res.json())).toEqual(withoutRequestId(missing.json()));
  });

  it('a malformed slug is just missing', async () => {
    const res = await call(t.app, 'GET', '/api/public/portfolios/Bad%20Slug!');
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe('NOT_FOUND');
  });

  it('shows a published public portfolio without auth, and hides it again when unpublished', async () => {
    const p = await createPortfolio(t.app, owner, { visibility: 'public', published: true, title: 'Open' });
    const res = await call(t.app, 'GET', `/api/public/portfolios/${p.slug}`);
    expect(res.statusCode).toBe(200);
    expect(res.json().title).toBe('Open');
    await call(t.app, 'PATCH', `/api/portfolios/${p.id}`, { as: owner, body: { published: false } });
    expect((await call(t.app, 'GET', `/api/public/portfolios/${p.slug}`)).statusCode).toBe(404);
  });
});

describe('payload', () => {
  it('has the portfolio and its children by position, without owner or private fields', async () => {
    const p = await createPortfolio(t.app, owner, { visibility: 'public', published: true, summary: 'About me' });
    await createChild(t.app, owner, p.id, 'projects', { title: 'Second', position: 2 });
    await createChild(t.app, owner, p.id, 'projects', { title: 'First', position: 1, skills: ['go'] });
    await createChild(t.app, owner, p.id, 'sections', { kind: 'about', title: 'Hello', body: '**hi**' });
    await createChild(t.app, owner, p.id, 'experiences', { title: 'Dev', startYear: 2020, endYear: 2022 });
    await createChild(t.app, owner, p.id, 'skills', { name: 'SQL', level: 5 });
    await createChild(t.app, owner, p.id, 'links', { url: 'mailto:me@example.com', kind: 'email' });

    const res = await call(t.app, 'GET', `/api/public/portfolios/${p.slug}`);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({
      slug: p.slug,
      summary: 'About me',
      language: 'en',
      defaultLanguage: 'en',
      availableLanguages: ['en'],
    });
    expect(body.projects.map((x: { title: string }) => x.title)).toEqual(['First', 'Second']);
    expect(body.projects[0]).toMatchObject({ skills: ['go'], url: null });
    expect(body.sections[0]).toMatchObject({ kind: 'about', body: '**hi**' });
    expect(body.experiences[0]).toMatchObject({ startYear: 2020, endYear: 2022 });
    expect(body.skills[0]).toMatchObject({ name: 'SQL', level: 5 });
    expect(body.links[0]).toMatchObject({ url: 'mailto:me@example.com', kind: 'email' });

    const text = res.body;
    expect(text).not.toContain(owner.id);
    expect(text).not.toContain(owner.email);
    for (const key of ['ownerId', 'visibility', 'published', 'isDefault', 'translations', 'portfolioId']) {
      expect(text, key).not.toContain(`"${key}"`);
    }
  });
});

describe('languages', () => {
  let slug: string;

  beforeAll(async () => {
    const p = await createPortfolio(t.app, owner, {
      visibility: 'public',
      published: true,
      title: 'Work',
      summary: 'What I do',
      translations: { es: { title: 'Trabajo' }, 'pt-BR': { title: 'Trabalho', summary: 'O que faço' } },
    });
    slug = p.slug;
    await createChild(t.app, owner, p.id, 'projects', {
      title: 'Parser',
      description: 'Parses things',
      translations: { es: { description: 'Analiza cosas' } },
    });
    await createChild(t.app, owner, p.id, 'skills', {
      name: 'Teamwork',
      type: 'soft',
      translations: { de: { name: 'Teamarbeit' } },
    });
  });

  it('resolves ?lang=es field by field, falling back to the default language', async () => {
    const body = (await call(t.app, 'GET', `/api/public/portfolios/${slug}?lang=es`)).json();
    expect(body.language).toBe('es');
    expect(body.title).toBe('Trabajo');
    expect(body.summary).toBe('What I do');
    expect(body.projects[0]).toMatchObject({ title: 'Parser', description: 'Analiza cosas' });
    expect(body.skills[0]).toMatchObject({ name: 'Teamwork' });
    expect(body.availableLanguages).toEqual(['en', 'de', 'es', 'pt-BR']);
  });

  it('matches tags case-insensitively and by primary language', async () => {
    expect((await call(t.app, 'GET', `/api/public/portfolios/${slug}?lang=pt-br`)).json()).toMatchObject({
      language: 'pt-BR',
      summary: 'O que faço',
    });
    expect((await call(t.app, 'GET', `/api/public/portfolios/${slug}?lang=pt`)).json()).toMatchObject({
      language: 'pt-BR',
      title: 'Trabalho',
    });
    expect((await call(t.app, 'GET', `/api/public/portfolios/${slug}?lang=es-MX`)).json()).toMatchObject({
      language: 'es',
      title: 'Trabajo',
    });
    expect((await call(t.app, 'GET', `/api/public/portfolios/${slug}?lang=de`)).json()).toMatchObject({
      language: 'de',
      title: 'Work',
    });
  });

  it('answers in the default language when the requested one is absent or not asked for', async () => {
    for (const query of ['?lang=fr', '']) {
      const body = (await call(t.app, 'GET', `/api/public/portfolios/${slug}${query}`)).json();
      expect(body).toMatchObject({ language: 'en', title: 'Work', summary: 'What I do' });
      expect(body.projects[0].description).toBe('Parses things');
    }
  });

  it('rejects a lang that is not a language tag', async () => {
    const res = await call(t.app, 'GET', `/api/public/portfolios/${slug}?lang=${encodeURIComponent('<script>')}`);
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('VALIDATION_FAILED');
  });
});

describe('fallback chains of the site languages', () => {
  it('resolves each field along the chain pt-BR -> pt -> es, then the site default, then the plain text', async () => {
    const admin = await createUser(t.app, { role: 'admin' });
    for (const [code, fallback] of [
      ['es', []],
      ['de', []],
      ['pt', ['es']],
      ['pt-BR', ['pt']],
    ] as const) {
      const res = await call(t.app, 'POST', '/api/admin/languages', { as: admin, body: { code, fallback } });
      expect(res.statusCode, res.body).toBe(201);
    }
    // The plain fields are German; the site default is English.
    const p = await createPortfolio(t.app, owner, { visibility: 'public', published: true, defaultLanguage: 'de' });
    await createChild(t.app, owner, p.id, 'experiences', {
      title: 'Ingenieurin',
      organization: 'Firma',
      description: 'Beschreibung',
      startYear: 2020,
      translations: {
        'pt-BR': { title: 'Engenheira (BR)' },
        pt: { organization: 'Empresa' },
        es: { description: 'Descripción' },
        en: { title: 'Engineer', organization: 'Company', description: 'Description' },
      },
    });
    const read = async (lang: string) =>
      (
        (await call(t.app, 'GET', `/api/public/portfolios/${p.slug}?lang=${lang}`)).json().experiences as Record<
          string,
          unknown
        >[]
      )[0];
    // Field by field: each from the first language of the chain that has it.
    expect(await read('pt-BR')).toMatchObject({
      title: 'Engenheira (BR)',
      organization: 'Empresa',
      description: 'Descripción',
    });
    expect(await read('pt')).toMatchObject({ title: 'Engineer', organization: 'Empresa', description: 'Descripción' });
    // A language without a chain falls back to the site default (en), not straight to the plain text.
    expect(await read('es')).toMatchObject({ title: 'Engineer', organization: 'Company', description: 'Descripción' });
    // The plain language itself reads the plain fields.
    expect(await read('de')).toMatchObject({
      title: 'Ingenieurin',
      organization: 'Firma',
      description: 'Beschreibung',
    });
  });
});

describe('the default portfolio', () => {
  it('is 404 until one is marked, published and public; then it is served, and follows the flag', async () => {
    const a = await createPortfolio(t.app, owner, { title: 'Site A', translations: { es: { title: 'Sitio A' } } });
    // Not a slug lookup: no portfolio can even be called "default".
    expect((await call(t.app, 'GET', '/api/public/portfolios/default')).statusCode).toBe(404);
    await call(t.app, 'PATCH', `/api/portfolios/${a.id}`, { as: editor, body: { isDefault: true } });
    expect((await call(t.app, 'GET', '/api/public/portfolios/default')).statusCode).toBe(404);
    await call(t.app, 'PATCH', `/api/portfolios/${a.id}`, {
      as: owner,
      body: { visibility: 'public', published: true },
    });
    const res = await call(t.app, 'GET', '/api/public/portfolios/default?lang=es');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ slug: a.slug, title: 'Sitio A', language: 'es' });

    const b = await createPortfolio(t.app, owner, { title: 'Site B', visibility: 'public', published: true });
    await call(t.app, 'PATCH', `/api/portfolios/${b.id}`, { as: editor, body: { isDefault: true } });
    expect((await call(t.app, 'GET', '/api/public/portfolios/default')).json().title).toBe('Site B');
    await call(t.app, 'DELETE', `/api/portfolios/${b.id}`, { as: owner });
    expect((await call(t.app, 'GET', '/api/public/portfolios/default')).statusCode).toBe(404);
  });
});
