/**
 * Keyset pagination: walking with `nextCursor` visits every item exactly once and in order, even
 * when positions tie; a cursor is opaque client input, so a tampered one (bad base64, wrong shape,
 * a non-uuid id that would otherwise reach SQL as a cast error) is a 400 INVALID_CURSOR, never a 500.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../test/helpers/app.js';
import { createPortfolio, createUser, type TestUser } from '../../test/helpers/factories.js';
import { CHILD_SAMPLES, call, createChild } from '../../test/content-helpers.js';

let t: TestApp;
let owner: TestUser;
let portfolioId: string;
const portfolioIds: string[] = [];
const projectIds: string[] = [];

async function walk(user: TestUser, url: string, limit: number): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const sep = url.includes('?') ? '&' : '?';
    const res = await call(t.app, 'GET', `${url}${sep}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`, { as: user });
    expect(res.statusCode, res.body).toBe(200);
    const page = res.json<{ items: { id: string }[]; nextCursor: string | null }>();
    expect(page.items.length).toBeLessThanOrEqual(limit);
    ids.push(...page.items.map((i) => i.id));
    cursor = page.nextCursor;
    pages += 1;
    expect(pages).toBeLessThan(50);
  } while (cursor);
  return { ids, pages };
}

beforeAll(async () => {
  t = await buildTestApp();
  owner = await createUser(t.app);
  for (let i = 0; i < 7; i += 1) portfolioIds.push((await createPortfolio(t.app, owner)).id);
  portfolioId = portfolioIds[0] ?? '';
  // Positions 0,0,0,1,1,2,2,2,3 (ties on purpose) plus appended ones: order is (position, id).
  for (const position of [2, 0, 1, 0, 2, 3, 1, 0, 2]) {
    projectIds.push((await createChild(t.app, owner, portfolioId, 'projects', { title: `p${position}`, position })).id);
  }
});
afterAll(async () => {
  await t.close();
});

describe('portfolio list', () => {
  it.each([1, 2, 3, 7, 100])('walks all items exactly once with limit=%i', async (limit) => {
    const { ids, pages } = await walk(owner, '/api/portfolios', limit);
    expect(ids).toEqual(portfolioIds);
    expect(pages).toBe(Math.max(1, Math.ceil(portfolioIds.length / limit)));
  });

  it('defaults to 20 and rejects limits outside 1-100', async () => {
    const res = await call(t.app, 'GET', '/api/portfolios', { as: owner });
    expect(res.json().nextCursor).toBeNull();
    for (const limit of ['0', '101', '-1', 'abc']) {
      const bad = await call(t.app, 'GET', `/api/portfolios?limit=${limit}`, { as: owner });
      expect(bad.statusCode, limit).toBe(400);
      expect(bad.json().code).toBe('VALIDATION_FAILED');
    }
  });
});

describe('child lists', () => {
  it.each([1, 2, 4, 9, 20])('walks projects in (position, id) order exactly once with limit=%i', async (limit) => {
    const all = (await call(t.app, 'GET', `/api/portfolios/${portfolioId}/projects?limit=100`, { as: owner })).json();
    const expected = [...all.items]
      .sort((a: { position: number; id: string }, b: { position: number; id: string }) => a.position - b.position || (a.id < b.id ? -1 : 1))
      .map((p: { id: string }) => p.id);
    expect(new Set(expected)).toEqual(new Set(projectIds));
    const { ids } = await walk(owner, `/api/portfolios/${portfolioId}/projects`, limit);
    expect(ids).toEqual(expected);
  });

  it.each(CHILD_SAMPLES)('$path lists page the same way', async ({ path, body }) => {
    const p = await createPortfolio(t.app, owner);
    const created: string[] = [];
    for (let i = 0; i < 5; i += 1) created.push((await createChild(t.app, owner, p.id, path, body)).id);
    const { ids, pages } = await walk(owner, `/api/portfolios/${p.id}/${path}`, 2);
    expect(ids).toEqual(created);
    expect(pages).toBe(3);
  });
});

describe('tampered cursors', () => {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const cases: [string, string][] = [
    ['not base64 json', 'bm90IGpzb24'],
    ['wrong shape', b64({ id: 1 })],
    ['too many values', b64([1, 2, 3])],
    ['non-uuid id', b64(['not-a-uuid'])],
    ['sql in the id', b64(["' or 1=1 --"])],
  ];
  it.each(cases)('portfolio list: %s → 400 INVALID_CURSOR', async (_name, cursor) => {
    const res = await call(t.app, 'GET', `/api/portfolios?cursor=${cursor}`, { as: owner });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('INVALID_CURSOR');
  });

  const childCases: [string, string][] = [
    ['swapped types', b64(['00000000-0000-7000-8000-000000000000', 1])],
    ['non-uuid id', b64([1, 'x'])],
    ['huge position', b64([2 ** 40, '00000000-0000-7000-8000-000000000000'])],
    ['fraction', b64([1.5, '00000000-0000-7000-8000-000000000000'])],
    ['portfolio cursor', b64(['00000000-0000-7000-8000-000000000000'])],
  ];
  it.each(childCases)('child list: %s → 400 INVALID_CURSOR', async (_name, cursor) => {
    const res = await call(t.app, 'GET', `/api/portfolios/${portfolioId}/projects?cursor=${cursor}`, { as: owner });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('INVALID_CURSOR');
  });

  it('a cursor with characters outside base64url fails validation', async () => {
    const res = await call(t.app, 'GET', `/api/portfolios?cursor=${encodeURIComponent('a+b/c=')}`, { as: owner });
    expect(res.statusCode).toBe(400);
  });
});
