/**
 * Preview-link housekeeping: an expired link's row is kept PREVIEW_LINK_RETENTION_MS (30 days)
 * after its expiry, then deleted, in every portfolio; live links and links within the grace stay.
 * A revoked link's row is deleted at once (revoking is deleting). Dead links stay dead meanwhile.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../../../test/content-helpers.js';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.js';
import { createPortfolio, createUser, type TestUser } from '../../../test/helpers/factories.js';
import { PREVIEW_LINK_RETENTION_MS } from './service.js';

let t: TestApp;
let owner: TestUser;
beforeAll(async () => {
  t = await buildTestApp();
  owner = await createUser(t.app);
});
afterAll(async () => t.close());

const DAY = 86_400_000;

async function makeLink(portfolioId: string, expiresIn: number) {
  const res = await call(t.app, 'POST', `/api/portfolios/${portfolioId}/preview-links`, {
    as: owner,
    body: { expiresIn },
  });
  expect(res.statusCode, res.body).toBe(201);
  const body = res.json<{ id: string; url: string }>();
  return { id: body.id, path: new URL(body.url).pathname };
}
const rows = async () =>
  (await t.deps.db.query<{ id: string }>(`select id from preview_links order by id`)).map((r) => r.id);

describe('preview-link housekeeping', () => {
  it('deletes links expired more than 30 days ago in every portfolio, keeps live ones and ones within the grace', async () => {
    expect(PREVIEW_LINK_RETENTION_MS).toBe(30 * DAY);
    const p = await createPortfolio(t.app, owner);
    const q = await createPortfolio(t.app, owner);
    const short = await makeLink(p.id, 60);
    const elsewhere = await makeLink(q.id, 60);
    const hour = await makeLink(p.id, 3600);
    const week = await makeLink(p.id, 7 * 86_400);
    const revoked = await makeLink(p.id, 3600);
    expect(
      (await call(t.app, 'DELETE', `/api/portfolios/${p.id}/preview-links/${revoked.id}`, { as: owner })).statusCode,
    ).toBe(204);
    expect(await rows()).not.toContain(revoked.id);

    t.clock.advance(30 * DAY + 120_000);
    // Every one of them is dead already; the rows within the grace are kept, not served.
    for (const link of [short, elsewhere, hour, week])
      expect((await t.app.inject({ method: 'GET', url: link.path })).statusCode).toBe(404);
    // A new link sweeps its portfolio's rows past the grace (short), not those within it.
    // (Through the service: the owner's access token ran out with the clock.)
    const actor = { userId: owner.id, roles: ['user'], permissions: new Set(['portfolio:read', 'portfolio:write']) };
    const fresh = await t.app.contentPreview.create(actor, p.id, 3600, { ip: null, userAgent: null, requestId: null });
    expect(await rows()).toEqual([elsewhere.id, hour.id, week.id, fresh.id].sort());

    // Housekeeping sweeps every portfolio: the other one's link past the grace goes.
    expect(await t.app.contentPreview.deleteStale()).toBe(1);
    expect(await rows()).toEqual([hour.id, week.id, fresh.id].sort());

    t.clock.advance(7 * DAY);
    expect(await t.app.contentPreview.deleteStale()).toBe(2); // hour and week; fresh expired 7 days ago
    expect(await rows()).toEqual([fresh.id]);
    expect(await t.app.contentPreview.deleteStale()).toBe(0);
  });
});
