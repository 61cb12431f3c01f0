/**
 * A role limited to languages, attacked by the translator holding it: limited to `es`, they can
 * change the `es` translations of any portfolio and child, and nothing else: not the default
 * language's text (the plain fields), not another language (changed or dropped), not the
 * structure (create, delete, move, reorder), not media, not publication. The one check is
 * authorizeContent in src/users/policy.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../test/helpers/app.js';
import { createPortfolio, createUser, type TestUser } from '../../test/helpers/factories.js';
import { multipart, png } from '../../test/support/uploads/helpers.js';
import { giveRoles, makeRole } from '../../test/support/users/roles.js';

let t: TestApp;
let owner: TestUser;
let translator: TestUser;
let portfolioId: string;
let projectId: string;
const es = { title: 'Mi trabajo' };
const fr = { title: 'Mon travail' };

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';
const call = (method: Method, url: string, who: TestUser, payload?: unknown) =>
  t.app.inject({
    method,
    url,
    headers: who.auth,
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });

beforeAll(async () => {
  t = await buildTestApp({ UPLOAD_SCAN: 'off' });
  owner = await createUser(t.app);
  translator = await createUser(t.app);
  await makeRole(t.app, 'translator-es', ['content:read_any', 'content:write_any'], ['es']);
  await giveRoles(t.app, translator.id, ['translator-es']);
  const p = await createPortfolio(t.app, owner, { title: 'My work', translations: { es, fr } });
  portfolioId = p.id;
  const project = await call('POST', `/api/portfolios/${portfolioId}/projects`, owner, {
    title: 'Compiler',
    translations: { es: { title: 'Compilador' }, fr: { title: 'Compilateur' } },
  });
  expect(project.statusCode).toBe(201);
  projectId = project.json().id;
});
afterAll(async () => t.close());

async function portfolio() {
  return (await call('GET', `/api/portfolios/${portfolioId}`, owner)).json();
}

describe('a translator limited to es', () => {
  it('reads the content it translates, in every language', async () => {
    const res = await call('GET', `/api/portfolios/${portfolioId}`, translator);
    expect(res.statusCode).toBe(200);
    expect(res.json().translations).toEqual({ es, fr });
  });

  it('changes the es translation of the portfolio and of a child', async () => {
    const res = await call('PATCH', `/api/portfolios/${portfolioId}`, translator, {
      translations: { es: { title: 'Mi obra', summary: 'Resumen' }, fr },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().translations.es).toEqual({ title: 'Mi obra', summary: 'Resumen' });
    const child = await call('PATCH', `/api/projects/${projectId}`, translator, {
      translations: { es: { title: 'Compilador 2' }, fr: { title: 'Compilateur' } },
    });
    expect(child.statusCode).toBe(200);
    expect(child.json().translations.es.title).toBe('Compilador 2');
  });

  it.each([
    ['the en text (a plain field)', { title: 'Hacked' }],
    ['the en text alongside es', { title: 'Hacked', translations: { es: { title: 'x' }, fr } }],
    ['another language (fr)', { translations: { es: { title: 'Mi obra' }, fr: { title: 'Piraté' } } }],
    ['another language, dropped by omission', { translations: { es: { title: 'Mi obra' } } }],
    ['a new language (de)', { translations: { es: { title: 'Mi obra' }, fr, de: { title: 'Gehackt' } } }],
    ['publication', { published: true }],
    ['visibility', { visibility: 'public' }],
    ['the slug', { slug: 'hijacked' }],
    ['the default language', { defaultLanguage: 'es' }],
    ['the site default', { isDefault: true }],
  ])('cannot change %s of the portfolio', async (_what, body) => {
    const before = await portfolio();
    const res = await call('PATCH', `/api/portfolios/${portfolioId}`, translator, body);
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('FORBIDDEN');
    const after = await portfolio();
    expect({ ...after, updatedAt: null }).toEqual({ ...before, updatedAt: null });
  });

  it.each([
    ['its en text', { title: 'Hacked' }],
    ['its position (structure)', { position: 7 }],
    ['its portfolio (a move)', { portfolioId: '0190a6d4-0000-7000-8000-000000000000' }],
    ['its fr text', { translations: { es: { title: 'Compilador 2' }, fr: { title: 'x' } } }],
  ])('cannot change %s of a child', async (_what, body) => {
    const res = await call('PATCH', `/api/projects/${projectId}`, translator, body);
    expect(res.statusCode).toBe(403);
    const project = (await call('GET', `/api/projects/${projectId}`, owner)).json();
    expect(project).toMatchObject({ title: 'Compiler', position: 0, portfolioId });
    expect(project.translations.fr).toEqual({ title: 'Compilateur' });
  });

  it('cannot change the structure: create, delete a child, create or delete a portfolio', async () => {
    expect(
      (await call('POST', `/api/portfolios/${portfolioId}/projects`, translator, { title: 'Injected' })).statusCode,
    ).toBe(403);
    expect((await call('DELETE', `/api/projects/${projectId}`, translator)).statusCode).toBe(403);
    expect((await call('DELETE', `/api/portfolios/${portfolioId}`, translator)).statusCode).toBe(403);
    expect(
      (await call('POST', '/api/portfolios', translator, { title: 'Mine', slug: 'translator-own' })).statusCode,
    ).toBe(403);
    expect((await call('GET', `/api/projects/${projectId}`, owner)).statusCode).toBe(200);
  });

  it('cannot upload media to the portfolio or a project', async () => {
    const { body, headers } = multipart(
      { category: 'gallery' },
      { name: 'x.png', type: 'image/png', data: await png() },
    );
    for (const url of [`/api/portfolios/${portfolioId}/media`, `/api/projects/${projectId}/media`]) {
      const res = await t.app.inject({
        method: 'POST',
        url,
        headers: { ...translator.auth, ...headers },
        payload: body,
      });
      expect(res.statusCode, url).toBe(403);
    }
  });

  it('the limit follows the role: lifted, the same token may edit the en text; set again, it may not', async () => {
    const admin = await createUser(t.app, { role: 'admin' });
    expect((await call('PATCH', '/api/admin/roles/translator-es', admin, { languages: null })).statusCode).toBe(200);
    expect(
      (await call('PATCH', `/api/portfolios/${portfolioId}`, translator, { summary: 'Edited by the editor' }))
        .statusCode,
    ).toBe(200);
    expect((await call('PATCH', '/api/admin/roles/translator-es', admin, { languages: ['es'] })).statusCode).toBe(200);
    expect((await call('PATCH', `/api/portfolios/${portfolioId}`, translator, { summary: 'Again' })).statusCode).toBe(
      403,
    );
  });
});
