/**
 * Site languages attacked as each kind of caller would: every route against anonymous, a user,
 * an editor and an admin; hostile bodies; a fallback loop; a race for the default; a delete that
 * must take every translation with it, all at once or not at all.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.js';
import { createPortfolio } from '../../../test/helpers/factories.js';
import { createChild } from '../../../test/content-helpers.js';
import { addLanguage, cast, putText, send, type Cast } from '../../../test/support/languages/helpers.js';

let t: TestApp;
let c: Cast;

beforeAll(async () => {
  t = await buildTestApp();
  c = await cast(t.app);
});
afterAll(async () => {
  await t.close();
});

const defaults = async () =>
  (await t.deps.db.query<{ code: string }>(`select code from languages where is_default`)).map((r) => r.code);

describe('who may call what', () => {
  const routes: [string, string, unknown?][] = [
    ['GET', '/api/admin/languages'],
    ['POST', '/api/admin/languages', { code: 'xx' }],
    ['PATCH', '/api/admin/languages/en', { name: 'English' }],
    ['DELETE', '/api/admin/languages/xx'],
    ['GET', '/api/admin/translations/missing?lang=en'],
  ];

  it.each(routes)('%s %s: anonymous 401, user 403 (before the body is looked at)', async (method, url, body) => {
    const anonymous = await send(t.app, method as 'GET', url, { body });
    expect(anonymous.statusCode).toBe(401);
    const user = await send(t.app, method as 'GET', url, {
      as: c.user,
      body: body === undefined ? undefined : { nonsense: true },
    });
    expect(user.statusCode).toBe(403);
    expect(user.json().code).toBe('FORBIDDEN');
  });

  it('an editor and an admin may read and change languages', async () => {
    for (const who of [c.editor, c.admin]) {
      const code = who === c.editor ? 'fr' : 'de';
      expect((await send(t.app, 'GET', '/api/admin/languages', { as: who })).statusCode).toBe(200);
      expect((await send(t.app, 'POST', '/api/admin/languages', { as: who, body: { code } })).statusCode).toBe(201);
      expect(
        (await send(t.app, 'PATCH', `/api/admin/languages/${code}`, { as: who, body: { name: 'X' } })).statusCode,
      ).toBe(200);
      expect((await send(t.app, 'GET', `/api/admin/translations/missing?lang=${code}`, { as: who })).statusCode).toBe(
        200,
      );
      expect((await send(t.app, 'DELETE', `/api/admin/languages/${code}`, { as: who })).statusCode).toBe(204);
    }
  });

  it('the public list needs no sign-in: enabled only, the default first, four fields, cacheable', async () => {
    await addLanguage(t.app, c.admin, { code: 'ca', name: 'Catalan', nativeName: 'català' });
    await addLanguage(t.app, c.admin, { code: 'eu', enabled: false });
    const res = await send(t.app, 'GET', '/api/public/languages');
    expect(res.statusCode).toBe(200);
    const items = res.json().items as Record<string, unknown>[];
    expect(items[0]).toEqual({ code: 'en', name: 'English', nativeName: 'English', isDefault: true });
    expect(items).toContainEqual({ code: 'ca', name: 'Catalan', nativeName: 'català', isDefault: false });
    expect(items.map((l) => l['code'])).not.toContain('eu');
    expect(res.headers['cache-control']).toMatch(/^public/);
    const again = await send(t.app, 'GET', '/api/public/languages', {
      headers: { 'if-none-match': String(res.headers.etag) },
    });
    expect(again.statusCode).toBe(304);
    await send(t.app, 'PATCH', '/api/admin/languages/eu', { as: c.admin, body: { enabled: true } });
    const changed = await send(t.app, 'GET', '/api/public/languages', {
      headers: { 'if-none-match': String(res.headers.etag) },
    });
    expect(changed.statusCode).toBe(200);
  });
});

describe('hostile bodies', () => {
  it.each([
    ['an unknown field', { code: 'it', extra: 1 }, 'VALIDATION_FAILED'],
    ['a number for the code', { code: 42 }, 'VALIDATION_FAILED'],
    ['a string for a boolean', { code: 'it', enabled: 'yes' }, 'VALIDATION_FAILED'],
    ['a huge name', { code: 'it', name: 'x'.repeat(100_000) }, 'VALIDATION_FAILED'],
    ['a blank name', { code: 'it', name: '   ' }, 'VALIDATION_FAILED'],
    ['a word for a code', { code: 'english' }, 'INVALID_LANGUAGE_TAG'],
    ['a private-use tag', { code: 'en-US-x-priv' }, 'INVALID_LANGUAGE_TAG'],
    ['a fallback that is not a language', { code: 'it', fallback: ['zz'] }, 'LANGUAGE_NOT_ENABLED'],
    ['a fallback listed twice', { code: 'it', fallback: ['en', 'en'] }, 'VALIDATION_FAILED'],
    [
      '10,000 fallbacks',
      { code: 'it', fallback: Array.from({ length: 10_000 }, (_, i) => `l${i}`) },
      'VALIDATION_FAILED',
    ],
    ['itself as fallback', { code: 'it', fallback: ['it'] }, 'LANGUAGE_FALLBACK_CYCLE'],
  ])('POST with %s → 400 %s', async (_what, body, code) => {
    const res = await send(t.app, 'POST', '/api/admin/languages', { as: c.admin, body });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe(code);
    expect(
      (await send(t.app, 'GET', '/api/admin/languages', { as: c.admin }))
        .json()
        .items.map((l: { code: string }) => l.code),
    ).not.toContain('it');
  });

  it('canonicalises codes (PT_br is pt-BR) and refuses the same language in another case', async () => {
    const created = await addLanguage(t.app, c.admin, { code: 'PT_br' });
    expect(created['code']).toBe('pt-BR');
    const again = await send(t.app, 'POST', '/api/admin/languages', { as: c.admin, body: { code: 'pt-br' } });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('LANGUAGE_EXISTS');
    expect(
      (await send(t.app, 'PATCH', '/api/admin/languages/PT-BR', { as: c.admin, body: { name: 'Brasil' } })).json().name,
    ).toBe('Brasil');
  });

  it('refuses a fallback loop through other chains, and a disabled fallback', async () => {
    await addLanguage(t.app, c.admin, { code: 'pt' });
    await addLanguage(t.app, c.admin, { code: 'gl', fallback: ['pt'] });
    expect(
      (await send(t.app, 'PATCH', '/api/admin/languages/pt-BR', { as: c.admin, body: { fallback: ['gl'] } }))
        .statusCode,
    ).toBe(200);
    // pt → pt-BR → gl → pt
    const loop = await send(t.app, 'PATCH', '/api/admin/languages/pt', { as: c.admin, body: { fallback: ['pt-BR'] } });
    expect(loop.statusCode).toBe(400);
    expect(loop.json()).toMatchObject({ code: 'LANGUAGE_FALLBACK_CYCLE', cycle: ['pt', 'pt-BR', 'gl', 'pt'] });
    await addLanguage(t.app, c.admin, { code: 'ast', enabled: false });
    const disabled = await send(t.app, 'PATCH', '/api/admin/languages/pt', {
      as: c.admin,
      body: { fallback: ['ast'] },
    });
    expect(disabled.json().code).toBe('LANGUAGE_NOT_ENABLED');
    // A language others fall back to stays enabled.
    const off = await send(t.app, 'PATCH', '/api/admin/languages/gl', { as: c.admin, body: { enabled: false } });
    expect(off.statusCode).toBe(409);
    expect(off.json()).toMatchObject({ code: 'LANGUAGE_IN_FALLBACK', usedBy: ['pt-BR'] });
    expect(await t.app.languages.fallbackChain('pt-br')).toEqual(['pt-BR', 'gl', 'pt', 'en']);
  });
});

describe('exactly one default', () => {
  it('refuses to unset, disable or delete the default', async () => {
    const unset = await send(t.app, 'PATCH', '/api/admin/languages/en', { as: c.admin, body: { isDefault: false } });
    expect(unset.json().code).toBe('LANGUAGE_IS_DEFAULT');
    const disable = await send(t.app, 'PATCH', '/api/admin/languages/en', { as: c.admin, body: { enabled: false } });
    expect(disable.json().code).toBe('LANGUAGE_IS_DEFAULT');
    const del = await send(t.app, 'DELETE', '/api/admin/languages/en?force=true', { as: c.admin });
    expect(del.statusCode).toBe(409);
    expect(del.json().code).toBe('LANGUAGE_IS_DEFAULT');
    expect(await defaults()).toEqual(['en']);
  });

  it('stays exactly one when many switches race', async () => {
    const codes = ['sv', 'da', 'nb', 'fi', 'is'];
    for (const code of codes) await addLanguage(t.app, c.admin, { code });
    const results = await Promise.all(
      [...codes, ...codes, 'en'].map((code) =>
        send(t.app, 'PATCH', `/api/admin/languages/${code}`, { as: c.admin, body: { isDefault: true } }),
      ),
    );
    expect(results.map((r) => r.statusCode)).toEqual(results.map(() => 200));
    const now = await defaults();
    expect(now).toHaveLength(1);
    expect(await t.app.languages.defaultLanguage()).toBe(now[0]);
    // A new language created as the default also switches it in one step.
    await addLanguage(t.app, c.admin, { code: 'et', isDefault: true });
    expect(await defaults()).toEqual(['et']);
    await send(t.app, 'PATCH', '/api/admin/languages/en', { as: c.admin, body: { isDefault: true } });
    expect(await defaults()).toEqual(['en']);
  });
});

describe('deleting a language content uses', () => {
  it('needs ?force=true (409 LANGUAGE_IN_USE), then removes its translations from every table and the site texts', async () => {
    await addLanguage(t.app, c.admin, { code: 'es' });
    await addLanguage(t.app, c.admin, { code: 'es-MX', fallback: ['es'] });
    const es = { title: 'Hola' };
    const p = await createPortfolio(t.app, c.user, {
      translations: { es: { title: 'Trabajo' }, 'pt-BR': { title: 'Trabalho' } },
    });
    const children = [
      await createChild(t.app, c.user, p.id, 'projects', { title: 'P', translations: { es } }),
      await createChild(t.app, c.user, p.id, 'sections', { kind: 'about', title: 'S', translations: { es } }),
      await createChild(t.app, c.user, p.id, 'experiences', { title: 'E', startYear: 2020, translations: { es } }),
      await createChild(t.app, c.user, p.id, 'skills', { name: 'K', translations: { es: { name: 'Hola' } } }),
      await createChild(t.app, c.user, p.id, 'links', {
        url: 'https://example.com',
        translations: { es: { label: 'Hola' } },
      }),
    ];
    await putText(t.app, c.admin, 'nav.home', { en: 'Home', es: 'Inicio' });

    const refused = await send(t.app, 'DELETE', '/api/admin/languages/es', { as: c.admin });
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({
      code: 'LANGUAGE_IN_USE',
      usage: {
        portfolios: 1,
        projects: 1,
        sections: 1,
        experiences: 1,
        skills: 1,
        links: 1,
        siteTexts: 1,
        fallbacks: 1,
      },
    });

    // All or nothing: a failure at the last step leaves every translation where it was.
    const repo = t.app.languages.repo;
    const realDelete = repo.delete.bind(repo);
    repo.delete = async () => {
      throw new Error('injected failure');
    };
    await expect(
      t.app.languages.delete(
        { actorId: 'system', context: { ip: null, userAgent: null, requestId: null } },
        'es',
        true,
      ),
    ).rejects.toThrow('injected failure');
    repo.delete = realDelete;
    expect((await send(t.app, 'GET', `/api/portfolios/${p.id}`, { as: c.user })).json().translations.es).toEqual({
      title: 'Trabajo',
    });
    expect(
      (await send(t.app, 'GET', `/api/projects/${children[0]!.id}`, { as: c.user })).json().translations.es,
    ).toEqual(es);

    const forced = await send(t.app, 'DELETE', '/api/admin/languages/es?force=true', { as: c.admin });
    expect(forced.statusCode).toBe(204);
    const portfolio = (await send(t.app, 'GET', `/api/portfolios/${p.id}`, { as: c.user })).json();
    expect(portfolio.translations).toEqual({ 'pt-BR': { title: 'Trabalho' } });
    for (const [i, kind] of ['projects', 'sections', 'experiences', 'skills', 'links'].entries()) {
      const child = (await send(t.app, 'GET', `/api/${kind}/${children[i]!.id}`, { as: c.user })).json();
      expect(child.translations, kind).toEqual({});
    }
    const texts = (await send(t.app, 'GET', '/api/admin/texts', { as: c.admin })).json().items;
    expect(texts.find((x: { key: string }) => x.key === 'nav.home').translations).toEqual({ en: 'Home' });
    expect((await send(t.app, 'GET', '/api/admin/languages/es-MX', { as: c.admin })).statusCode).toBe(404);
    const mx = (await send(t.app, 'GET', '/api/admin/languages', { as: c.admin }))
      .json()
      .items.find((l: { code: string }) => l.code === 'es-MX');
    expect(mx.fallback).toEqual([]);

    await t.app.audit.flush();
    const [event] = await t.app.audit.repo.query({ action: 'content.language.deleted', targetId: 'es' }, 1);
    expect(event?.metadata).toMatchObject({ force: true, removed: { portfolios: 1, projects: 1, siteTexts: 1 } });
  });

  it('never deletes (nor disables) a language a portfolio is written in, even with force', async () => {
    await addLanguage(t.app, c.admin, { code: 'nl' });
    await createPortfolio(t.app, c.user, { defaultLanguage: 'nl' });
    const del = await send(t.app, 'DELETE', '/api/admin/languages/nl?force=true', { as: c.admin });
    expect(del.statusCode).toBe(409);
    expect(del.json()).toMatchObject({ code: 'LANGUAGE_IS_PORTFOLIO_DEFAULT', portfolios: 1 });
    const off = await send(t.app, 'PATCH', '/api/admin/languages/nl', { as: c.admin, body: { enabled: false } });
    expect(off.json().code).toBe('LANGUAGE_IS_PORTFOLIO_DEFAULT');
  });

  it('deletes an unused language without force, and answers 404 for a missing one', async () => {
    await addLanguage(t.app, c.admin, { code: 'ro' });
    expect((await send(t.app, 'DELETE', '/api/admin/languages/ro', { as: c.admin })).statusCode).toBe(204);
    expect((await send(t.app, 'DELETE', '/api/admin/languages/ro', { as: c.admin })).statusCode).toBe(404);
  });
});

describe('change hook', () => {
  it('calls onChange listeners after each committed change, not after a refused one', async () => {
    const seen: string[] = [];
    const off = t.app.languages.onChange((change) => {
      seen.push(`${change.kind}:${change.code}`);
    });
    await addLanguage(t.app, c.admin, { code: 'hu' });
    await send(t.app, 'PATCH', '/api/admin/languages/hu', { as: c.admin, body: { fallback: ['hu'] } });
    await send(t.app, 'DELETE', '/api/admin/languages/hu', { as: c.admin });
    off();
    await addLanguage(t.app, c.admin, { code: 'cs' });
    expect(seen).toEqual(['created:hu', 'deleted:hu']);
  });
});

describe('missing translations report', () => {
  it('lists, per portfolio and child, the fields with no text in the language', async () => {
    await addLanguage(t.app, c.admin, { code: 'it' });
    const p = await createPortfolio(t.app, c.user, {
      title: 'Work',
      summary: 'About',
      translations: { it: { title: 'Lavoro' } },
    });
    const project = await createChild(t.app, c.user, p.id, 'projects', {
      title: 'Parser',
      description: 'Parses',
      translations: { it: { title: 'Analizzatore' } },
    });
    const link = await createChild(t.app, c.user, p.id, 'links', { url: 'https://example.com' });
    let entry: { missing: { kind: string; id: string; fields: string[] }[]; missingFields: number } | undefined;
    let cursor: string | null = null;
    do {
      const res = await send(
        t.app,
        'GET',
        `/api/admin/translations/missing?lang=IT&limit=50${cursor ? `&cursor=${cursor}` : ''}`,
        { as: c.editor },
      );
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body.lang).toBe('it');
      entry ??= body.items.find((i: { portfolioId: string }) => i.portfolioId === p.id);
      cursor = body.nextCursor;
    } while (cursor);
    expect(entry?.missing).toEqual([
      { kind: 'portfolio', id: p.id, label: 'Work', fields: ['summary'] },
      { kind: 'projects', id: project.id, label: 'Parser', fields: ['description'] },
    ]);
    // The link has no label at all: nothing to translate.
    expect(entry?.missing.map((m) => m.id)).not.toContain(link.id);
    expect(entry?.missingFields).toBe(2);
    const unknown = await send(t.app, 'GET', '/api/admin/translations/missing?lang=zz', { as: c.admin });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().code).toBe('LANGUAGE_NOT_ENABLED');
  });
});
