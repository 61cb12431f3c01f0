/**
 * A site language deleted with force takes itself off the media too (`media.language` has no
 * foreign key): a medium tagged with it is untagged, its translation in it dropped, everything
 * else kept, in the same transaction as the rest of the delete; without force the media count
 * as use (409 LANGUAGE_IN_USE). Before this, a forced delete left media tagged with a language
 * that no longer existed: shown to no visitor at all, and with a dead `translations` key.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../../../test/content-helpers.js';
import type { TestApp } from '../../../test/helpers/app.js';
import { createPortfolio, createUser, type TestUser } from '../../../test/helpers/factories.js';
import { addLanguage } from '../../../test/support/languages/helpers.js';
import { png, simplePdf, upload, uploadTestApp } from '../../../test/support/uploads/helpers.js';

let t: TestApp;
let owner: TestUser;
let admin: TestUser;

beforeAll(async () => {
  t = await uploadTestApp();
  owner = await createUser(t.app);
  admin = await createUser(t.app, { role: 'admin' });
});
afterAll(async () => t.close());

async function uploaded(portfolioId: string, fields: Record<string, string>, file?: Parameters<typeof upload>[3]) {
  const res = await upload(
    t.app,
    owner,
    { portfolioId },
    file ?? { name: 'a.png', type: 'image/png', data: await png(40, 30) },
    fields,
  );
  expect(res.statusCode, res.body).toBe(202);
  expect(res.json().status).toBe('available');
  return res.json().id as string;
}

const media = async (id: string) => (await call(t.app, 'GET', `/api/media/${id}`, { as: owner })).json();
const publicMedia = async (slug: string, lang?: string) =>
  (await call(t.app, 'GET', `/api/public/portfolios/${slug}${lang ? `?lang=${lang}` : ''}`)).json<{
    media: { id: string; language: string | null; alt: string }[];
  }>().media;

describe('DELETE /api/admin/languages/:code and the media tagged with it', () => {
  it('refuses without force (LANGUAGE_IN_USE, media counted); with force untags them and drops the translation, keeping the rest', async () => {
    await addLanguage(t.app, admin, { code: 'gl' });
    await addLanguage(t.app, admin, { code: 'eu' });
    // The read negotiates among the languages the portfolio's texts carry: give it a gl title.
    const p = await createPortfolio(t.app, owner, {
      published: true,
      visibility: 'public',
      translations: { gl: { title: 'Traballo' } },
    });
    const tagged = await uploaded(p.id, { category: 'gallery', language: 'gl' });
    // Untagged, but with a gl translation of its alt text (and an eu one that must stay).
    const translated = await uploaded(p.id, { category: 'gallery' });
    const described = await call(t.app, 'PATCH', `/api/media/${translated}`, {
      as: owner,
      body: { alt: 'A lighthouse', translations: { gl: { alt: 'Un faro' }, eu: { alt: 'Itsasargi bat' } } },
    });
    expect(described.statusCode, described.body).toBe(200);
    expect(
      (
        await call(t.app, 'PATCH', `/api/media/${tagged}`, {
          as: owner,
          body: { alt: 'Faro', caption: 'Costa', translations: { gl: { caption: 'Costa da Morte' } } },
        })
      ).statusCode,
    ).toBe(200);
    const before = await media(tagged);
    expect(before.language).toBe('gl');
    // A visitor reading in the site default does not see a gl medium; one reading gl does.
    expect((await publicMedia(p.slug)).map((m) => m.id)).not.toContain(tagged);
    expect((await publicMedia(p.slug, 'gl')).map((m) => m.id)).toContain(tagged);

    const refused = await call(t.app, 'DELETE', '/api/admin/languages/gl', { as: admin });
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({ code: 'LANGUAGE_IN_USE', usage: { media: 2, portfolios: 1 } });
    expect((await media(tagged)).language).toBe('gl');

    // All or nothing: a failure at the last step leaves the media as they were.
    const repo = t.app.languages.repo;
    const realDelete = repo.delete.bind(repo);
    repo.delete = async () => {
      throw new Error('injected failure');
    };
    try {
      await expect(
        t.app.languages.delete(
          { actorId: 'system', context: { ip: null, userAgent: null, requestId: null } },
          'gl',
          true,
        ),
      ).rejects.toThrow('injected failure');
    } finally {
      repo.delete = realDelete;
    }
    expect((await media(tagged)).language).toBe('gl');
    expect((await media(translated)).translations.gl).toEqual({ alt: 'Un faro' });

    const forced = await call(t.app, 'DELETE', '/api/admin/languages/gl?force=true', { as: admin });
    expect(forced.statusCode).toBe(204);
    const after = await media(tagged);
    expect(after.language).toBeNull();
    expect(after.translations).toEqual({});
    const { language: _l, translations: _t, updatedAt: _u, ...kept } = before;
    const { language: _l2, translations: _t2, updatedAt: _u2, ...keptAfter } = after;
    expect(keptAfter).toEqual(kept);
    expect((await media(translated)).translations).toEqual({ eu: { alt: 'Itsasargi bat' } });
    expect((await media(translated)).alt).toBe('A lighthouse');
    const rows = await t.deps.db.query<{ n: number }>(
      `select count(*)::int as n from media where language = 'gl' or translations ? 'gl'`,
    );
    expect(rows[0]?.n).toBe(0);
    // The visitor's view: the medium is now for every language, untagged.
    const shown = (await publicMedia(p.slug)).find((m) => m.id === tagged);
    expect(shown).toMatchObject({ language: null, alt: 'Faro' });

    await t.app.audit.flush();
    const [event] = await t.app.audit.repo.query({ action: 'content.language.deleted', targetId: 'gl' }, 1);
    expect(event?.metadata).toMatchObject({ force: true, removed: { media: 2, portfolios: 1 } });
  });

  it("a default resume in the language stays the default where it can, and gives way to the portfolio's language-neutral one", async () => {
    await addLanguage(t.app, admin, { code: 'oc' });
    const pdf = async (name: string) => ({ name, type: 'application/pdf', data: await simplePdf(name) });
    const withNeutral = await createPortfolio(t.app, owner, { published: true, visibility: 'public' });
    const neutral = await uploaded(
      withNeutral.id,
      { category: 'resume', isDefaultResume: 'true' },
      await pdf('cv.pdf'),
    );
    const ocThere = await uploaded(
      withNeutral.id,
      { category: 'resume', isDefaultResume: 'true', language: 'oc' },
      await pdf('cv-oc.pdf'),
    );
    const alone = await createPortfolio(t.app, owner, { published: true, visibility: 'public' });
    const ocAlone = await uploaded(
      alone.id,
      { category: 'resume', isDefaultResume: 'true', language: 'oc' },
      await pdf('cv-oc-alone.pdf'),
    );
    expect((await media(ocThere)).isDefaultResume).toBe(true);

    const forced = await call(t.app, 'DELETE', '/api/admin/languages/oc?force=true', { as: admin });
    expect(forced.statusCode, forced.body).toBe(204);
    expect(await media(neutral)).toMatchObject({ language: null, isDefaultResume: true });
    expect(await media(ocThere)).toMatchObject({ language: null, isDefaultResume: false, status: 'available' });
    expect(await media(ocAlone)).toMatchObject({ language: null, isDefaultResume: true });
    // Visitors now get the one default resume each portfolio has.
    for (const [slug, id] of [
      [withNeutral.slug, neutral],
      [alone.slug, ocAlone],
    ] as const) {
      const res = await call(t.app, 'GET', `/api/public/portfolios/${slug}/resume`);
      expect(res.statusCode).toBe(302);
      expect(new URL(String(res.headers.location)).pathname).toBe(`/api/media/${id}/content`);
    }
  });
});
