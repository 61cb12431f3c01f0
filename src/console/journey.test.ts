/**
 * The whole journey of a new owner, in headless Chromium against a real server on the default
 * configuration (AUTH_COOKIES off: the console's browser mode, cookies + CSRF), as issue 18 lists it:
 *
 * an admin invites them (the API) → they accept from the link of the invitation mail (which also
 * confirms their email: the mailed link proves the mailbox) → sign in (admins must set up a second
 * factor) → set up an authenticator app by reading the secret off the page (codes from otpauth) →
 * sign out → sign in with a code → create a portfolio with a project in two languages through the
 * admin screens → upload an image and watch it become available → publish → a visitor (fetch, no
 * cookies) reads the project in both languages and the image.
 *
 * All along: the CSP recorder records nothing and axe finds nothing serious or critical on each page
 * visited. The main screens are photographed on the way (docs/console-screenshots/*.png, referenced
 * from docs/CONSOLE.md): every screenshot is taken on every run (it fails on a broken page), and
 * written only with UPDATE_SCREENSHOTS=1, so a CI run never dirties the tree.
 *
 * Needs /usr/bin/chromium (test/support/browser).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as OTPAuth from 'otpauth';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../../test/helpers/app.js';
import { createUser, strongPassword, uniqueEmail } from '../../test/helpers/factories.js';
import { expectNoSeriousA11yViolations } from '../../test/support/browser/axe.js';
import { watchContext, type PageWatch } from '../../test/support/browser/csp.js';
import { launchChromium, SKIP_BROWSER_TESTS } from '../../test/support/browser/launch.js';
import { mailCount, mailedLink } from '../../test/support/browser/mail.js';
import { localhostTestApp } from '../../test/support/browser/server.js';
import { enableLanguages } from '../../test/support/languages/helpers.js';
import { png, TEST_CLAMAV_URL } from '../../test/support/uploads/helpers.js';
import { AUDIT_ACTIONS } from '../security/audit/actions.js';

const SCREENSHOTS = path.resolve(import.meta.dirname, '../../docs/console-screenshots');
const UPDATE_SCREENSHOTS = process.env['UPDATE_SCREENSHOTS'] === '1';
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 375, height: 740 };

/** The code an authenticator app shows for `secret` at `ms` (otpauth, RFC 6238 defaults). */
function totpCode(secret: string, ms: number): string {
  return new OTPAuth.TOTP({
    secret: OTPAuth.Secret.fromBase32(secret),
    digits: 6,
    period: 30,
    algorithm: 'SHA1',
  }).generate({
    timestamp: ms,
  });
}

describe.skipIf(SKIP_BROWSER_TESTS)('the journey of a new owner in headless Chromium', () => {
  let t: TestApp;
  let base: string;
  let browser: Browser;
  let context: BrowserContext | undefined;
  let watch: PageWatch;

  beforeAll(async () => {
    ({ t, base } = await localhostTestApp({
      // The real clamd when this run has one (the status then goes through scanning), else no scan.
      ...(TEST_CLAMAV_URL ? { CLAMAV_URL: TEST_CLAMAV_URL } : { UPLOAD_SCAN: 'off' }),
      UPLOAD_RETRY_INTERVAL: '0',
      // Mails stay in the outbox (a sent one has its link erased): the test opens the invitation's.
      MAIL_POLL_INTERVAL: '0',
    }));
    expect(t.config.AUTH_COOKIES).toBe(false);
    await enableLanguages(t.app, 'es');
    if (UPDATE_SCREENSHOTS) await mkdir(SCREENSHOTS, { recursive: true });
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await context?.close().catch(() => undefined);
    await browser?.close();
    await t?.close();
  });

  /**
   * The page's one <h1> says where we are; axe finds nothing serious or critical on it (unless
   * `scanned`: the same screen in a state this journey scans at another step).
   */
  async function at(page: Page, name: string | RegExp, options: { scanned?: boolean } = {}): Promise<void> {
    await page.getByRole('heading', { level: 1, name }).waitFor();
    expect(await page.getByRole('heading', { level: 1 }).count()).toBe(1);
    if (!options.scanned) await expectNoSeriousA11yViolations(page, String(name));
  }

  /** Always taken (a broken page fails here); written to docs/console-screenshots/ only with UPDATE_SCREENSHOTS=1. */
  async function screenshot(page: Page, name: string): Promise<void> {
    const bytes = await page.screenshot({ type: 'png', animations: 'disabled', caret: 'hide' });
    expect(bytes.subarray(1, 4).toString('latin1')).toBe('PNG');
    if (UPDATE_SCREENSHOTS) await writeFile(path.join(SCREENSHOTS, `${name}.png`), bytes);
  }

  /** The same screen at phone width (nothing wider than the screen), then back to the desktop. */
  async function phoneScreenshot(page: Page, name: string): Promise<void> {
    await page.setViewportSize(PHONE);
    // Nothing wider than the screen; when something is, name it (its box or its text sticks out).
    const wider = await page.evaluate<string[]>(`(() => {
      if (document.documentElement.scrollWidth <= window.innerWidth) return [];
      const scrolls = (el) => { for (let p = el.parentElement; p; p = p.parentElement) { if (/auto|scroll/.test(getComputedStyle(p).overflowX)) return true; } return false; };
      const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (typeof el.className === 'string' && el.className.trim() ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
      const out = [];
      for (const el of document.querySelectorAll('body *')) {
        if (scrolls(el)) continue;
        const r = el.getBoundingClientRect();
        const textRight = r.left + el.scrollWidth;
        if (r.right > window.innerWidth + 1 || (getComputedStyle(el).overflowX === 'visible' && textRight > window.innerWidth + 1))
          out.push(name(el) + ' right=' + Math.round(Math.max(r.right, textRight)) + ' "' + (el.textContent || '').trim().slice(0, 40) + '"');
      }
      return out.length ? out.slice(-12) : ['scrollWidth ' + document.documentElement.scrollWidth];
    })()`);
    expect(wider, name).toEqual([]);
    await expectNoSeriousA11yViolations(page, `${name} (phone)`);
    await screenshot(page, name);
    await page.setViewportSize(DESKTOP);
  }

  it('invited → accepts from the mail → signs in → sets up TOTP → signs in with a code → publishes a portfolio in two languages with an image → a visitor reads it', async () => {
    // An admin invites the new owner (the API, as the Invitations screen does).
    const inviter = await createUser(t.app, { role: 'admin' });
    const email = uniqueEmail('owner');
    const password = strongPassword();
    const invited = await t.app.inject({
      method: 'POST',
      url: '/api/admin/invitations',
      headers: inviter.auth,
      payload: { email, roles: ['admin'] },
    });
    expect(invited.statusCode, invited.body).toBe(201);

    context = await browser.newContext({ locale: 'en-US', viewport: DESKTOP });
    watch = await watchContext(context);
    const page = await context.newPage();

    // 1. The invitation mail's link: name and password; the account is created with its email confirmed.
    const invitation = await mailedLink(t.app, email, 'invitation');
    expect(invitation.origin).toBe(base);
    expect(invitation.pathname).toBe('/accept-invite');
    await page.goto(invitation.href);
    await at(page, 'Accept your invitation');
    expect(page.url()).toBe(`${base}/accept-invite`);
    await page.getByLabel('Name', { exact: true }).fill('Olivia Owner');
    await page.getByLabel('New password', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Set password' }).click();
    await page.getByRole('status').filter({ hasText: 'your email is confirmed' }).waitFor();
    // The invitation link was the proof of the mailbox: no separate confirmation mail is needed.
    expect(await mailCount(t.app, email, 'email_verification')).toBe(0);

    // 2. Sign in: an admin must set up a second factor (MFA_REQUIRED_ROLES), and is told where.
    await page.goto(`${base}/account/sign-in`);
    await at(page, 'Sign in');
    await screenshot(page, 'sign-in');
    await phoneScreenshot(page, 'sign-in-phone');
    await page.getByLabel('Email', { exact: true }).fill(email);
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await at(page, 'Set up a second factor');
    await page.getByRole('link', { name: 'My account' }).click();
    await at(page, 'My account');
    await page.getByText('Email confirmed', { exact: true }).waitFor();

    // 3. The authenticator app: the secret read off the page, the code computed by otpauth.
    await page.getByRole('link', { name: 'Set up an authenticator app' }).click();
    await at(page, 'Authenticator app');
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
    await page.getByRole('img', { name: 'QR code to add this account to an authenticator app' }).waitFor();
    const secret = ((await page.locator('#totp-secret').textContent()) ?? '').replace(/\s+/g, '');
    expect(secret).toMatch(/^[A-Z2-7]{16,}$/);
    await expectNoSeriousA11yViolations(page, 'authenticator app: scan');
    await screenshot(page, 'account-security-totp');
    await page.getByLabel('Authentication code', { exact: true }).fill(totpCode(secret, t.clock.now().getTime()));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('heading', { level: 2, name: 'Your backup codes' }).waitFor();
    await expectNoSeriousA11yViolations(page, 'authenticator app: backup codes');
    await page.getByRole('button', { name: 'I have saved them' }).click();
    await page.getByText('Backup codes left: 10 of 10.').waitFor();

    // 4. Sign out; then /admin sends to sign-in, which now asks for the code, and comes back.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByText('You are not signed in.').waitFor();
    t.clock.advance(30_000); // a fresh time step: a used code never works twice
    await page.goto(`${base}/admin/portfolios`);
    await page.waitForURL((u) => u.pathname === '/account/sign-in');
    await at(page, 'Sign in', { scanned: true });
    await page.getByLabel('Email', { exact: true }).fill(email);
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await at(page, 'Confirm it is you');
    await page.getByLabel('Authentication code', { exact: true }).fill(totpCode(secret, t.clock.now().getTime()));
    await page.getByRole('button', { name: 'Verify' }).click();
    await at(page, 'Portfolios');
    expect(new URL(page.url()).pathname).toBe('/admin/portfolios');

    // 5. A portfolio, its title side by side in English and Spanish.
    await page.getByRole('link', { name: 'New portfolio' }).click();
    await at(page, 'New portfolio');
    await page.getByLabel('Title (English)').fill('Olivia Owner');
    await page.getByLabel('Title (Español)').fill('Olivia Owner (es)');
    await page.getByLabel('Summary (English)').fill('Architect of quiet buildings');
    await page.getByLabel('Summary (Español)').fill('Arquitecta de edificios tranquilos');
    await page.getByLabel('Slug').fill('olivia');
    await page.getByLabel('Visibility').selectOption('public');
    await screenshot(page, 'admin-portfolio-two-languages');
    await page.getByRole('button', { name: 'Create' }).click();
    await at(page, 'Portfolio: Olivia Owner');

    // 6. A project in both languages.
    await page.getByRole('link', { name: 'Add a project' }).click();
    await at(page, 'Add a project');
    await page.getByLabel('Title (English)').fill('Library by the river');
    await page.getByLabel('Title (Español)').fill('Biblioteca junto al río');
    await page.getByLabel('Description (English)').fill('A reading room over the water.');
    await page.getByLabel('Description (Español)').fill('Una sala de lectura sobre el agua.');
    await screenshot(page, 'admin-project-two-languages');
    await page.getByRole('button', { name: 'Create' }).click();
    // Scanned below with the media table added ('portfolio with media').
    await at(page, 'Portfolio: Olivia Owner', { scanned: true });
    await page.getByRole('button', { name: 'Reorder Library by the river' }).waitFor();

    // 7. An image: uploaded, then its pipeline status until "Available".
    await page.getByLabel('File', { exact: true }).setInputFiles({
      name: 'river-library.png',
      mimeType: 'image/png',
      buffer: await png(1200, 900),
    });
    await page.getByLabel('Category').selectOption('main');
    await page.getByRole('button', { name: 'Upload' }).click();
    const mediaRow = page.getByRole('row', { name: /river-library\.png/ });
    await mediaRow.getByRole('cell', { name: 'Available' }).waitFor({ timeout: 60_000 });
    await expectNoSeriousA11yViolations(page, 'portfolio with media');
    await mediaRow.scrollIntoViewIfNeeded();
    await screenshot(page, 'admin-media-status');

    // 8. Publish.
    await page.getByRole('button', { name: 'Publish' }).click();
    await page.getByRole('button', { name: 'Unpublish' }).waitFor();
    await page.getByRole('link', { name: 'Open the public version' }).waitFor();
    await expectNoSeriousA11yViolations(page, 'portfolio published');
    await page.evaluate('window.scrollTo(0, 0)');
    await screenshot(page, 'admin-portfolio-edit');
    await phoneScreenshot(page, 'admin-portfolio-edit-phone');

    // 9. A visitor: no cookies, the public API, in both languages, with the image.
    interface PublicRead {
      title: string;
      summary: string;
      projects: { title: string; description: string }[];
      media?: { category: string; name: string; url: string }[];
    }
    const read = async (query: string): Promise<PublicRead> => {
      const res = await fetch(`${base}/api/public/portfolios/olivia${query}`);
      expect(res.status).toBe(200);
      return (await res.json()) as PublicRead;
    };
    const english = await read('');
    expect(english.title).toBe('Olivia Owner');
    expect(english.summary).toBe('Architect of quiet buildings');
    expect(english.projects.map((p) => [p.title, p.description])).toEqual([
      ['Library by the river', 'A reading room over the water.'],
    ]);
    const spanish = await read('?lang=es');
    expect(spanish.title).toBe('Olivia Owner (es)');
    expect(spanish.summary).toBe('Arquitecta de edificios tranquilos');
    expect(spanish.projects.map((p) => [p.title, p.description])).toEqual([
      ['Biblioteca junto al río', 'Una sala de lectura sobre el agua.'],
    ]);
    for (const body of [english, spanish]) {
      expect(body.media?.map((m) => [m.category, m.name])).toEqual([['main', 'river-library.png']]);
    }
    const image = await fetch(new URL(english.media?.[0]?.url ?? '', base));
    expect(image.status).toBe(200);
    expect(image.headers.get('content-type')).toMatch(/^image\//);
    expect((await image.arrayBuffer()).byteLength).toBeGreaterThan(0);

    // 10. The owner's other screens: users (with their second factors), the audit log, alerts.
    await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Users', exact: true }).click();
    await at(page, 'Users');
    const ownerRow = page.getByRole('row').filter({ hasText: email });
    await ownerRow.waitFor();
    expect(await ownerRow.textContent()).toContain('Authenticator app');
    expect(await page.getByRole('row').filter({ hasText: inviter.email }).textContent()).toContain('None');
    await screenshot(page, 'admin-users');

    await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Audit log', exact: true }).click();
    await at(page, 'Audit log');
    await page.getByRole('cell', { name: 'mfa.totp.enrolled' }).first().waitFor();
    await screenshot(page, 'admin-audit-log');

    // An alert, as the detection consumer raises one (a rotated refresh token presented again).
    await t.app.audit.record({
      action: AUDIT_ACTIONS.refreshReused,
      actor: inviter.id,
      outcome: 'failure',
      target: { type: 'user', id: inviter.id },
      metadata: {},
    });
    await t.app.audit.flush();
    await t.app.detection.consumer.runOnce();
    await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Alerts', exact: true }).click();
    await at(page, 'Alerts');
    const alertLink = page.getByRole('link', { name: /^Alert refresh-token-reuse/ });
    await alertLink.waitFor();
    await screenshot(page, 'admin-alerts');
    await alertLink.click();
    await at(page, 'Alert: refresh-token-reuse');
    await page.getByRole('row', { name: /\(this alert\)/ }).waitFor();
    await screenshot(page, 'admin-alert-detail');

    // No CSP violation, no page error, anywhere on the way.
    expect(watch.violations).toEqual([]);
    expect(watch.problems).toEqual([]);
  }, 420_000);
});
