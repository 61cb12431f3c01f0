/**
 * Signed links are capabilities: whoever holds one may fetch that one file, that way, until it
 * expires, and nothing else. Tried here: a flipped signature byte, a changed expiry, variant or
 * disposition, a link replayed for another media id, an expired link (410, only when genuine),
 * an unknown key id, a forged link from another key; and key rotation (an old key still works
 * until its links expire). The checks are constant-time (timingSafeEqual over fixed lengths).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../../../test/helpers/app.js';
import { createPortfolio, createUser, type TestUser } from '../../../test/helpers/factories.js';
import { UrlSigner } from './signing.js';
import { png, upload, uploadTestApp } from '../../../test/support/uploads/helpers.js';

let t: TestApp;
let owner: TestUser;
let a: string;
let b: string;

beforeAll(async () => {
  t = await uploadTestApp({
    UPLOAD_SIGNING_KEY: 'k'.repeat(40),
    UPLOAD_SIGNING_KEY_ID: 'k2',
    UPLOAD_SIGNING_OLD_KEYS: `k1:${'o'.repeat(40)}`,
  });
  owner = await createUser(t.app);
  const p = await createPortfolio(t.app, owner);
  a = (
    await upload(t.app, owner, { portfolioId: p.id }, { name: 'a.png', type: 'image/png', data: await png() })
  ).json().id;
  b = (
    await upload(t.app, owner, { portfolioId: p.id }, { name: 'b.png', type: 'image/png', data: await png(10, 10) })
  ).json().id;
});
afterAll(async () => {
  await t.close();
});

async function linkOf(id: string, query = ''): Promise<URL> {
  const res = await t.app.inject({ method: 'GET', url: `/api/media/${id}/url${query}`, headers: owner.auth });
  expect(res.statusCode, res.body).toBe(200);
  return new URL(res.json().url);
}

const get = (url: URL | string) =>
  t.app.inject({ method: 'GET', url: typeof url === 'string' ? url : url.pathname + url.search });

describe('signed links', () => {
  it('a genuine link works and says how long', async () => {
    const u = await linkOf(a, '?ttl=60');
    expect(u.searchParams.get('kid')).toBe('k2');
    expect((await get(u)).statusCode).toBe(200);
  });

  it('the expiry is capped at an hour', async () => {
    const res = await t.app.inject({ method: 'GET', url: `/api/media/${a}/url?ttl=7200`, headers: owner.auth });
    expect(res.statusCode).toBe(400);
  });

  it('tampering with any part is 403', async () => {
    const u = await linkOf(a);
    const sig = u.searchParams.get('sig') ?? '';
    const variants: [string, string][] = [
      ['sig', (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1)],
      ['sig', sig.slice(0, -1)],
      ['sig', ''],
      ['expires', String(Number(u.searchParams.get('expires')) + 3600)],
      ['variant', 'thumbnail'],
      ['disposition', 'attachment'],
      ['kid', 'k1'],
      ['kid', 'nope'],
    ];
    for (const [key, value] of variants) {
      const copy = new URL(u);
      copy.searchParams.set(key, value);
      const res = await get(copy);
      expect(res.statusCode, `${key}=${value}`).toBe(403);
      expect(res.json().code).toBe('SIGNED_URL_INVALID');
    }
    const noParams = await get(`/api/media/${a}/content`);
    expect(noParams.statusCode).toBe(403);
  });

  it('replayed for another media id is 403', async () => {
    const u = await linkOf(a);
    const res = await get(`/api/media/${b}/content${u.search}`);
    expect(res.statusCode).toBe(403);
  });

  it('an expired genuine link is 410; an expired forged one is still 403', async () => {
    const u = await linkOf(a, '?ttl=10');
    t.clock.advance(11_000);
    const res = await get(u);
    expect(res.statusCode).toBe(410);
    expect(res.json().code).toBe('SIGNED_URL_EXPIRED');
    const forged = new URL(u);
    forged.searchParams.set('sig', 'A'.repeat(43));
    expect((await get(forged)).statusCode).toBe(403);
  });

  it('a link signed with a retired key still works until it expires; a foreign key never does', async () => {
    const now = Math.floor(t.clock.now().getTime() / 1000);
    const old = new UrlSigner({ id: 'k1', key: Buffer.from('o'.repeat(40)) });
    const q = new URLSearchParams(
      old.sign({ mediaId: a, variant: 'display', disposition: 'inline', expires: now + 60 }),
    );
    expect((await get(`/api/media/${a}/content?${q.toString()}`)).statusCode).toBe(200);
    const foreign = new UrlSigner({ id: 'k2', key: Buffer.from('z'.repeat(40)) });
    const f = new URLSearchParams(
      foreign.sign({ mediaId: a, variant: 'display', disposition: 'inline', expires: now + 60 }),
    );
    expect((await get(`/api/media/${a}/content?${f.toString()}`)).statusCode).toBe(403);
  });

  it('a link for a file that was deleted or quarantined meanwhile is 404', async () => {
    const u = await linkOf(b);
    await t.deps.db.query(`update media set status = 'quarantined', status_reason = 'infected' where id = $1`, [b]);
    expect((await get(u)).statusCode).toBe(404);
  });
});
