/**
 * Media everywhere (issue 17, item 5): uploads to sections and experiences through the same
 * pipeline and ownership rule as portfolios and projects; a medium's language, alt text and
 * caption per language (PATCH /api/media/:id); the public read showing each language its media
 * with fallback (pt-BR → pt → en, es, and a language with none falling back to the default); the
 * public resume link per language; images without alt text in the missing-translation report.
 * Attacked as anonymous, another user, a translator limited to es, and with hostile bodies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createChild } from '../../../test/content-helpers.js';
import type { TestApp } from '../../../test/helpers/app.js';
import { createPortfolio, createUser, type TestUser } from '../../../test/helpers/factories.js';
import { addLanguage, send } from '../../../test/support/languages/helpers.js';
import { multipart, png, simplePdf, uploadTestApp } from '../../../test/support/uploads/helpers.js';
import { giveRoles, makeRole } from '../../../test/support/users/roles.js';

let t: TestApp;
let owner: TestUser;
let other: TestUser;
let editor: TestUser;
let admin: TestUser;
let translator: TestUser;
let portfolio: { id: string; slug: string };
let sectionId: string;
let experienceId: string;
let othersSectionId: string;

type Parent = 'sections' | 'experiences' | 'portfolios' | 'projects';

async function send202(
  who: TestUser | null,
  parent: Parent,
  id: string,
  fields: Record<string, string>,
  file?: { name: string; type: string; data: Buffer },
) {
  const part = file ?? { name: 'photo.png', type: 'image/png', data: await png(40, 30) };
  const { body, headers } = multipart(fields, part);
  return t.app.inject({
    method: 'POST',
    url: `/api/${parent}/${id}/media`,
    headers: { ...(who ? who.auth : {}), ...headers },
    payload: body,
  });
}

async function uploaded(
  parent: Parent,
  id: string,
  fields: Record<string, string>,
  file?: Parameters<typeof send202>[4],
) {
  const res = await send202(owner, parent, id, fields, file);
  expect(res.statusCode, res.body).toBe(202);
  expect(res.json().status).toBe('available');
  return res.json() as { id: string } & Record<string, unknown>;
}

const patch = (who: TestUser, id: string, body: unknown) => send(t.app, 'PATCH', `/api/media/${id}`, { as: who, body });

beforeAll(async () => {
  t = await uploadTestApp();
  owner = await createUser(t.app);
  other = await createUser(t.app);
  editor = await createUser(t.app, { role: 'editor' });
  admin = await createUser(t.app, { role: 'admin' });
  translator = await createUser(t.app);
  for (const code of ['es', 'pt', 'fr']) await addLanguage(t.app, admin, { code });
  await makeRole(t.app, 'media-translator-es', ['content:read_any', 'content:write_any'], ['es']);
  await giveRoles(t.app, translator.id, ['media-translator-es']);
  await addLanguage(t.app, admin, { code: 'pt-BR', fallback: ['pt'] });
  portfolio = await createPortfolio(t.app, owner, {
    title: 'My work',
    published: true,
    visibility: 'public',
    translations: { es: { title: 'Mi trabajo' }, 'pt-BR': { title: 'Meu trabalho' } },
  });
  sectionId = (await createChild(t.app, owner, portfolio.id, 'sections', { kind: 'about', title: 'About' })).id;
  experienceId = (await createChild(t.app, owner, portfolio.id, 'experiences', { title: 'Engineer', startYear: 2020 }))
    .id;
  const othersPortfolio = await createPortfolio(t.app, other, { title: 'Theirs' });
  othersSectionId = (await createChild(t.app, other, othersPortfolio.id, 'sections', { kind: 'about', title: 'X' })).id;
});
afterAll(async () => {
  await t.close();
});

describe('uploads to sections and experiences', () => {
  it.each(['sections', 'experiences'] as const)(
    'POST /api/%s/:id/media: owner, editor and admin 202; anonymous 401; another user 404; a translator 403',
    async (parent) => {
      const id = parent === 'sections' ? sectionId : experienceId;
      for (const who of [owner, editor, admin]) {
        const res = await send202(who, parent, id, { category: 'gallery' });
        expect(res.statusCode, res.body).toBe(202);
        const media = res.json();
        expect(media).toMatchObject({ status: 'available', portfolioId: portfolio.id, projectId: null });
        expect(media[parent === 'sections' ? 'sectionId' : 'experienceId']).toBe(id);
        expect(media[parent === 'sections' ? 'experienceId' : 'sectionId']).toBeNull();
      }
      expect((await send202(null, parent, id, { category: 'gallery' })).statusCode).toBe(401);
      const stranger = await send202(other, parent, id, { category: 'gallery' });
      expect(stranger.statusCode).toBe(404);
      expect(stranger.headers['content-type']).toContain('application/problem+json');
      const limited = await send202(translator, parent, id, { category: 'gallery' });
      expect(limited.statusCode).toBe(403);
      // The list by parent shows exactly what was uploaded to it; nobody else's list shows it.
      const list = await call(t.app, 'GET', `/api/${parent}/${id}/media`, { as: owner });
      expect(list.statusCode).toBe(200);
      expect(list.json().items).toHaveLength(3);
      expect((await call(t.app, 'GET', `/api/${parent}/${id}/media`, { as: other })).statusCode).toBe(404);
    },
  );

  it("refuses another user's section, a missing one, a malformed id, and stores nothing", async () => {
    const before = await t.app.uploads.repo.listByParent({ sectionId: othersSectionId, limit: 10 });
    expect((await send202(owner, 'sections', othersSectionId, { category: 'gallery' })).statusCode).toBe(404);
    expect(
      (await send202(owner, 'sections', '00000000-0000-4000-8000-000000000000', { category: 'gallery' })).statusCode,
    ).toBe(404);
    expect((await send202(owner, 'experiences', 'not-a-uuid', { category: 'gallery' })).statusCode).toBe(400);
    expect(await t.app.uploads.repo.listByParent({ sectionId: othersSectionId, limit: 10 })).toEqual(before);
  });

  it('hostile forms: an unknown field, a language that is not enabled, a malformed language', async () => {
    const unknown = await send202(owner, 'sections', sectionId, { category: 'gallery', alt: 'x' });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().code).toBe('UPLOAD_MALFORMED');
    const de = await send202(owner, 'sections', sectionId, { category: 'gallery', language: 'de' });
    expect(de.statusCode).toBe(400);
    expect(de.json().code).toBe('LANGUAGE_NOT_ENABLED');
    const bad = await send202(owner, 'sections', sectionId, { category: 'gallery', language: "en'; drop table media" });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().code).toBe('UPLOAD_MALFORMED');
    const ok = await send202(owner, 'sections', sectionId, { category: 'gallery', language: 'ES' });
    expect(ok.statusCode, ok.body).toBe(202);
    expect(ok.json().language).toBe('es');
  });
});

describe('PATCH /api/media/:id (language, alt, caption, translations)', () => {
  let id: string;
  beforeAll(async () => {
    id = (await uploaded('experiences', experienceId, { category: 'gallery' })).id;
  });

  it('the owner sets them; another user gets 404, anonymous 401', async () => {
    const res = await patch(owner, id, {
      alt: 'A bridge',
      caption: 'Built in 2020',
      translations: { es: { alt: 'Un puente' } },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      alt: 'A bridge',
      caption: 'Built in 2020',
      translations: { es: { alt: 'Un puente' } },
    });
    expect((await patch(other, id, { alt: 'mine' })).statusCode).toBe(404);
    expect((await send(t.app, 'PATCH', `/api/media/${id}`, { body: { alt: 'x' } })).statusCode).toBe(401);
    expect((await patch(editor, id, { caption: 'Edited' })).statusCode).toBe(200);
    expect((await patch(admin, id, { caption: 'Built in 2020' })).statusCode).toBe(200);
  });

  it.each([
    ['an unknown field', { alt: 'x', isDefaultResume: true }, 400],
    ['a wrong type', { alt: 5 }, 400],
    ['an empty body', {}, 400],
    ['huge alt text', { alt: 'a'.repeat(1001) }, 400],
    ['a huge caption', { caption: 'c'.repeat(2001) }, 400],
    ['a language that is not enabled', { language: 'de' }, 400],
    ['a translation in a language that is not enabled', { translations: { de: { alt: 'Brücke' } } }, 400],
    ['an unknown translated field', { translations: { es: { title: 'x' } } }, 400],
    ['a malformed language', { language: 'english' }, 400],
  ])('refuses %s', async (_name, body, status) => {
    const before = (await call(t.app, 'GET', `/api/media/${id}`, { as: owner })).json();
    const res = await patch(owner, id, body);
    expect(res.statusCode).toBe(status);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(typeof res.json().code).toBe('string');
    const after = (await call(t.app, 'GET', `/api/media/${id}`, { as: owner })).json();
    expect({ ...after, updatedAt: null }).toEqual({ ...before, updatedAt: null });
  });

  it('a not-enabled language answers LANGUAGE_NOT_ENABLED', async () => {
    expect((await patch(owner, id, { language: 'de' })).json().code).toBe('LANGUAGE_NOT_ENABLED');
  });

  it('a translator limited to es changes only translations.es', async () => {
    const current = (await call(t.app, 'GET', `/api/media/${id}`, { as: owner })).json();
    const ok = await patch(translator, id, {
      translations: { ...current.translations, es: { alt: 'Un puente viejo' } },
    });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json().translations.es.alt).toBe('Un puente viejo');
    for (const body of [
      { alt: 'Hacked' },
      { language: 'es' },
      { language: null },
      { translations: { es: { alt: 'x' }, pt: { alt: 'Hackeado' } } },
    ]) {
      expect((await patch(translator, id, body)).statusCode).toBe(403);
    }
    expect((await call(t.app, 'DELETE', `/api/media/${id}`, { as: translator })).statusCode).toBe(403);
  });
});

interface PublicItem {
  id: string;
  language: string | null;
  alt: string;
  caption: string;
  sectionId: string | null;
}

describe('the public read picks each language its media, with fallback', () => {
  let neutral: string;
  let en: string;
  let es: string;
  let pt: string;
  const read = async (lang: string) => {
    const res = await t.app.inject({ method: 'GET', url: `/api/public/portfolios/${portfolio.slug}?lang=${lang}` });
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as { language: string; media: PublicItem[] };
  };
  const ids = (items: PublicItem[]) => items.filter((m) => [neutral, en, es, pt].includes(m.id)).map((m) => m.id);

  beforeAll(async () => {
    neutral = (await uploaded('portfolios', portfolio.id, { category: 'background' })).id;
    en = (await uploaded('portfolios', portfolio.id, { category: 'background', language: 'en' })).id;
    es = (await uploaded('portfolios', portfolio.id, { category: 'background', language: 'es' })).id;
    pt = (await uploaded('portfolios', portfolio.id, { category: 'background', language: 'pt' })).id;
    expect(
      (
        await patch(owner, neutral, {
          alt: 'Harbour',
          caption: 'At dawn',
          translations: { es: { alt: 'Puerto' }, pt: { alt: 'Porto', caption: 'Ao amanhecer' } },
        })
      ).statusCode,
    ).toBe(200);
  });

  it('en (the default): the neutral one and the en one; texts in en', async () => {
    const body = await read('en');
    expect(ids(body.media).sort()).toEqual([neutral, en].sort());
    expect(body.media.find((m) => m.id === neutral)).toMatchObject({ alt: 'Harbour', caption: 'At dawn' });
  });

  it('es: the neutral one and the es one; alt in es, caption falling back to en', async () => {
    const body = await read('es');
    expect(body.language).toBe('es');
    expect(ids(body.media).sort()).toEqual([neutral, es].sort());
    expect(body.media.find((m) => m.id === neutral)).toMatchObject({ alt: 'Puerto', caption: 'At dawn' });
  });

  it('pt-BR (no pt-BR media): falls back to pt, field by field for the texts', async () => {
    const body = await read('pt-BR');
    expect(body.language).toBe('pt-BR');
    expect(ids(body.media).sort()).toEqual([neutral, pt].sort());
    expect(body.media.find((m) => m.id === neutral)).toMatchObject({ alt: 'Porto', caption: 'Ao amanhecer' });
  });

  it('fr (no content nor media in fr): the default language', async () => {
    const body = await read('fr');
    expect(ids(body.media).sort()).toEqual([neutral, en].sort());
  });

  it("a declared chain (gl -> es) picks the fallback's media and texts, before the default's", async () => {
    await addLanguage(t.app, admin, { code: 'gl', fallback: ['es'] });
    // Some text in gl, so readers asking for gl get gl.
    await createChild(t.app, owner, portfolio.id, 'links', {
      url: 'https://example.org/gl',
      translations: { gl: { label: 'Ligazón' } },
    });
    const body = await read('gl');
    expect(body.language).toBe('gl');
    expect(ids(body.media).sort()).toEqual([neutral, es].sort());
    expect(body.media.find((m) => m.id === neutral)).toMatchObject({ alt: 'Puerto', caption: 'At dawn' });
  });

  it('a language with no media of a category still gets the fallback for it, while its own show elsewhere', async () => {
    // An es gallery image in the section: es readers see it; en readers do not.
    const gallery = (await uploaded('sections', sectionId, { category: 'gallery', language: 'es' })).id;
    expect((await read('es')).media.map((m) => m.id)).toContain(gallery);
    expect((await read('en')).media.map((m) => m.id)).not.toContain(gallery);
    // es backgrounds still replace en ones (same parent and category).
    expect(ids((await read('es')).media)).not.toContain(en);
  });
});

describe('GET /api/public/portfolios/:slug/resume?lang=', () => {
  let resumes: Record<string, string>;
  beforeAll(async () => {
    resumes = {};
    for (const language of ['en', 'es', 'pt']) {
      const row = await uploaded(
        'portfolios',
        portfolio.id,
        { category: 'resume', isDefaultResume: 'true', language },
        { name: `cv-${language}.pdf`, type: 'application/pdf', data: await simplePdf(`CV ${language}`) },
      );
      expect(row['isDefaultResume']).toBe(true);
      resumes[language] = row.id;
    }
    // A second default resume in the same language takes the flag; the other languages keep theirs.
    const again = await uploaded(
      'portfolios',
      portfolio.id,
      { category: 'resume', isDefaultResume: 'true', language: 'es' },
      { name: 'cv-es-2.pdf', type: 'application/pdf', data: await simplePdf('CV es 2') },
    );
    resumes['es'] = again.id;
    expect((await call(t.app, 'GET', `/api/media/${resumes['en']}`, { as: owner })).json().isDefaultResume).toBe(true);
  });

  const resume = (slug: string, lang?: string) =>
    t.app.inject({
      method: 'GET',
      url: `/api/public/portfolios/${slug}/resume${lang === undefined ? '' : `?lang=${lang}`}`,
    });

  it.each([
    ['es', 'es'],
    ['en', 'en'],
    ['pt-BR', 'pt'],
    ['pt', 'pt'],
    ['fr', 'en'],
    [undefined, 'en'],
  ])('?lang=%s → 302 to the %s resume, no-store, and the signed link serves it', async (lang, expected) => {
    const res = await resume(portfolio.slug, lang);
    expect(res.statusCode, res.body).toBe(302);
    expect(res.headers['cache-control']).toBe('no-store');
    const location = new URL(String(res.headers.location));
    expect(location.pathname).toBe(`/api/media/${resumes[expected]}/content`);
    const served = await t.app.inject({ method: 'GET', url: location.pathname + location.search });
    expect(served.statusCode).toBe(200);
    expect(served.headers['content-type']).toBe('application/pdf');
    expect(String(served.headers['content-disposition'])).toMatch(/^attachment;/);
    // A tampered link is refused.
    const forged = await t.app.inject({
      method: 'GET',
      url: `/api/media/${resumes['es']}/content${location.search}`,
    });
    if (resumes[expected] !== resumes['es']) expect(forged.statusCode).toBe(403);
  });

  it('404 (problem+json) for a draft, a private portfolio, an unknown slug, and a portfolio without a resume', async () => {
    const draft = await createPortfolio(t.app, owner, { title: 'Draft', visibility: 'public', published: false });
    const hidden = await createPortfolio(t.app, owner, { title: 'Private', visibility: 'private', published: true });
    for (const p of [draft, hidden]) {
      await uploaded(
        'portfolios',
        p.id,
        { category: 'resume', isDefaultResume: 'true' },
        { name: 'cv.pdf', type: 'application/pdf', data: await simplePdf('secret') },
      );
      const res = await resume(p.slug, 'en');
      expect(res.statusCode).toBe(404);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.headers.location).toBeUndefined();
    }
    expect((await resume('no-such-portfolio')).statusCode).toBe(404);
    const bare = await createPortfolio(t.app, owner, { title: 'Bare', visibility: 'public', published: true });
    const none = await resume(bare.slug);
    expect(none.statusCode).toBe(404);
    expect(none.json().code).toBe('RESUME_NOT_FOUND');
    expect((await resume(portfolio.slug, 'x'.repeat(300))).statusCode).toBe(400);
  });
});

describe('the missing-translation report lists images without alt text', () => {
  it('an image with no alt in the default language, and one with no es alt', async () => {
    const p = await createPortfolio(t.app, owner, { title: 'Report' });
    const noAlt = (await uploaded('portfolios', p.id, { category: 'gallery' })).id;
    const enOnly = (await uploaded('portfolios', p.id, { category: 'gallery' })).id;
    expect((await patch(owner, enOnly, { alt: 'Sunset' })).statusCode).toBe(200);
    const report = async (lang: string) => {
      const res = await send(t.app, 'GET', `/api/admin/translations/missing?lang=${lang}&limit=50`, { as: admin });
      expect(res.statusCode, res.body).toBe(200);
      const item = (
        res.json().items as { portfolioId: string; missing: { kind: string; id: string; fields: string[] }[] }[]
      ).find((i) => i.portfolioId === p.id);
      return (item?.missing ?? []).filter((m) => m.kind === 'media');
    };
    expect(await report('en')).toEqual([expect.objectContaining({ id: noAlt, fields: ['alt'] })]);
    expect(await report('es')).toEqual([expect.objectContaining({ id: enOnly, fields: ['alt'] })]);
    expect((await patch(owner, enOnly, { translations: { es: { alt: 'Atardecer' } } })).statusCode).toBe(200);
    expect(await report('es')).toEqual([]);
  });
});
