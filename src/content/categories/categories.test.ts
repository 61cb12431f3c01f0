/**
 * Categories and relations (issue 17 items 3 and 4) over HTTP: who may read and write the
 * taxonomy, hostile bodies, categoryIds/skillIds/projectId pointing at what is not there or not
 * the caller's, and what the public read shows (names in the reader's language, skill objects,
 * sections under their project, ?category=).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createChild } from '../../../test/content-helpers.js';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.js';
import { createPortfolio, createUser, type TestUser } from '../../../test/helpers/factories.js';

let t: TestApp;
let admin: TestUser;
let editor: TestUser;
let user: TestUser;
let other: TestUser;

beforeAll(async () => {
  t = await buildTestApp();
  admin = await createUser(t.app, { role: 'admin' });
  editor = await createUser(t.app, { role: 'editor' });
  user = await createUser(t.app);
  other = await createUser(t.app);
  for (const code of ['es', 'fr']) {
    const res = await call(t.app, 'POST', '/api/admin/languages', { as: admin, body: { code } });
    expect(res.statusCode, res.body).toBe(201);
  }
  await call(t.app, 'PATCH', '/api/admin/languages/fr', { as: admin, body: { enabled: false } });
});
afterAll(async () => {
  await t.close();
});

let seq = 0;
async function category(typeCode = 'topic', body: Record<string, unknown> = {}) {
  if (typeCode === 'topic' && !(await t.app.categories.repo.getType('topic'))) {
    expect(
      (await call(t.app, 'POST', '/api/category-types', { as: admin, body: { code: 'topic', name: 'Topic' } }))
        .statusCode,
    ).toBe(201);
  }
  const res = await call(t.app, 'POST', '/api/categories', {
    as: editor,
    body: { code: `c-${++seq}`, typeCode, name: `Category ${seq}`, ...body },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<{ id: string; code: string; name: string }>();
}

const problem = (res: { statusCode: number; json: () => unknown }) => [
  res.statusCode,
  (res.json() as { code: string }).code,
];

describe('who may read and write categories', () => {
  it('anonymous: 401 on every route', async () => {
    const c = await category();
    for (const [method, url] of [
      ['GET', '/api/category-types'],
      ['POST', '/api/category-types'],
      ['GET', '/api/categories'],
      ['POST', '/api/categories'],
      ['GET', `/api/categories/${c.id}`],
      ['PATCH', `/api/categories/${c.id}`],
      ['DELETE', `/api/categories/${c.id}`],
    ] as const) {
      const res = await call(t.app, method, url, {
        body: method === 'GET' || method === 'DELETE' ? undefined : { name: 'x' },
      });
      expect(res.statusCode, `${method} ${url}`).toBe(401);
    }
  });

  it('a plain user reads but cannot write (403, before the body is looked at); editor and admin write', async () => {
    const c = await category();
    for (const as of [user, editor, admin]) {
      expect((await call(t.app, 'GET', '/api/category-types', { as })).statusCode).toBe(200);
      expect((await call(t.app, 'GET', '/api/categories?type=topic', { as })).statusCode).toBe(200);
      expect((await call(t.app, 'GET', `/api/categories/${c.id}`, { as })).statusCode).toBe(200);
    }
    expect(
      problem(await call(t.app, 'POST', '/api/category-types', { as: user, body: { code: 'x', name: 'X' } })),
    ).toEqual([403, 'FORBIDDEN']);
    expect(problem(await call(t.app, 'POST', '/api/categories', { as: user, body: { nonsense: true } }))).toEqual([
      403,
      'FORBIDDEN',
    ]);
    expect(
      problem(await call(t.app, 'PATCH', `/api/categories/${c.id}`, { as: user, body: { name: 'Mine' } })),
    ).toEqual([403, 'FORBIDDEN']);
    expect(problem(await call(t.app, 'DELETE', `/api/categories/${c.id}`, { as: user }))).toEqual([403, 'FORBIDDEN']);
    expect(
      (await call(t.app, 'PATCH', `/api/categories/${c.id}`, { as: editor, body: { name: 'Renamed' } })).json().name,
    ).toBe('Renamed');
    expect((await call(t.app, 'DELETE', `/api/categories/${c.id}`, { as: admin })).statusCode).toBe(204);
    expect(problem(await call(t.app, 'GET', `/api/categories/${c.id}`, { as: user }))).toEqual([404, 'NOT_FOUND']);
  });

  it('lists filter by ?type=, and skill types are a category type', async () => {
    const res = await call(t.app, 'GET', '/api/categories?type=skill-type', { as: user });
    expect(
      res
        .json()
        .items.map((c: { code: string }) => c.code)
        .sort(),
    ).toEqual(['language', 'other', 'soft', 'technical', 'tool']);
  });
});

describe('hostile category bodies', () => {
  it.each([
    ['unknown field', { code: 'a', typeCode: 'topic', name: 'A', extra: 1 }, 'VALIDATION_FAILED'],
    ['wrong type', { code: 'a', typeCode: 'topic', name: 42 }, 'VALIDATION_FAILED'],
    ['bad code', { code: 'A B', typeCode: 'topic', name: 'A' }, 'VALIDATION_FAILED'],
    ['unknown type', { code: 'a', typeCode: 'nope', name: 'A' }, 'UNKNOWN_CATEGORY_TYPE'],
    [
      'a language that is not enabled',
      { code: 'a1', typeCode: 'topic', name: 'A', translations: { fr: { name: 'Le A' } } },
      'LANGUAGE_NOT_ENABLED',
    ],
    [
      'a language that does not exist',
      { code: 'a2', typeCode: 'topic', name: 'A', translations: { de: { name: 'Das A' } } },
      'LANGUAGE_NOT_ENABLED',
    ],
    [
      'the site default as a translation',
      { code: 'a3', typeCode: 'topic', name: 'A', translations: { en: { name: 'A' } } },
      'VALIDATION_FAILED',
    ],
  ])('%s: 400', async (_name, body, code) => {
    await category();
    expect(problem(await call(t.app, 'POST', '/api/categories', { as: editor, body }))).toEqual([400, code]);
  });

  it('a code taken in its type: 409 CATEGORY_EXISTS; a type taken: 409 CATEGORY_TYPE_EXISTS', async () => {
    const c = await category();
    expect(
      problem(
        await call(t.app, 'POST', '/api/categories', {
          as: editor,
          body: { code: c.code, typeCode: 'topic', name: 'Again' },
        }),
      ),
    ).toEqual([409, 'CATEGORY_EXISTS']);
    expect(
      problem(await call(t.app, 'POST', '/api/category-types', { as: editor, body: { code: 'topic', name: 'Again' } })),
    ).toEqual([409, 'CATEGORY_TYPE_EXISTS']);
  });
});

describe('categoryIds, skillIds and projectId on content', () => {
  it('are stored in order and read back; unknown, duplicate and 10,000 ids are refused', async () => {
    const [a, b] = [await category(), await category()];
    const p = await createPortfolio(t.app, user, { categoryIds: [b.id, a.id] } as never);
    expect(p['categoryIds']).toEqual([b.id, a.id]);
    const path = `/api/portfolios/${p.id}`;
    expect(problem(await call(t.app, 'PATCH', path, { as: user, body: { categoryIds: [randomUUID()] } }))).toEqual([
      400,
      'UNKNOWN_CATEGORY',
    ]);
    expect(problem(await call(t.app, 'PATCH', path, { as: user, body: { categoryIds: [a.id, a.id] } }))).toEqual([
      400,
      'VALIDATION_FAILED',
    ]);
    expect(problem(await call(t.app, 'PATCH', path, { as: user, body: { categoryIds: ['not-a-uuid'] } }))).toEqual([
      400,
      'VALIDATION_FAILED',
    ]);
    const many = Array.from({ length: 10_000 }, () => randomUUID());
    expect(problem(await call(t.app, 'PATCH', path, { as: user, body: { categoryIds: many } }))).toEqual([
      400,
      'VALIDATION_FAILED',
    ]);
    const skill = await createChild(t.app, user, p.id, 'skills', { name: 'Go', categoryIds: [a.id] });
    expect(skill['categoryIds']).toEqual(expect.arrayContaining([a.id]));
    expect((await call(t.app, 'GET', path, { as: user })).json().categoryIds).toEqual([b.id, a.id]);
  });

  it("a project's skillIds: another portfolio's, another user's and a missing id all answer the same 400", async () => {
    const mine = await createPortfolio(t.app, user);
    const mine2 = await createPortfolio(t.app, user);
    const theirs = await createPortfolio(t.app, other);
    const ok = await createChild(t.app, user, mine.id, 'skills', { name: 'SQL' });
    const elsewhere = await createChild(t.app, user, mine2.id, 'skills', { name: 'Rust' });
    const foreign = await createChild(t.app, other, theirs.id, 'skills', { name: 'Secret' });
    const project = await createChild(t.app, user, mine.id, 'projects', { title: 'P', skillIds: [ok.id] });
    expect(project['skillIds']).toEqual([ok.id]);
    const answers = [];
    for (const id of [elsewhere.id, foreign.id, randomUUID()]) {
      const res = await call(t.app, 'PATCH', `/api/projects/${project.id}`, {
        as: user,
        body: { skillIds: [ok.id, id] },
      });
      answers.push({ status: res.statusCode, code: res.json().code, detail: res.json().detail });
    }
    expect(answers[0]).toEqual({ status: 400, code: 'SKILL_NOT_IN_PORTFOLIO', detail: expect.any(String) });
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[2]).toEqual(answers[0]);
    const many = Array.from({ length: 10_000 }, () => randomUUID());
    expect(
      problem(await call(t.app, 'PATCH', `/api/projects/${project.id}`, { as: user, body: { skillIds: many } })),
    ).toEqual([400, 'VALIDATION_FAILED']);
    expect(
      problem(
        await call(t.app, 'PATCH', `/api/projects/${project.id}`, { as: user, body: { skillIds: [ok.id, ok.id] } }),
      ),
    ).toEqual([400, 'VALIDATION_FAILED']);
    // Nothing changed.
    expect((await call(t.app, 'GET', `/api/projects/${project.id}`, { as: user })).json().skillIds).toEqual([ok.id]);
    // Moving the skill away drops the link (it would name another portfolio's skill).
    expect(
      (await call(t.app, 'PATCH', `/api/skills/${ok.id}`, { as: user, body: { portfolioId: mine2.id } })).statusCode,
    ).toBe(200);
    expect((await call(t.app, 'GET', `/api/projects/${project.id}`, { as: user })).json().skillIds).toEqual([]);
  });

  it("a section's projectId must be a project of its portfolio; the section moves with its project", async () => {
    const mine = await createPortfolio(t.app, user);
    const mine2 = await createPortfolio(t.app, user);
    const theirs = await createPortfolio(t.app, other);
    const project = await createChild(t.app, user, mine.id, 'projects', { title: 'P' });
    const elsewhere = await createChild(t.app, user, mine2.id, 'projects', { title: 'Q' });
    const foreign = await createChild(t.app, other, theirs.id, 'projects', { title: 'Secret' });
    for (const projectId of [elsewhere.id, foreign.id, randomUUID()]) {
      const res = await call(t.app, 'POST', `/api/portfolios/${mine.id}/sections`, {
        as: user,
        body: { kind: 'custom', title: 'S', projectId },
      });
      expect(problem(res)).toEqual([400, 'PROJECT_NOT_IN_PORTFOLIO']);
    }
    expect(
      problem(
        await call(t.app, 'POST', `/api/portfolios/${mine.id}/sections`, {
          as: user,
          body: { kind: 'custom', title: 'S', displayStyle: 'carousel' },
        }),
      ),
    ).toEqual([400, 'VALIDATION_FAILED']);
    const section = await createChild(t.app, user, mine.id, 'sections', {
      kind: 'custom',
      title: 'S',
      projectId: project.id,
      displayStyle: 'timeline',
    });
    expect(section).toMatchObject({ projectId: project.id, displayStyle: 'timeline' });
    expect(
      (await call(t.app, 'PATCH', `/api/projects/${project.id}`, { as: user, body: { portfolioId: mine2.id } }))
        .statusCode,
    ).toBe(200);
    expect((await call(t.app, 'GET', `/api/sections/${section.id}`, { as: user })).json()).toMatchObject({
      portfolioId: mine2.id,
      projectId: project.id,
    });
  });

  it('writing a skill type relinks its skill-type category', async () => {
    const p = await createPortfolio(t.app, user);
    const types = (await call(t.app, 'GET', '/api/categories?type=skill-type', { as: user })).json().items as {
      id: string;
      code: string;
    }[];
    const id = (code: string) => types.find((c) => c.code === code)!.id;
    const skill = await createChild(t.app, user, p.id, 'skills', { name: 'Spanish', type: 'language' });
    expect(skill['categoryIds']).toEqual([id('language')]);
    const res = await call(t.app, 'PATCH', `/api/skills/${skill.id}`, { as: user, body: { type: 'soft' } });
    expect(res.json().categoryIds).toEqual([id('soft')]);
  });
});

describe('the public read', () => {
  it('shows categories in the reader language, skills as objects, sections under their project, and filters by ?category=', async () => {
    const web = await category('topic', { name: 'Web', translations: { es: { name: 'Red' } } });
    const cli = await category('topic', { name: 'Command line' });
    const p = await createPortfolio(t.app, user, {
      published: true,
      visibility: 'public',
      categoryIds: [web.id],
    } as never);
    const skill = await createChild(t.app, user, p.id, 'skills', {
      name: 'TypeScript',
      level: 4,
      translations: { es: { name: 'TipoScript' } },
    });
    const a = await createChild(t.app, user, p.id, 'projects', {
      title: 'Site',
      categoryIds: [web.id],
      skillIds: [skill.id],
    });
    await createChild(t.app, user, p.id, 'projects', { title: 'Tool', categoryIds: [cli.id] });
    await createChild(t.app, user, p.id, 'sections', { kind: 'about', title: 'Top' });
    await createChild(t.app, user, p.id, 'sections', {
      kind: 'custom',
      title: 'Gallery',
      projectId: a.id,
      displayStyle: 'gallery',
      position: 1,
    });
    await createChild(t.app, user, p.id, 'sections', { kind: 'custom', title: 'Intro', projectId: a.id, position: 0 });

    const es = (await call(t.app, 'GET', `/api/public/portfolios/${p.slug}?lang=es`)).json();
    expect(es.categories).toEqual([{ id: web.id, code: web.code, typeCode: 'topic', name: 'Red' }]);
    expect(es.sections.map((s: { title: string }) => s.title)).toEqual(['Top']);
    const site = es.projects.find((x: { id: string }) => x.id === a.id);
    expect(site.linkedSkills).toEqual([{ id: skill.id, name: 'TipoScript', type: 'technical', level: 4 }]);
    expect(site.sections.map((s: { title: string; displayStyle: string }) => [s.title, s.displayStyle])).toEqual([
      ['Intro', 'text'],
      ['Gallery', 'gallery'],
    ]);
    expect(site.categories.map((c: { name: string }) => c.name)).toEqual(['Red']);
    const en = (await call(t.app, 'GET', `/api/public/portfolios/${p.slug}`)).json();
    expect(en.categories[0].name).toBe('Web');

    const filtered = (await call(t.app, 'GET', `/api/public/portfolios/${p.slug}?category=${cli.code}`)).json();
    expect(filtered.projects.map((x: { title: string }) => x.title)).toEqual(['Tool']);
    const none = (await call(t.app, 'GET', `/api/public/portfolios/${p.slug}?category=nothing-here`)).json();
    expect(none.projects).toEqual([]);
    // The filter is part of the cache key: the unfiltered read still has both.
    expect((await call(t.app, 'GET', `/api/public/portfolios/${p.slug}`)).json().projects).toHaveLength(2);
    expect((await call(t.app, 'GET', `/api/public/portfolios/${p.slug}?category=bad%20code`)).statusCode).toBe(400);
  });
});
