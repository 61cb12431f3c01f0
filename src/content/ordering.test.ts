/**
 * Bulk ordering: PUT /api/portfolios/:id/<kind>/order {ids}, attacked as a client would. For each
 * of the five kinds the ids must be exactly the portfolio's current rows: a missing, extra,
 * repeated id, another portfolio's or another user's id, or 10,000 ids is a 400 with a stable
 * code (never a 500) and changes nothing. Another user's portfolio is 404, a translator 403,
 * anonymous 401; an editor may reorder anyone's. One transaction, one public-read touch.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CHILD_SAMPLES, call, createChild } from '../../test/content-helpers.js';
import { buildTestApp, type TestApp } from '../../test/helpers/app.js';
import { createPortfolio, type TestUser } from '../../test/helpers/factories.js';
import { contentCast } from '../../test/support/users/roles.js';
import { newId } from '../platform/ids.js';

let t: TestApp;
let owner: TestUser;
let other: TestUser;
let editor: TestUser;
let translator: TestUser;

beforeAll(async () => {
  t = await buildTestApp();
  ({ owner, other, editor, translator } = await contentCast(t.app));
});
afterAll(async () => t.close());

const put = (url: string, as: TestUser | undefined, body: unknown) =>
  t.app.inject({ method: 'PUT', url, headers: as ? as.auth : {}, payload: body as Record<string, unknown> });

async function withChildren(as: TestUser, path: string, body: Record<string, unknown>, n = 3) {
  const p = await createPortfolio(t.app, as, { published: true, visibility: 'public' });
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await createChild(t.app, as, p.id, path, body)).id);
  return { portfolio: p, ids };
}

async function order(portfolioId: string, path: string): Promise<{ id: string; position: number }[]> {
  const res = await call(t.app, 'GET', `/api/portfolios/${portfolioId}/${path}?limit=100`, { as: owner });
  return res.json<{ items: { id: string; position: number }[] }>().items;
}

describe.each(CHILD_SAMPLES)('PUT /api/portfolios/:id/$path/order', ({ path, body }) => {
  it('sets positions 0..n-1 in the given order, and the public read follows', async () => {
    const { portfolio, ids } = await withChildren(owner, path, body, 4);
    const wanted = [ids[2]!, ids[0]!, ids[3]!, ids[1]!];
    const res = await put(`/api/portfolios/${portfolio.id}/${path}/order`, owner, { ids: wanted });
    expect(res.statusCode).toBe(200);
    expect(res.json().items.map((c: { id: string; position: number }) => [c.id, c.position])).toEqual(
      wanted.map((id, i) => [id, i]),
    );
    expect((await order(portfolio.id, path)).map((c) => c.id)).toEqual(wanted);
    const pub = await call(t.app, 'GET', `/api/public/portfolios/${portfolio.slug}`);
    expect(pub.json()[path].map((c: { id: string }) => c.id)).toEqual(wanted);
  });

  it('refuses anything but exactly the current set, with ORDER_MISMATCH or VALIDATION_FAILED, and changes nothing', async () => {
    const { portfolio, ids } = await withChildren(owner, path, body, 3);
    const mine = await withChildren(owner, path, body, 1); // another portfolio of the same owner
    const theirs = await withChildren(other, path, body, 1); // another user's
    const before = await order(portfolio.id, path);
    const url = `/api/portfolios/${portfolio.id}/${path}/order`;
    const [a, b, c] = ids as [string, string, string];
    const mismatches = [
      [a, b], // missing
      [a, b, c, mine.ids[0]], // another portfolio's
      [a, b, theirs.ids[0]], // another user's, in place of one
      [a, b, c, theirs.ids[0]], // another user's, extra
      [a, b, c, newId()], // unknown
      [a, b, c, a], // duplicate
      [a, a, b], // duplicate in place of one
      [a.toUpperCase(), b, b.toUpperCase()], // duplicate in another spelling
      [],
    ];
    for (const list of mismatches) {
      const res = await put(url, owner, { ids: list });
      expect(res.statusCode, JSON.stringify(list)).toBe(400);
      expect(res.json().code).toBe('ORDER_MISMATCH');
    }
    const hostile: unknown[] = [
      { ids: Array.from({ length: 10_000 }, () => newId()) },
      { ids: [...ids, ...Array.from({ length: 9_997 }, () => a)] },
      { ids: [a, b, c], extra: true },
      { ids: 'a,b,c' },
      { ids: [1, 2, 3] },
      { ids: [a, b, 'not-a-uuid'] },
      { ids: [a, b, null] },
      {},
      [a, b, c],
    ];
    for (const payload of hostile) {
      const res = await put(url, owner, payload);
      expect(res.statusCode).toBe(400);
      expect(res.json().code).toBe('VALIDATION_FAILED');
    }
    expect(await order(portfolio.id, path)).toEqual(before);
  });

  it("answers 404 for another user's portfolio, 403 to a translator, 401 anonymously; an editor may", async () => {
    const { portfolio, ids } = await withChildren(owner, path, body, 2);
    const url = `/api/portfolios/${portfolio.id}/${path}/order`;
    const reversed = [...ids].reverse();
    const notYours = await put(url, other, { ids: reversed });
    expect(notYours.statusCode).toBe(404);
    expect(notYours.json().code).toBe('NOT_FOUND');
    expect((await put(`/api/portfolios/${newId()}/${path}/order`, owner, { ids: reversed })).statusCode).toBe(404);
    const translated = await put(url, translator, { ids: reversed });
    expect(translated.statusCode).toBe(403);
    expect(translated.json().code).toBe('FORBIDDEN');
    expect((await put(url, undefined, { ids: reversed })).statusCode).toBe(401);
    expect((await order(portfolio.id, path)).map((c) => c.id)).toEqual(ids);
    expect((await put(url, editor, { ids: reversed })).statusCode).toBe(200);
    expect((await order(portfolio.id, path)).map((c) => c.id)).toEqual(reversed);
  });
});

describe('one reorder', () => {
  it('touches the public read once, and a refused one not at all', async () => {
    const { portfolio, ids } = await withChildren(owner, 'skills', { name: 'Go' }, 5);
    const touch = vi.spyOn(t.app.content.publicChanges, 'touch');
    try {
      const ok = await put(`/api/portfolios/${portfolio.id}/skills/order`, owner, { ids: [...ids].reverse() });
      expect(ok.statusCode).toBe(200);
      expect(touch).toHaveBeenCalledTimes(1);
      expect(touch.mock.calls[0]?.[1]).toEqual([portfolio.id]);
      const bad = await put(`/api/portfolios/${portfolio.id}/skills/order`, owner, { ids: ids.slice(1) });
      expect(bad.statusCode).toBe(400);
      expect(touch).toHaveBeenCalledTimes(1);
    } finally {
      touch.mockRestore();
    }
  });
});
