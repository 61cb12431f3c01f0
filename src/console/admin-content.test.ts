/**
 * The admin's content screens (/admin, web/console/src/admin/) in headless Chromium against a
 * real server, on the default configuration (AUTH_COOKIES off: the console's browser mode):
 *
 * - an owner (admin, TOTP enrolled) opens /admin, is sent to sign-in and comes back with `?next=`;
 *   creates a portfolio with its title in English and Spanish side by side (a reserved slug first:
 *   the API's problem shows under the Slug field), adds two projects in two languages, reorders them
 *   with the keyboard alone (the live region announces it, the focus stays on the moved row, the
 *   API's order changes; then once with the mouse, by drag and drop), uploads an image and watches the progress bar and then the pipeline
 *   status reach "Available", publishes, and a visitor reads it from the public API in Spanish;
 * - a user without admin permissions gets no admin screen (and the API refuses the calls anyway).
 *
 * axe finds nothing serious or critical on each screen; the CSP recorder records nothing.
 * Needs /usr/bin/chromium (test/support/browser).
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../../test/helpers/app.js';
import { createUser, type TestUser } from '../../test/helpers/factories.js';
import { expectNoSeriousA11yViolations } from '../../test/support/browser/axe.js';
import { watchContext, type PageWatch } from '../../test/support/browser/csp.js';
import { launchChromium, SKIP_BROWSER_TESTS } from '../../test/support/browser/launch.js';
import { enableLanguages } from '../../test/support/languages/helpers.js';
import { enrollTotp, oathCode } from '../../test/support/mfa/helpers.js';
import { png, TEST_CLAMAV_URL } from '../../test/support/uploads/helpers.js';
import { localhostTestApp } from '../../test/support/browser/server.js';
import { signInThroughApi } from '../../test/support/browser/session.js';

describe.skipIf(SKIP_BROWSER_TESTS)('admin content screens in headless Chromium', () => {
  let t: TestApp;
  let base: string;
  let browser: Browser;
  let context: BrowserContext;
  let watch: PageWatch;

  beforeAll(async () => {
    ({ t, base } = await localhostTestApp({
      // The real clamd when this run has one (the status then goes through scanning), else no scan.
      ...(TEST_CLAMAV_URL ? { CLAMAV_URL: TEST_CLAMAV_URL } : { UPLOAD_SCAN: 'off' }),
      UPLOAD_RETRY_INTERVAL: '0',
    }));
    expect(t.config.AUTH_COOKIES).toBe(false);
    await enableLanguages(t.app, 'es');
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  afterEach(async () => {
    await context?.close();
  });

  async function newPage(): Promise<Page> {
    context = await browser.newContext({ locale: 'en-US' });
    watch = await watchContext(context);
    return context.newPage();
  }

  function expectCleanRun(): void {
    expect(watch.violations).toEqual([]);
    expect(watch.problems).toEqual([]);
  }

  async function heading(page: Page, name: string | RegExp): Promise<void> {
    await page.getByRole('heading', { level: 1, name }).waitFor();
    expect(await page.getByRole('heading', { level: 1 }).count()).toBe(1);
  }

  /** From the sign-in page /admin sent us to: password, then the code when the account has TOTP. */
  async function signIn(page: Page, user: TestUser, secret?: string): Promise<void> {
    await heading(page, 'Sign in');
    await page.getByLabel('Email', { exact: true }).fill(user.email);
    await page.getByLabel('Password', { exact: true }).fill(user.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    if (secret) {
      await page.getByLabel('Authentication code', { exact: true }).fill(oathCode(secret, t.clock.now().getTime()));
      await page.getByRole('button', { name: 'Verify', exact: true }).click();
    }
  }

  async function projectTitles(portfolioId: string): Promise<string[]> {
    const res = await t.app.inject({
      method: 'GET',
      url: `/api/portfolios/${portfolioId}/projects`,
      headers: owner.auth,
    });
    expect(res.statusCode).toBe(200);
    return res.json<{ items: { title: string }[] }>().items.map((p) => p.title);
  }

  let owner: TestUser;

  it('an owner signs in through /admin, creates a portfolio with a project in two languages, reorders by keyboard and by mouse, uploads an image, publishes; a visitor reads it', async () => {
    owner = await createUser(t.app, { role: 'admin' });
    const { secret } = await enrollTotp(t.app, t.clock, owner);
    const page = await newPage();

    // Not signed in: /admin/portfolios sends to sign-in, which comes back there.
    await page.goto(`${base}/admin/portfolios`);
    await page.waitForURL((u) => u.pathname === '/account/sign-in');
    expect(new URL(page.url()).searchParams.get('next')).toBe('/admin/portfolios');
    await signIn(page, owner, secret);
    await heading(page, 'Portfolios');
    expect(new URL(page.url()).pathname).toBe('/admin/portfolios');
    await page.getByText('No portfolios yet.').waitFor();
    await expectNoSeriousA11yViolations(page, 'admin: portfolio list (empty)');

    // The admin home and its navigation.
    await page.getByRole('link', { name: 'Admin home' }).click();
    await heading(page, 'Admin');
    await expectNoSeriousA11yViolations(page, 'admin: home');
    await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Portfolios' }).click();
    await heading(page, 'Portfolios');

    // A new portfolio, its title side by side in English and Spanish.
    await page.getByRole('link', { name: 'New portfolio' }).click();
    await heading(page, 'New portfolio');
    await page.getByLabel('Title (English)').fill('Ada Lovelace');
    await page.getByLabel('Title (Español)').fill('Ada Lovelace (es)');
    await page.getByLabel('Summary (Español)').fill('Primera programadora');
    await page.getByLabel('Visibility').selectOption('public');
    // A reserved slug: the API's problem+json lands under the Slug field.
    await page.getByLabel('Slug').fill('default');
    await page.getByRole('button', { name: 'Create' }).click();
    const slugError = page.locator('#field-slug-error');
    await slugError.waitFor();
    expect(await slugError.textContent()).toMatch(/reserved/);
    expect(await page.getByLabel('Slug').getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByLabel('Slug').getAttribute('aria-describedby')).toContain('field-slug-error');
    await expectNoSeriousA11yViolations(page, 'admin: new portfolio with a field error');
    await page.getByLabel('Slug').fill('ada-lovelace');
    await page.getByRole('button', { name: 'Create' }).click();
    await heading(page, 'Portfolio: Ada Lovelace');
    const portfolioId = new URL(page.url()).pathname.split('/').at(-1) ?? '';
    expect(portfolioId).toMatch(/^[0-9a-f-]{36}$/);
    await expectNoSeriousA11yViolations(page, 'admin: portfolio edit');

    // Two projects, each in English and Spanish.
    for (const [en, es] of [
      ['First project', 'Primer proyecto'],
      ['Second project', 'Segundo proyecto'],
    ] as const) {
      await page.getByRole('link', { name: 'Add a project' }).click();
      await heading(page, 'Add a project');
      await page.getByLabel('Title (English)').fill(en);
      await page.getByLabel('Title (Español)').fill(es);
      await page.getByLabel('Description (Español)').fill(`${es}: descripción`);
      if (en === 'First project') await expectNoSeriousA11yViolations(page, 'admin: add a project');
      await page.getByRole('button', { name: 'Create' }).click();
      await heading(page, 'Portfolio: Ada Lovelace');
      await page.getByRole('button', { name: `Reorder ${en}` }).waitFor();
    }
    expect(await projectTitles(portfolioId)).toEqual(['First project', 'Second project']);

    // Keyboard only: focus the second project's handle, press the up arrow.
    const handle = page.getByRole('button', { name: 'Reorder Second project' });
    await handle.focus();
    await page.keyboard.press('ArrowUp');
    await page.getByText('Second project moved to position 1 of 2.').waitFor();
    expect(await projectTitles(portfolioId)).toEqual(['Second project', 'First project']);
    // The keyboard stays on the row that moved.
    expect(await page.evaluate('document.activeElement.getAttribute("aria-label")')).toBe('Reorder Second project');
    // And the "Move down" button does the same from the keyboard (Enter), back and forth.
    await page.getByRole('button', { name: 'Move Second project down' }).focus();
    await page.keyboard.press('Enter');
    await page.getByText('Second project moved to position 2 of 2.').waitFor();
    expect(await projectTitles(portfolioId)).toEqual(['First project', 'Second project']);
    await page.getByRole('button', { name: 'Move Second project up' }).focus();
    await page.keyboard.press('Enter');
    await page.getByText('Second project moved to position 1 of 2.').waitFor();
    expect(await projectTitles(portfolioId)).toEqual(['Second project', 'First project']);
    // And with the mouse: drag the first project's row onto the row above it (HTML5 drag and drop).
    await page
      .locator('li.order-item', { hasText: 'First project' })
      .dragTo(page.locator('li.order-item', { hasText: 'Second project' }));
    await page.getByText('First project moved to position 1 of 2.').waitFor();
    expect(await projectTitles(portfolioId)).toEqual(['First project', 'Second project']);
    await expect
      .poll(() => page.locator('li.order-item .order-title').allTextContents())
      .toEqual([expect.stringContaining('First project'), expect.stringContaining('Second project')]);
    // Back by keyboard, so the rest of the journey reads the order it expects.
    await page.getByRole('button', { name: 'Move Second project up' }).focus();
    await page.keyboard.press('Enter');
    await page.getByText('Second project moved to position 1 of 2.').waitFor();
    expect(await projectTitles(portfolioId)).toEqual(['Second project', 'First project']);
    // axe: the reordered list is scanned below with the media table added ('portfolio edit with media').

    // An image: a progress bar while it streams, then its status until "Available".
    await page.evaluate(`(() => {
      window.__progress = [];
      new MutationObserver(() => {
        const bar = document.querySelector('progress');
        if (bar) window.__progress.push(Number(bar.getAttribute('value')));
      }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['value'] });
    })()`);
    await page.getByLabel('File', { exact: true }).setInputFiles({
      name: 'portrait.png',
      mimeType: 'image/png',
      buffer: await png(1200, 900),
    });
    await page.getByLabel('Category').selectOption('main');
    await page.getByRole('button', { name: 'Upload' }).click();
    const row = page.getByRole('row', { name: /portrait\.png/ });
    await row.getByRole('cell', { name: 'Available' }).waitFor({ timeout: 30_000 });
    const progress = await page.evaluate<number[]>('window.__progress');
    expect(progress.length).toBeGreaterThan(0);
    expect(Math.max(...progress)).toBe(100);
    await expectNoSeriousA11yViolations(page, 'admin: portfolio edit with media');

    // Publish, then a visitor (no cookies) reads it in Spanish, in the new order, with the image.
    await page.getByRole('button', { name: 'Publish' }).click();
    await page.getByRole('button', { name: 'Unpublish' }).waitFor();
    await page.getByRole('link', { name: 'Open the public version' }).waitFor();
    const visitor = await fetch(`${base}/api/public/portfolios/ada-lovelace?lang=es`);
    expect(visitor.status).toBe(200);
    const body = (await visitor.json()) as {
      title: string;
      summary: string;
      projects: { title: string; description: string }[];
      media?: { category: string }[];
    };
    expect(body.title).toBe('Ada Lovelace (es)');
    expect(body.summary).toBe('Primera programadora');
    expect(body.projects.map((p) => p.title)).toEqual(['Segundo proyecto', 'Primer proyecto']);
    expect(body.projects[0]?.description).toBe('Segundo proyecto: descripción');
    expect(body.media?.map((m) => m.category)).toEqual(['main']);
    const english = (await (await fetch(`${base}/api/public/portfolios/ada-lovelace`)).json()) as { title: string };
    expect(english.title).toBe('Ada Lovelace');

    // The same screen in Spanish on a phone: axe-clean, nothing wider than the screen.
    await page.setViewportSize({ width: 375, height: 740 });
    await page.getByLabel('Language').first().selectOption('es');
    await heading(page, 'Portafolio: Ada Lovelace');
    await page.getByRole('button', { name: 'Reordenar Second project' }).waitFor();
    await expectNoSeriousA11yViolations(page, 'admin: portfolio edit (es, phone)');
    expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
    expectCleanRun();
  }, 360_000);

  it('a user without admin permissions gets no admin screen, and the API refuses the calls anyway', async () => {
    const user = await createUser(t.app, { role: 'user' });
    // Signed in with the console's sign-in calls (the redirect through the sign-in page is the first test's).
    const page = await newPage();
    await signInThroughApi(page.context(), base, user);
    await page.goto(`${base}/admin`);
    await heading(page, 'No access to the admin');
    expect(new URL(page.url()).pathname).toBe('/admin');
    expect(await page.getByRole('navigation', { name: 'Admin' }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Portfolios' }).count()).toBe(0);
    await expectNoSeriousA11yViolations(page, 'admin: no access');
    // A screen's address typed directly shows the same page, not the screen.
    await page.goto(`${base}/admin/portfolios/create`);
    await heading(page, 'No access to the admin');
    expect(await page.getByLabel('Slug').count()).toBe(0);

    // The session itself, from the page (cookies + CSRF): the API says no to what the admin would call.
    const foreign = await ownerPortfolioId();
    const answers = await page.evaluate<Record<string, number>>(`(async () => {
      const csrf = decodeURIComponent((document.cookie.split('; ').find((c) => c.startsWith('__Host-csrf=')) || '').split('=')[1] || '');
      const headers = { 'x-auth-mode': 'browser', 'x-csrf-token': csrf, 'content-type': 'application/json' };
      const get = (path) => fetch(path, { headers }).then((r) => r.status);
      return {
        users: await get('/api/admin/users'),
        languages: await get('/api/admin/languages'),
        others: await fetch('/api/portfolios', { headers }).then((r) => r.json()).then((b) => b.items.length),
        foreign: await get('/api/portfolios/${foreign}'),
        patchForeign: await fetch('/api/portfolios/${foreign}', {
          method: 'PATCH', headers, body: JSON.stringify({ published: false }),
        }).then((r) => r.status),
      };
    })()`);
    expect(answers).toEqual({ users: 403, languages: 403, others: 0, foreign: 404, patchForeign: 404 });
    expectCleanRun();
  }, 90_000);

  /** The owner's portfolio from the first test (or a fresh one when this test runs alone). */
  async function ownerPortfolioId(): Promise<string> {
    owner ??= await createUser(t.app, { role: 'admin' });
    const list = await t.app.inject({ method: 'GET', url: '/api/portfolios', headers: owner.auth });
    const first = list.json<{ items: { id: string }[] }>().items[0];
    if (first) return first.id;
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/portfolios',
      headers: owner.auth,
      payload: { title: 'Owner only', slug: 'owner-only' },
    });
    return created.json<{ id: string }>().id;
  }
});
