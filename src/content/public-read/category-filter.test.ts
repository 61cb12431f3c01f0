/**
 * What `?category=` on the public read matches, pinned (docs/CONTENT.md "The public read"): the
 * **code** of a category, of any type, compared case-insensitively; never its id, its name or a
 * translated name in any language of the read's chain. It keeps or drops top-level projects only
 * (a project's sections go with it); everything else in the answer (portfolio, its categories, the
 * other lists, the negotiated language) is what the unfiltered read says. An unknown code is 200
 * with no projects, a malformed one 400, and the preview read ignores the parameter.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createChild } from '../../../test/content-helpers.js';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.js';
import { createPortfolio, createUser, type TestUser } from '../../../test/helpers/factories.js';

let t: TestApp;
let admin: TestUser;
let owner: TestUser;
let slug: string;
let portfolioId: string;
const ids: Record<string, string> = {};

async function make(url: string, body: Record<string, unknown>) {
  const res = await call(t.app, 'POST', url, { as: admin, body });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<{ id: string }>();
}

beforeAll(async () => {
  t = await buildTestApp();
  admin = await createUser(t.app, { role: 'admin' });
  owner = await createUser(t.app);
  await make('/api/admin/languages', { code: 'es' });
  await make('/api/category-types', { code: 'topic', name: 'Topic' });
  await make('/api/category-types', { code: 'stack', name: 'Stack' });
  // The same code in two types, a name unlike the code, a translated name.
  ids.topicWeb = (
    await make('/api/categories', {
      code: 'web',
      typeCode: 'topic',
      name: 'Websites',
      translations: { es: { name: 'Red' } },
    })
  ).id;
  ids.stackWeb = (await make('/api/categories', { code: 'web', typeCode: 'stack', name: 'Web stack' })).id;
  ids.cli = (await make('/api/categories', { code: 'cli', typeCode: 'topic', name: 'Command line' })).id;

  const p = await createPortfolio(t.app, owner, {
    published: true,
    visibility: 'public',
    categoryIds: [ids.cli],
  } as never);
  slug = p.slug;
  portfolioId = p.id;
  const a = await createChild(t.app, owner, p.id, 'projects', { title: 'A', categoryIds: [ids.topicWeb] });
  await createChild(t.app, owner, p.id, 'projects', { title: 'B', categoryIds: [ids.stackWeb] });
  await createChild(t.app, owner, p.id, 'projects', { title: 'C', categoryIds: [ids.cli] });
  // Only D is written in Spanish: the language offer must not depend on the filter.
  await createChild(t.app, owner, p.id, 'projects', { title: 'D', translations: { es: { title: 'D (es)' } } });
  await createChild(t.app, owner, p.id, 'sections', { kind: 'custom', title: 'Inside A', projectId: a.id });
  await createChild(t.app, owner, p.id, 'sections', { kind: 'about', title: 'Top' });
  await createChild(t.app, owner, p.id, 'skills', { name: 'TypeScript', categoryIds: [ids.topicWeb] });
}, 180_000);
afterAll(async () => t.close());

const read = (query: string) => call(t.app, 'GET', `/api/public/portfolios/${slug}${query}`);
const titles = async (query: string) => {
  const res = await read(query);
  expect(res.statusCode, `${query}: ${res.body}`).toBe(200);
  return (res.json().projects as { title: string }[]).map((p) => p.title);
};

describe('?category= on the public read', () => {
  it('matches the category code, in every type at once', async () => {
    expect(await titles('')).toEqual(['A', 'B', 'C', 'D']);
    expect(await titles('?category=web')).toEqual(['A', 'B']);
    expect(await titles('?category=cli')).toEqual(['C']);
  });

  it('compares the code case-insensitively: WEB is web, the same answer and the same cache entry', async () => {
    const lower = await read('?category=web');
    const upper = await read('?category=WEB');
    expect(upper.statusCode).toBe(200);
    expect(upper.body).toBe(lower.body);
    expect(upper.headers.etag).toBe(lower.headers.etag);
  });

  it('never matches a category id, its name, or a translated name, whatever the language of the read', async () => {
    for (const query of [
      `?category=${ids.topicWeb}`,
      '?category=websites',
      '?category=Websites',
      '?category=red',
      '?category=red&lang=es',
      '?category=Red&lang=es',
      '?category=command-line',
    ]) {
      expect(await titles(query), query).toEqual([]);
    }
    // The language changes the names shown, not what the code matches.
    const es = (await read('?category=web&lang=es')).json();
    expect(es.projects.map((p: { title: string }) => p.title)).toEqual(['A', 'B']);
    expect(es.projects[0].categories).toEqual([{ id: ids.topicWeb, code: 'web', typeCode: 'topic', name: 'Red' }]);
  });

  it('an unknown code is 200 with no projects; the rest of the answer is the unfiltered one', async () => {
    const all = (await read('?lang=es')).json();
    const none = await read('?category=nothing-here&lang=es');
    expect(none.statusCode).toBe(200);
    const body = none.json();
    expect(body.projects).toEqual([]);
    // The portfolio's own categories, the other lists and the language offer are untouched:
    // the language is negotiated over every project, also the filtered-out ones (D is the only es text).
    const { projects: _a, ...restAll } = all;
    const { projects: _b, ...restNone } = body;
    expect(restNone).toEqual(restAll);
    expect(body.availableLanguages).toContain('es');
    expect(body.language).toBe('es');
    expect(body.categories.map((c: { code: string }) => c.code)).toEqual(['cli']);
    expect(body.skills).toHaveLength(1);
    // Sections inside a project go with their project; the portfolio's own stay.
    expect(body.sections.map((s: { title: string }) => s.title)).toEqual(['Top']);
    const a = (await read('?category=web')).json().projects[0];
    expect(a.sections.map((s: { title: string }) => s.title)).toEqual(['Inside A']);
    // A missing portfolio is still the one 404, filter or not.
    const missing = await call(t.app, 'GET', '/api/public/portfolios/no-such-slug?category=web');
    expect([missing.statusCode, missing.json().code]).toEqual([404, 'NOT_FOUND']);
  });

  it('a malformed code is 400 VALIDATION_FAILED before any lookup', async () => {
    for (const bad of ['web_dev', 'web%20dev', '', 'w%C3%A9b', 'a'.repeat(65), '%2E%2E%2Fweb', 'web%00']) {
      const res = await read(`?category=${bad}`);
      expect([res.statusCode, res.json().code], bad).toEqual([400, 'VALIDATION_FAILED']);
    }
  });

  it('the preview read takes the parameter and ignores it (a preview shows every project)', async () => {
    const link = await call(t.app, 'POST', `/api/portfolios/${portfolioId}/preview-links`, {
      as: owner,
      body: { expiresIn: 3600 },
    });
    expect(link.statusCode, link.body).toBe(201);
    const path = new URL(link.json<{ url: string }>().url).pathname;
    const res = await call(t.app, 'GET', `${path}?category=cli`);
    expect(res.statusCode).toBe(200);
    expect(res.json().projects.map((p: { title: string }) => p.title)).toEqual(['A', 'B', 'C', 'D']);
  });
});
