/**
 * A translator limited to `es` translates category names, and nothing else of a category: the
 * same rule as content rows (authorizeContent with the body, docs/ROLES.md). Attacked as the
 * translator would: the default language's name, another language's entry (changed, or dropped
 * by leaving it out), the slug-like code, the type, creating and deleting. An editor still does
 * everything; a translator of their own content only (portfolio:write limited) gets nothing here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../../../test/content-helpers.js';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.js';
import { createPortfolio, createUser, type TestUser } from '../../../test/helpers/factories.js';
import { contentCast, giveRoles, makeRole } from '../../../test/support/users/roles.js';

let t: TestApp;
let admin: TestUser;
let editor: TestUser;
let translator: TestUser;
let owner: TestUser;
let ownTranslator: TestUser;

beforeAll(async () => {
  t = await buildTestApp();
  admin = await createUser(t.app, { role: 'admin' });
  ({ editor, translator, owner } = await contentCast(t.app));
  expect((await call(t.app, 'POST', '/api/admin/languages', { as: admin, body: { code: 'pt' } })).statusCode).toBe(201);
  ownTranslator = await createUser(t.app);
  await makeRole(t.app, 'own-translator-es', ['portfolio:read', 'portfolio:write'], ['es']);
  await giveRoles(t.app, ownTranslator.id, ['own-translator-es']);
  expect(
    (await call(t.app, 'POST', '/api/category-types', { as: admin, body: { code: 'topic', name: 'Topic' } }))
      .statusCode,
  ).toBe(201);
});
afterAll(async () => t.close());

let seq = 0;
async function category() {
  const res = await call(t.app, 'POST', '/api/categories', {
    as: editor,
    body: { code: `web-${++seq}`, typeCode: 'topic', name: 'Web', translations: { pt: { name: 'Rede' } } },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<{ id: string; code: string; name: string; translations: Record<string, { name: string }> }>();
}

const stored = async (id: string) => (await call(t.app, 'GET', `/api/categories/${id}`, { as: editor })).json();
const patch = (who: TestUser, id: string, body: unknown) =>
  call(t.app, 'PATCH', `/api/categories/${id}`, { as: who, body });

describe('a translator limited to es, on categories', () => {
  it('sets and changes translations.es of a category, keeping the other entries as they are', async () => {
    const c = await category();
    const set = await patch(translator, c.id, { translations: { pt: { name: 'Rede' }, es: { name: 'Red' } } });
    expect(set.statusCode, set.body).toBe(200);
    expect(set.json().translations).toEqual({ pt: { name: 'Rede' }, es: { name: 'Red' } });
    const changed = await patch(translator, c.id, { translations: { pt: { name: 'Rede' }, es: { name: 'La red' } } });
    expect(changed.statusCode).toBe(200);
    expect((await stored(c.id)).translations.es).toEqual({ name: 'La red' });
  });

  it.each([
    ['translations.en (the site default language)', { translations: { pt: { name: 'Rede' }, en: { name: 'Net' } } }],
    ['another language entry changed', { translations: { pt: { name: 'Internet' }, es: { name: 'Red' } } }],
    ['another language entry dropped by leaving it out', { translations: { es: { name: 'Red' } } }],
    ['another language entry added', { translations: { pt: { name: 'Rede' }, fr: { name: 'Réseau' } } }],
    ['the base name', { name: 'Webs' }],
    [
      'the base name with its es translation',
      { name: 'Webs', translations: { pt: { name: 'Rede' }, es: { name: 'Red' } } },
    ],
    ['the code', { code: 'net' }],
    ['the type', { typeCode: 'skill-type' }],
  ])('PATCH changing %s → 403 FORBIDDEN, nothing changes', async (_what, body) => {
    const c = await category();
    const before = await stored(c.id);
    const res = await patch(translator, c.id, body);
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('FORBIDDEN');
    expect(await stored(c.id)).toEqual(before);
  });

  it('cannot delete a category nor create one or a type (403, before the body is looked at)', async () => {
    const c = await category();
    for (const url of [`/api/categories/${c.id}`, `/api/categories/${c.id}?force=true`]) {
      const res = await call(t.app, 'DELETE', url, { as: translator });
      expect(res.statusCode).toBe(403);
      expect(res.json().code).toBe('FORBIDDEN');
    }
    expect((await call(t.app, 'POST', '/api/categories', { as: translator, body: { nonsense: 1 } })).statusCode).toBe(
      403,
    );
    expect(
      (await call(t.app, 'POST', '/api/category-types', { as: translator, body: { nonsense: 1 } })).statusCode,
    ).toBe(403);
    expect((await stored(c.id)).id).toBe(c.id);
  });

  it('a missing category is 404; an unknown field is 400 (the translator passes the route guard only for PATCH)', async () => {
    const missing = await patch(translator, '01900000-0000-7000-8000-000000000000', {
      translations: { es: { name: 'Red' } },
    });
    expect(missing.statusCode).toBe(404);
    const c = await category();
    expect((await patch(translator, c.id, { translations: { es: { name: 'Red' } }, extra: 1 })).statusCode).toBe(400);
  });

  it('a translator of their own content only (portfolio:write limited to es) gets 403 before the body', async () => {
    const c = await category();
    const res = await patch(ownTranslator, c.id, { translations: { pt: { name: 'Rede' }, es: { name: 'Red' } } });
    expect(res.statusCode).toBe(403);
    expect((await stored(c.id)).translations).toEqual({ pt: { name: 'Rede' } });
  });

  it("visitors reading es see the translator's name", async () => {
    const c = await category();
    const p = await createPortfolio(t.app, owner, {
      published: true,
      visibility: 'public',
      translations: { es: { title: 'Trabajo' } },
    });
    expect(
      (await call(t.app, 'PATCH', `/api/portfolios/${p.id}`, { as: owner, body: { categoryIds: [c.id] } })).statusCode,
    ).toBe(200);
    const read = async () =>
      (await call(t.app, 'GET', `/api/public/portfolios/${p.slug}?lang=es`)).json().categories as { name: string }[];
    expect((await read())[0]?.name).toBe('Web');
    expect(
      (await patch(translator, c.id, { translations: { pt: { name: 'Rede' }, es: { name: 'Red' } } })).statusCode,
    ).toBe(200);
    expect((await read())[0]?.name).toBe('Red');
  });
});

describe('an editor, on the same categories', () => {
  it('still changes everything and deletes', async () => {
    const c = await category();
    const res = await patch(editor, c.id, {
      name: 'Webs',
      code: `webs-${seq}`,
      translations: { es: { name: 'Red' }, pt: { name: 'Internet' } },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ name: 'Webs', translations: { es: { name: 'Red' }, pt: { name: 'Internet' } } });
    expect((await call(t.app, 'DELETE', `/api/categories/${c.id}`, { as: editor })).statusCode).toBe(204);
  });
});
