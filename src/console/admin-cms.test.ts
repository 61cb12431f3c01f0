/**
 * The admin's CMS screens (issue 18 "everything the CMS issue adds"; web/console/src/admin/content/)
 * in headless Chromium against a real server, on the default configuration (AUTH_COOKIES off):
 * an owner (admin, TOTP enrolled) drives each screen as a person would, and every effect is then
 * read back from the public or the admin API, not from the page:
 *
 * - Site languages: add French, a bad code's problem under its field, a fallback chain, a loop
 *   refused under the field, the default refused in plain words when disabled, Spanish made the
 *   default and back, French disabled;
 * - Categories: a type and a category named in English and Spanish, a duplicate code under its
 *   field, the category and a skill given to a project, a section put into that project;
 * - Site texts: a text edited side by side, a new key, a key conflict in plain words;
 * - Media alt text per language, with the "no alt text" warning until it is written;
 * - Scheduling in Europe/Madrid time (the zone said on screen): a bad order under its field, cancel,
 *   then the schedule job publishes at the instant typed.
 *
 * axe finds nothing serious or critical on each screen; the CSP recorder records nothing.
 * Needs /usr/bin/chromium (test/support/browser).
 */
import { readFile } from 'node:fs/promises';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../../test/helpers/app.js';
import { createPortfolio, createUser, type TestUser } from '../../test/helpers/factories.js';
import { expectNoSeriousA11yViolations } from '../../test/support/browser/axe.js';
import { watchContext, type PageWatch } from '../../test/support/browser/csp.js';
import { launchChromium, SKIP_BROWSER_TESTS } from '../../test/support/browser/launch.js';
import { localhostTestApp } from '../../test/support/browser/server.js';
import { enableLanguages, putText, send } from '../../test/support/languages/helpers.js';
import { enrollTotp, oathCode } from '../../test/support/mfa/helpers.js';
import { png, upload } from '../../test/support/uploads/helpers.js';

interface Language {
  code: string;
  nativeName: string;
  enabled: boolean;
  isDefault: boolean;
  fallback: string[];
}

describe.skipIf(SKIP_BROWSER_TESTS)('admin CMS screens in headless Chromium', () => {
  let t: TestApp;
  let base: string;
  let browser: Browser;
  let context: BrowserContext | undefined;
  let page: Page | undefined;
  let watch: PageWatch;
  let owner: TestUser;
  let secret: string;

  beforeAll(async () => {
    ({ t, base } = await localhostTestApp({ UPLOAD_SCAN: 'off', UPLOAD_RETRY_INTERVAL: '0' }));
    expect(t.config.AUTH_COOKIES).toBe(false);
    await enableLanguages(t.app, 'es');
    owner = await createUser(t.app, { role: 'admin' });
    ({ secret } = await enrollTotp(t.app, t.clock, owner));
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await t?.close();
  });

  async function heading(p: Page, name: string | RegExp): Promise<void> {
    await p.getByRole('heading', { level: 1, name }).waitFor();
    expect(await p.getByRole('heading', { level: 1 }).count()).toBe(1);
  }

  /** One signed-in page for the whole file (the owner signs in once, from the first admin address). */
  async function ownerPage(path: string): Promise<Page> {
    if (!page) {
      // Times typed in the page are Madrid's: the API must get the same instant in UTC.
      context = await browser.newContext({ locale: 'en-US', timezoneId: 'Europe/Madrid' });
      watch = await watchContext(context);
      page = await context.newPage();
      await page.goto(`${base}${path}`);
      await page.waitForURL((u) => u.pathname === '/account/sign-in');
      await heading(page, 'Sign in');
      await page.getByLabel('Email', { exact: true }).fill(owner.email);
      await page.getByLabel('Password', { exact: true }).fill(owner.password);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByLabel('Authentication code', { exact: true }).fill(oathCode(secret, t.clock.now().getTime()));
      await page.getByRole('button', { name: 'Verify', exact: true }).click();
      await page.waitForURL((u) => u.pathname === path);
    } else {
      await page.goto(`${base}${path}`);
    }
    return page;
  }

  function expectCleanRun(): void {
    expect(watch.violations).toEqual([]);
    expect(watch.problems).toEqual([]);
  }

  async function languages(): Promise<Language[]> {
    const res = await send(t.app, 'GET', '/api/admin/languages', { as: owner });
    expect(res.statusCode).toBe(200);
    return res.json<{ items: Language[] }>().items;
  }
  const language = async (code: string) => (await languages()).find((l) => l.code === code);

  it('site languages: add French, rename it, its fallback, a loop and the default refused in plain words, Spanish default and back', async () => {
    const p = await ownerPage('/admin/languages');
    await heading(p, 'Site languages');
    await p.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Site languages' }).waitFor();
    await expectNoSeriousA11yViolations(p, 'admin: site languages');

    // A code that is no language tag: the API's problem under the field.
    await p.getByLabel('Language code').fill('not a tag!');
    await p.getByRole('button', { name: 'Add the language' }).click();
    await p.locator('#language-code-error').waitFor();
    expect(await p.getByLabel('Language code').getAttribute('aria-invalid')).toBe('true');
    expect(await p.getByLabel('Language code').getAttribute('aria-describedby')).toContain('language-code-error');
    expect((await languages()).map((l) => l.code).sort()).toEqual(['en', 'es']);
    await expectNoSeriousA11yViolations(p, 'admin: site languages with a field error');

    await p.getByLabel('Language code').fill('fr');
    await p.getByRole('button', { name: 'Add the language' }).click();
    const fr = await (async () => {
      await p.locator('tr[data-language="fr"]').waitFor();
      return (await language('fr'))!;
    })();
    expect(fr).toMatchObject({ enabled: true, isDefault: false, fallback: [] });
    const publicCodes = async () =>
      ((await (await fetch(`${base}/api/public/languages`)).json()) as { items: { code: string }[] }).items.map(
        (l) => l.code,
      );
    expect((await publicCodes()).sort()).toEqual(['en', 'es', 'fr']);

    // Renamed: an empty name is refused under its field; a new English name is kept.
    await p.getByText('Rename fr').click();
    await p.getByLabel('English name of fr').fill('');
    await p.getByRole('button', { name: 'Save the names of fr' }).click();
    await expect.poll(() => p.getByLabel('English name of fr').getAttribute('aria-invalid')).toBe('true');
    await p.getByLabel('English name of fr').fill('French (France)');
    await p.getByRole('button', { name: 'Save the names of fr' }).click();
    await p.getByText(`${fr.nativeName} is renamed.`).waitFor();
    expect(await language('fr')).toMatchObject({ name: 'French (France)', nativeName: fr.nativeName });

    // French falls back to Spanish; Spanish falling back to French would loop: said under its field.
    await p.getByLabel(`Fallback of ${fr.nativeName}`).fill('es');
    await p.getByRole('button', { name: `Save the fallback of ${fr.nativeName}` }).click();
    await p.getByText(`The fallback chain of ${fr.nativeName} is saved.`).waitFor();
    expect((await language('fr'))?.fallback).toEqual(['es']);
    await p.getByLabel('Fallback of Español').fill('fr');
    await p.getByRole('button', { name: 'Save the fallback of Español' }).click();
    await p.getByText('This fallback chain would go round in a circle. Choose other languages.').first().waitFor();
    expect(await p.getByLabel('Fallback of Español').getAttribute('aria-invalid')).toBe('true');
    expect((await language('es'))?.fallback).toEqual([]);

    // The default cannot be disabled: in plain words, and nothing changed.
    await p.getByRole('button', { name: 'Disable English' }).click();
    await p
      .getByRole('alert')
      .getByText(
        'This is the default language: it cannot be disabled or deleted. Make another language the default first.',
      )
      .waitFor();
    expect(await language('en')).toMatchObject({ enabled: true, isDefault: true });

    // Spanish the default (the visitors' list says so), then English again.
    await p.getByRole('button', { name: 'Make Español the default' }).click();
    await p.getByText('Español is now the default language.').waitFor();
    expect(await language('es')).toMatchObject({ isDefault: true });
    expect((await publicCodes())[0]).toBe('es');
    await p.getByRole('button', { name: 'Make English the default' }).click();
    await p.getByText('English is now the default language.').waitFor();
    expect(await language('en')).toMatchObject({ isDefault: true });
    expect(await language('es')).toMatchObject({ isDefault: false });

    // Spanish is in French's chain: disabling it is refused while French is enabled.
    await p.getByRole('button', { name: 'Disable Español' }).click();
    await p
      .getByRole('alert')
      .getByText('Another enabled language falls back to this one.', { exact: false })
      .waitFor();
    expect((await language('es'))?.enabled).toBe(true);
    // French off: gone from the visitors' list, kept in the admin's.
    await p.getByRole('button', { name: `Disable ${fr.nativeName}` }).click();
    await p.getByText(`${fr.nativeName} is disabled.`).waitFor();
    expect((await language('fr'))?.enabled).toBe(false);
    expect(await publicCodes()).toEqual(['en', 'es']);

    // Spanish, on a phone: axe-clean, nothing wider than the screen.
    await p.setViewportSize({ width: 375, height: 740 });
    await p.getByLabel('Language').first().selectOption('es');
    await heading(p, 'Idiomas del sitio');
    await expectNoSeriousA11yViolations(p, 'admin: site languages (es, phone)');
    expect(await p.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
    await p.getByLabel('Idioma').first().selectOption('en');
    await p.setViewportSize({ width: 1280, height: 800 });
    expectCleanRun();
  }, 240_000);

  it('categories in two languages, given to a project with a skill; a section put into the project; a visitor reads it all', async () => {
    const portfolio = await createPortfolio(t.app, owner, {
      title: 'Grace',
      slug: 'grace',
      visibility: 'public',
      published: true,
    });
    const skill = await send(t.app, 'POST', `/api/portfolios/${portfolio.id}/skills`, {
      as: owner,
      body: { name: 'TypeScript', translations: { es: { name: 'TypeScript (es)' } } },
    });
    expect(skill.statusCode).toBe(201);
    const project = await send(t.app, 'POST', `/api/portfolios/${portfolio.id}/projects`, {
      as: owner,
      body: { title: 'Compiler', translations: { es: { title: 'Compilador' } } },
    });
    expect(project.statusCode).toBe(201);
    const projectId = project.json<{ id: string }>().id;
    const section = await send(t.app, 'POST', `/api/portfolios/${portfolio.id}/sections`, {
      as: owner,
      body: { kind: 'custom', title: 'How it works' },
    });
    expect(section.statusCode).toBe(201);
    const sectionId = section.json<{ id: string }>().id;

    const p = await ownerPage('/admin/categories');
    await heading(p, 'Categories');
    await expectNoSeriousA11yViolations(p, 'admin: categories');
    // A type of our own, then a category in it named in English and Spanish.
    await p.getByLabel('Type code').fill('topic');
    await p.getByLabel('Type name', { exact: true }).fill('Topic');
    await p.getByLabel('Type name (Español)').fill('Tema');
    await p.getByRole('button', { name: 'Create the type' }).click();
    await p.getByText('The type Topic is created.').waitFor();
    const types = await send(t.app, 'GET', '/api/category-types', { as: owner });
    expect(types.json().items).toContainEqual(
      expect.objectContaining({ code: 'topic', name: 'Topic', translations: { es: { name: 'Tema' } } }),
    );
    await p.getByLabel('Type', { exact: true }).selectOption('topic');
    await p.getByLabel('Code', { exact: true }).fill('web');
    await p.getByLabel('Name (English)', { exact: true }).fill('Web');
    await p.locator('#category-new-name-es').fill('La web');
    await p.getByRole('button', { name: 'Create the category' }).click();
    await p.getByText('The category Web is created.').waitFor();
    const listed = await send(t.app, 'GET', '/api/categories?type=topic', { as: owner });
    const [web] = listed.json<{ items: { id: string; code: string; name: string; translations: unknown }[] }>().items;
    expect(web).toMatchObject({ code: 'web', name: 'Web', translations: { es: { name: 'La web' } } });
    // The same code again in that type: the problem under "Code".
    await p.getByLabel('Type', { exact: true }).selectOption('topic');
    await p.getByLabel('Code', { exact: true }).fill('web');
    await p.getByLabel('Name (English)', { exact: true }).fill('Web again');
    await p.getByRole('button', { name: 'Create the category' }).click();
    await p.locator('#category-new-code-error').waitFor();
    expect(await p.getByLabel('Code', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    await expectNoSeriousA11yViolations(p, 'admin: categories with a field error');
    // Its own screen: the Spanish name changed.
    await p.getByRole('link', { name: 'Web', exact: true }).click();
    await heading(p, 'Category: Web');
    await p.locator('#category-name-es').fill('Web (es)');
    await p.getByRole('button', { name: 'Save', exact: true }).click();
    await p.getByText('The category Web is saved.').waitFor();
    await expectNoSeriousA11yViolations(p, 'admin: category');

    // The project: the category and the skill ticked, saved with the form.
    await p.goto(`${base}/admin/projects/${projectId}`);
    await heading(p, 'Project: Compiler');
    await p.getByRole('group', { name: 'Topic' }).getByLabel('Web').check();
    await p.getByRole('group', { name: 'Skills used in this project' }).getByLabel('TypeScript').check();
    await expectNoSeriousA11yViolations(p, 'admin: project with categories and skills');
    await p.getByRole('button', { name: 'Save', exact: true }).click();
    await heading(p, 'Portfolio: Grace');
    const saved = await send(t.app, 'GET', `/api/projects/${projectId}`, { as: owner });
    expect(saved.json()).toMatchObject({ categoryIds: [web!.id], skillIds: [skill.json<{ id: string }>().id] });

    // The section: put into the project.
    await p.goto(`${base}/admin/sections/${sectionId}`);
    await heading(p, 'Section: How it works');
    await p.getByLabel('Project', { exact: true }).selectOption({ label: 'Compiler' });
    await p.getByRole('button', { name: 'Save', exact: true }).click();
    await heading(p, 'Portfolio: Grace');
    expect((await send(t.app, 'GET', `/api/sections/${sectionId}`, { as: owner })).json()).toMatchObject({
      projectId,
    });

    // A visitor in Spanish: the category's Spanish name, the linked skill, the section inside the project.
    const visitor = (await (await fetch(`${base}/api/public/portfolios/grace?lang=es`)).json()) as {
      projects: {
        title: string;
        categories: { code: string; name: string }[];
        linkedSkills: { name: string }[];
        sections: { title: string }[];
      }[];
      sections: unknown[];
    };
    expect(visitor.projects[0]).toMatchObject({
      title: 'Compilador',
      categories: [{ code: 'web', name: 'Web (es)' }],
      linkedSkills: [{ name: 'TypeScript (es)' }],
      sections: [{ title: 'How it works' }],
    });
    expect(visitor.sections).toEqual([]);
    const filtered = (await (await fetch(`${base}/api/public/portfolios/grace?category=web`)).json()) as {
      projects: unknown[];
    };
    expect(filtered.projects).toHaveLength(1);
    expectCleanRun();
  }, 240_000);

  it('site texts side by side: a Spanish text edited, a new key, a key conflict in plain words, export and a replacing import', async () => {
    await putText(t.app, owner, 'nav.home', { en: 'Home' });
    const p = await ownerPage('/admin/texts');
    await heading(p, 'Site texts');
    await expectNoSeriousA11yViolations(p, 'admin: site texts');
    await p.getByLabel('nav.home (Español)').fill('Inicio');
    await p.getByRole('button', { name: 'Save nav.home' }).click();
    await p.getByText('nav.home is saved.').waitFor();
    const es = (await (await fetch(`${base}/api/public/texts?lang=es`)).json()) as { texts: Record<string, string> };
    expect(es.texts['nav.home']).toBe('Inicio');

    await p.getByLabel('New key').fill('footer.note');
    await p.getByRole('button', { name: 'Add the key' }).click();
    await p.getByLabel('footer.note (English)').fill('Made by hand');
    await p.getByLabel('footer.note (Español)').fill('Hecho a mano');
    await p.getByRole('button', { name: 'Save footer.note' }).click();
    await p.getByText('footer.note is saved.').waitFor();
    const admin = await send(t.app, 'GET', '/api/admin/texts?prefix=footer', { as: owner });
    expect(admin.json<{ items: unknown[] }>().items).toMatchObject([
      { key: 'footer.note', translations: { en: 'Made by hand', es: 'Hecho a mano' } },
    ]);

    // "nav" beside "nav.home": refused, in plain words, and nothing stored.
    await p.getByLabel('New key').fill('nav');
    await p.getByRole('button', { name: 'Add the key' }).click();
    await p.getByLabel('nav (English)').fill('Menu');
    await p.getByRole('button', { name: 'Save nav', exact: true }).click();
    await p
      .getByRole('alert')
      .getByText('A key cannot be both a text and the start of other keys', { exact: false })
      .waitFor();
    const nav = await send(t.app, 'GET', '/api/admin/texts?prefix=nav', { as: owner });
    expect(nav.json<{ items: { key: string }[] }>().items.map((x) => x.key)).toEqual(['nav.home']);
    await expectNoSeriousA11yViolations(p, 'admin: site texts with a problem');

    // Export Spanish as i18next JSON: exactly that language's own texts.
    await p.getByLabel('Language of the file').selectOption('es');
    const [download] = await Promise.all([
      p.waitForEvent('download'),
      p.getByRole('button', { name: 'Export the texts of this language' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('es.json');
    expect(JSON.parse(await readFile(String(await download.path()), 'utf8'))).toEqual({
      nav: { home: 'Inicio' },
      footer: { note: 'Hecho a mano' },
    });
    // A file with a number where a text goes: refused whole, said under the file field.
    await p.getByLabel('i18next JSON file').setInputFiles({
      name: 'bad.json',
      mimeType: 'application/json',
      buffer: Buffer.from(JSON.stringify({ nav: { about: 5 } })),
    });
    await p.getByRole('button', { name: 'Import the file' }).click();
    await p.locator('#texts-file-error').waitFor();
    expect(await p.getByLabel('i18next JSON file').getAttribute('aria-invalid')).toBe('true');
    // Then a good one, replacing: footer.note goes, nav.about comes, English untouched.
    await p.getByLabel('i18next JSON file').setInputFiles({
      name: 'es.json',
      mimeType: 'application/json',
      buffer: Buffer.from(JSON.stringify({ nav: { home: 'Inicio', about: 'Acerca de' } })),
    });
    await p.getByLabel('Replace', { exact: false }).check();
    await p.getByRole('button', { name: 'Import the file' }).click();
    // nav.home was already "Inicio": one text written (nav.about), one removed (footer.note).
    await p.getByText('Imported: 1 written, 1 removed.').waitFor();
    const after = (await (await fetch(`${base}/api/public/texts?lang=es`)).json()) as {
      texts: Record<string, string>;
    };
    expect(after.texts).toMatchObject({
      'nav.home': 'Inicio',
      'nav.about': 'Acerca de',
      'footer.note': 'Made by hand',
    });
    expectCleanRun();
  }, 120_000);

  it('missing translations: what is left to translate into Spanish, as the API reports it, linked to its screen', async () => {
    const portfolio = await createPortfolio(t.app, owner, {
      title: 'Half done',
      slug: 'half-done',
      translations: { es: { title: 'A medias' } },
    });
    const project = await send(t.app, 'POST', `/api/portfolios/${portfolio.id}/projects`, {
      as: owner,
      body: { title: 'Parser', description: 'Reads text', translations: { es: { title: 'Analizador' } } },
    });
    expect(project.statusCode).toBe(201);
    const report = await send(t.app, 'GET', '/api/admin/translations/missing?lang=es&limit=50', { as: owner });
    const mine = report
      .json<{ items: { portfolioId: string; missingFields: number }[] }>()
      .items.find((i) => i.portfolioId === portfolio.id);
    expect(mine?.missingFields).toBe(1);

    const p = await ownerPage('/admin/translations');
    await heading(p, 'Missing translations');
    await p.getByLabel('Language to check').selectOption('es');
    const card = p.locator(`[data-portfolio="${portfolio.id}"]`);
    await card.getByText('One field missing').waitFor();
    await expectNoSeriousA11yViolations(p, 'admin: missing translations');
    await card.getByRole('link', { name: 'Project: Parser' }).click();
    await heading(p, 'Project: Parser');
    await p.getByLabel('Description (Español)').fill('Lee texto');
    await p.getByRole('button', { name: 'Save', exact: true }).click();
    await heading(p, 'Portfolio: Half done');
    const again = await send(t.app, 'GET', '/api/admin/translations/missing?lang=es&limit=50', { as: owner });
    expect(
      again
        .json<{ items: { portfolioId: string; missingFields: number }[] }>()
        .items.find((i) => i.portfolioId === portfolio.id)?.missingFields ?? 0,
    ).toBe(0);
    expectCleanRun();
  }, 120_000);

  it('an image without alt text is flagged; its alt text and caption are written in English and Spanish and a visitor reads them; its language changed after upload', async () => {
    const portfolio = await createPortfolio(t.app, owner, {
      title: 'Alt',
      slug: 'alt-texts',
      visibility: 'public',
      published: true,
      // A Spanish text, so that a read in Spanish is answered in Spanish (the language is negotiated over the content).
      translations: { es: { title: 'Alt (es)' } },
    });
    const up = await upload(
      t.app,
      owner,
      { portfolioId: portfolio.id },
      { name: 'photo.png', type: 'image/png', data: await png(120, 80) },
      { category: 'main' },
    );
    expect([201, 202]).toContain(up.statusCode);
    const mediaId = up.json<{ id: string }>().id;
    const p = await ownerPage(`/admin/portfolios/${portfolio.id}`);
    await heading(p, 'Portfolio: Alt');
    const row = p.getByRole('row', { name: /photo\.png/ });
    await row.getByRole('cell', { name: 'Available' }).waitFor({ timeout: 30_000 });
    await p.getByText('One image has no alt text in every language it is shown in', { exact: false }).waitFor();
    await row.getByText('No alt text in English, Español').click();
    await p.getByLabel('Alt text of photo.png (English)').fill('A lighthouse at dusk');
    await p.getByLabel('Alt text of photo.png (Español)').fill('Un faro al atardecer');
    await p.getByLabel('Caption of photo.png (English)').fill('Finisterre, 2024');
    await p.getByLabel('Caption of photo.png (Español)').fill('Finisterre, en 2024');
    await expectNoSeriousA11yViolations(p, 'admin: media alt text');
    await p.getByRole('button', { name: 'Save the alt text of photo.png' }).click();
    await p.getByText('The alt text of photo.png is saved.').waitFor();
    expect(await p.getByText('has no alt text in every language', { exact: false }).count()).toBe(0);
    const media = await send(t.app, 'GET', `/api/media/${mediaId}`, { as: owner });
    expect(media.json()).toMatchObject({
      alt: 'A lighthouse at dusk',
      caption: 'Finisterre, 2024',
      translations: { es: { alt: 'Un faro al atardecer', caption: 'Finisterre, en 2024' } },
    });
    const visitor = (await (await fetch(`${base}/api/public/portfolios/alt-texts?lang=es`)).json()) as {
      media: { alt: string; caption: string }[];
    };
    expect(visitor.media.map((m) => [m.alt, m.caption])).toEqual([['Un faro al atardecer', 'Finisterre, en 2024']]);
    // Its language after upload: Spanish only, then every language again.
    await p.getByLabel('Language of photo.png').selectOption('es');
    await p.getByText('photo.png is now for Español.').waitFor();
    expect((await send(t.app, 'GET', `/api/media/${mediaId}`, { as: owner })).json().language).toBe('es');
    await p.getByLabel('Language of photo.png').selectOption('');
    await p.getByText('photo.png is now for Every language.').waitFor();
    expect((await send(t.app, 'GET', `/api/media/${mediaId}`, { as: owner })).json().language).toBeNull();

    // The portfolio screen with its schedule, categories and alt texts, in Spanish on a phone.
    await p.setViewportSize({ width: 375, height: 740 });
    await p.getByLabel('Language').first().selectOption('es');
    await heading(p, 'Portafolio: Alt');
    await p.getByText('Programación', { exact: true }).waitFor();
    await expectNoSeriousA11yViolations(p, 'admin: portfolio edit with schedule and alt text (es, phone)');
    expect(await p.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
    await p.getByLabel('Idioma').first().selectOption('en');
    await p.setViewportSize({ width: 1280, height: 800 });
    expectCleanRun();
  }, 120_000);

  // Last: it moves the server's clock years ahead (sessions made before then end).
  it('scheduling: Madrid time stated and sent as the same instant, a bad order under its field, cancel, then the job publishes', async () => {
    const portfolio = await createPortfolio(t.app, owner, { title: 'Later', slug: 'later', visibility: 'public' });
    const p = await ownerPage(`/admin/portfolios/${portfolio.id}`);
    await heading(p, 'Portfolio: Later');
    await p.getByText('Times are in your time zone, Europe/Madrid.').waitFor();
    await p.getByText('Nothing is scheduled.').waitFor();
    await expectNoSeriousA11yViolations(p, 'admin: portfolio schedule');
    const read = async () =>
      (await send(t.app, 'GET', `/api/portfolios/${portfolio.id}`, { as: owner })).json<{
        publishAt: string | null;
        unpublishAt: string | null;
        published: boolean;
      }>();

    // Unpublish before publish: the API's problem under "Unpublish at", nothing stored.
    await p.getByLabel('Publish at', { exact: true }).fill('2030-01-31T09:00');
    await p.getByLabel('Unpublish at').fill('2030-01-30T09:00');
    await p.getByRole('button', { name: 'Save the schedule' }).click();
    await p.locator('#portfolios-schedule-unpublish-error').waitFor();
    expect(await p.getByLabel('Unpublish at').getAttribute('aria-invalid')).toBe('true');
    expect(await read()).toMatchObject({ publishAt: null, unpublishAt: null });

    // 09:00 in Madrid in January is 08:00 UTC.
    await p.getByLabel('Unpublish at').fill('');
    await p.getByRole('button', { name: 'Save the schedule' }).click();
    await p.getByText('The schedule is saved.').waitFor();
    expect(await read()).toMatchObject({ publishAt: '2030-01-31T08:00:00.000Z', unpublishAt: null, published: false });
    await p.getByText(/Publishes on .*2030/).waitFor();

    // Cancel, then schedule again.
    await p.getByRole('button', { name: 'Cancel the schedule' }).click();
    await p.getByText('The schedule is cancelled.').waitFor();
    expect(await read()).toMatchObject({ publishAt: null, unpublishAt: null });
    await p.getByLabel('Publish at', { exact: true }).fill('2030-01-31T09:00');
    await p.getByRole('button', { name: 'Save the schedule' }).click();
    await p.getByText('The schedule is saved.').waitFor();
    expect((await read()).publishAt).toBe('2030-01-31T08:00:00.000Z');
    expectCleanRun();

    // The job: one minute before, still a draft to visitors; at the instant typed, published.
    expect((await fetch(`${base}/api/public/portfolios/later`)).status).toBe(404);
    t.clock.set(new Date('2030-01-31T07:59:00Z'));
    await t.app.contentSchedule.tick();
    expect((await fetch(`${base}/api/public/portfolios/later`)).status).toBe(404);
    t.clock.set(new Date('2030-01-31T08:00:00Z'));
    await t.app.contentSchedule.tick();
    const visitor = await fetch(`${base}/api/public/portfolios/later`);
    expect(visitor.status).toBe(200);
  }, 120_000);
});
