/**
 * "My account" (/account/*) in headless Chromium against a real server, on the default
 * configuration (AUTH_COOKIES off: the console's browser mode): a signed-out visitor is sent to
 * sign-in and comes back; TOTP set up by reading the secret off the page (codes from oathtool),
 * backup codes downloaded, then a sign-in with a code; passkeys added, renamed and removed through
 * Chromium's virtual authenticator (removal after the step-up the server asks for); a session
 * revoked from the sessions screen loses its access at once; a session that ends mid-form is
 * signed in again in place and the form keeps what was typed. axe finds nothing serious or
 * critical on any screen (English on a desktop, Spanish on a phone) and the CSP recorder records
 * nothing.
 *
 * One browser for the file, one context per test. Needs /usr/bin/chromium (test/support/browser).
 */
import { readFile } from 'node:fs/promises';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../../test/helpers/app.js';
import { createUser, strongPassword } from '../../test/helpers/factories.js';
import { expectNoSeriousA11yViolations } from '../../test/support/browser/axe.js';
import { watchContext, type PageWatch } from '../../test/support/browser/csp.js';
import { launchChromium, SKIP_BROWSER_TESTS } from '../../test/support/browser/launch.js';
import { signInThroughApi } from '../../test/support/browser/session.js';
import { addVirtualAuthenticator } from '../../test/support/browser/webauthn.js';
import { oathCode } from '../../test/support/mfa/helpers.js';
import { localhostTestApp } from '../../test/support/browser/server.js';

const FIREFOX_UA = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';

const SCREENS = [
  { path: '/account', h1: 'My account', es: 'Mi cuenta' },
  { path: '/account/password', h1: 'Change your password', es: 'Cambia tu contraseña' },
  { path: '/account/security', h1: 'Authenticator app', es: 'App de autenticación' },
  { path: '/account/passkeys', h1: 'Passkeys', es: 'Llaves de acceso' },
  { path: '/account/sessions', h1: 'Sessions and devices', es: 'Sesiones y dispositivos' },
  { path: '/account/events', h1: 'Security events', es: 'Eventos de seguridad' },
];

describe.skipIf(SKIP_BROWSER_TESTS)('"My account" screens in headless Chromium', () => {
  let t: TestApp;
  let base: string;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  let watch: PageWatch;

  beforeAll(async () => {
    ({ t, base } = await localhostTestApp({ WEBAUTHN_RP_ID: 'localhost' }));
    expect(t.config.AUTH_COOKIES).toBe(false);
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  afterEach(async () => {
    for (const c of contexts.splice(0)) await c.close();
  });

  async function newPage(
    options: { locale?: string; phone?: boolean; userAgent?: string; downloads?: boolean } = {},
  ): Promise<Page> {
    const context = await browser.newContext({
      locale: options.locale ?? 'en-US',
      acceptDownloads: options.downloads ?? false,
      ...(options.userAgent ? { userAgent: options.userAgent } : {}),
      ...(options.phone ? { viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true } : {}),
    });
    contexts.push(context);
    watch = await watchContext(context);
    return context.newPage();
  }

  function expectCleanRun(): void {
    expect(watch.violations).toEqual([]);
    expect(watch.problems).toEqual([]);
  }

  /** Signs in on the sign-in page (already open, or opened) with email and password. */
  async function signIn(page: Page, user: { email: string; password: string }, open = true): Promise<void> {
    if (open) await page.goto(`${base}/account/sign-in`);
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    await page.getByLabel('Email', { exact: true }).fill(user.email);
    await page.getByLabel('Password', { exact: true }).fill(user.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  }

  /**
   * A new page signed in as `user` through the console's sign-in calls, not its page
   * (test/support/browser/session.ts), on `path`: for the tests about what comes after signing in.
   */
  async function signedInPage(
    user: { email: string; password: string },
    path: string,
    h1: string,
    options: Parameters<typeof newPage>[0] = {},
  ): Promise<Page> {
    const page = await newPage(options);
    await signInThroughApi(page.context(), base, user);
    await screen(page, path, h1);
    return page;
  }

  async function screen(page: Page, path: string, h1: string): Promise<void> {
    await page.goto(`${base}${path}`);
    await page.getByRole('heading', { level: 1, name: h1 }).waitFor();
  }

  /** A call from the page with its cookies, as the console makes it. */
  async function fetchStatus(page: Page, path: string, method = 'GET'): Promise<number> {
    return Number(
      await page.evaluate(
        `(async () => {
          const csrf = (document.cookie.split('; ').find((c) => c.startsWith('__Host-csrf=')) ?? '').slice(12);
          const res = await fetch(${JSON.stringify(path)}, { method: ${JSON.stringify(method)}, credentials: 'same-origin',
            headers: { 'x-auth-mode': 'browser', 'x-csrf-token': decodeURIComponent(csrf) } });
          return res.status;
        })()`,
      ),
    );
  }

  it('a signed-out visitor of an account screen goes to sign-in with next, and comes back there after signing in', async () => {
    const user = await createUser(t.app);
    const page = await newPage();
    await page.goto(`${base}/account/sessions?tab=1`);
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    const url = new URL(page.url());
    expect(url.pathname).toBe('/account/sign-in');
    expect(url.searchParams.get('next')).toBe('/account/sessions?tab=1');
    await signIn(page, user, false);
    await page.getByRole('heading', { level: 1, name: 'Sessions and devices' }).waitFor();
    expect(page.url()).toBe(`${base}/account/sessions?tab=1`);
    expectCleanRun();
  }, 60_000);

  it('every screen: axe-clean in English on a desktop and in Spanish on a phone, with its own <h1> and the nav', async () => {
    const user = await createUser(t.app);
    let english: { page: Page; watch: PageWatch } | undefined;
    for (const setup of [{ locale: 'en-US' }, { locale: 'es-ES', phone: true }]) {
      const page = await signedInPage(user, '/account', setup.locale === 'en-US' ? 'My account' : 'Mi cuenta', setup);
      english ??= { page, watch };
      for (const s of SCREENS) {
        const h1 = setup.locale === 'en-US' ? s.h1 : s.es;
        // In-app, through the nav: the SPA is loaded once per context, not once per screen.
        if (s.path !== '/account') await page.locator(`nav.account-nav a[href="${s.path}"]`).click();
        await page.getByRole('heading', { level: 1, name: h1 }).waitFor();
        expect(new URL(page.url()).pathname).toBe(s.path);
        await page.locator('main [role="status"]').waitFor({ state: 'detached' });
        expect(await page.locator('h1').count(), s.path).toBe(1);
        // The nav marks where you are.
        expect(await page.locator('nav a[aria-current="page"]').getAttribute('href'), s.path).toBe(s.path);
        await expectNoSeriousA11yViolations(page, `${s.path} (${setup.locale})`);
        if (setup.phone) {
          expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth'), s.path).toBe(true);
        }
      }
      expectCleanRun();
    }
    // The overview shows the profile; the events screen the account's own sign-ins (English page).
    let page: Page;
    ({ page, watch } = english!);
    await page.locator('nav.account-nav a[href="/account"]').click();
    await page.getByRole('heading', { level: 1, name: 'My account' }).waitFor();
    await page.getByText(user.email).waitFor();
    await page.getByText('Email not confirmed yet').waitFor();
    await page.getByRole('button', { name: 'Send the confirmation mail again' }).click();
    await page.getByRole('status').filter({ hasText: 'A new confirmation link is on its way' }).waitFor();
    await page.getByRole('link', { name: 'Security events' }).click();
    await page.locator('li[data-action="auth.login.succeeded"]').first().waitFor();
    expectCleanRun();
  }, 180_000);

  it('TOTP: set up by reading the secret off the page, backup codes downloaded, sign out, sign in with a code', async () => {
    const user = await createUser(t.app);
    const page = await signedInPage(user, '/account', 'My account', { downloads: true });
    await page.getByRole('link', { name: 'Authenticator app' }).click();
    await page.getByRole('heading', { level: 1, name: 'Authenticator app' }).waitFor();
    await page.getByLabel('Password', { exact: true }).fill(user.password);
    await page.getByRole('button', { name: 'Set up an authenticator app' }).click();

    // The QR (a data: URL, allowed by img-src data:) and the secret, as text on the page.
    const qr = page.getByRole('img', { name: 'QR code to add this account to an authenticator app' });
    await qr.waitFor();
    expect(await qr.getAttribute('src')).toMatch(/^data:image\/png;base64,/);
    expect(await qr.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth > 0)).toBe(true);
    const secret = ((await page.locator('#totp-secret').textContent()) ?? '').replace(/\s+/g, '');
    expect(secret).toMatch(/^[A-Z2-7]{16,}$/);
    await expectNoSeriousA11yViolations(page, 'totp: scan');

    // A wrong code is refused under its field; the right one (oathtool) turns it on.
    const field = page.getByLabel('Authentication code', { exact: true });
    const right = oathCode(secret, t.clock.now().getTime());
    await field.fill(String((Number(right) + 1) % 1_000_000).padStart(6, '0'));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.locator('#code-error').waitFor();
    expect(await field.getAttribute('aria-invalid')).toBe('true');
    await field.fill(right);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('heading', { level: 2, name: 'Your backup codes' }).waitFor();
    const shown = (await page.locator('.code-list code').allTextContents()).map((c) => c.trim());
    expect(shown).toHaveLength(10);
    await expectNoSeriousA11yViolations(page, 'totp: backup codes');

    // Downloaded as a file (Blob + object URL), with every code.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download the backup codes' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('backup-codes.txt');
    const file = await readFile(String(await download.path()), 'utf8');
    for (const c of shown) expect(file).toContain(c);
    await page.getByRole('button', { name: 'I have saved them' }).click();
    await page.getByText('Backup codes left: 10 of 10.').waitFor();
    expect(await page.locator('.code-list').count()).toBe(0);

    // Sign out, then the sign-in asks for the code.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByText('You are not signed in.').waitFor();
    t.clock.advance(30_000); // the next code: a used one never works twice
    await signIn(page, user);
    await page.getByRole('heading', { level: 1, name: 'Confirm it is you' }).waitFor();
    await page.getByLabel('Authentication code', { exact: true }).fill(oathCode(secret, t.clock.now().getTime()));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('heading', { level: 1, name: 'My account' }).waitFor();
    await page.getByText(user.email).waitFor();
    // One of the downloaded backup codes works too (through the API, as a second client).
    const login = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { email: user.email, password: user.password },
    });
    const mfaToken = login.json<{ mfaToken: string }>().mfaToken;
    const verify = await t.app.inject({
      method: 'POST',
      url: '/api/auth/mfa/verify',
      payload: { mfaToken, backupCode: shown[0] },
    });
    expect(verify.statusCode, verify.body).toBe(200);
    expectCleanRun();
  }, 120_000);

  it('passkeys: add, rename and remove through the virtual authenticator; removal after the step-up the server asks for', async () => {
    const user = await createUser(t.app);
    const page = await newPage();
    await addVirtualAuthenticator(page);
    await signInThroughApi(page.context(), base, user);
    await screen(page, '/account/passkeys', 'Passkeys');
    await page.getByText('No passkey yet.').waitFor();
    await page.getByLabel('Passkey name', { exact: true }).fill('Laptop');
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.getByRole('status').filter({ hasText: 'The passkey “Laptop” was added.' }).waitFor();
    await page.locator('.item-title', { hasText: 'Laptop' }).waitFor();
    const list = async () =>
      (await t.app.inject({ method: 'GET', url: '/api/auth/mfa/passkeys', headers: user.auth })).json<{
        items: { name: string }[];
      }>().items;
    expect((await list()).map((p) => p.name)).toEqual(['Laptop']);
    await expectNoSeriousA11yViolations(page, 'passkeys: added');

    await page.getByRole('button', { name: 'Rename Laptop' }).click();
    const name = page.getByLabel('New name', { exact: true });
    await name.fill('Work laptop');
    await page.getByRole('button', { name: 'Save the name' }).click();
    await page.getByRole('status').filter({ hasText: 'now called “Work laptop”' }).waitFor();
    expect((await list()).map((p) => p.name)).toEqual(['Work laptop']);

    // Removal needs a recent sign-in: later than REAUTH_MAX_AGE the server says REAUTH_REQUIRED,
    // the page asks in place (password, then the passkey as the second factor) and goes on.
    t.clock.advance((t.config.REAUTH_MAX_AGE + 1) * 1000);
    await page.getByRole('button', { name: 'Remove Work laptop' }).click();
    const dialog = page.getByRole('dialog', { name: 'Confirm it is you' });
    await dialog.waitFor();
    expect(await dialog.getByLabel('Email', { exact: true }).inputValue()).toBe(user.email);
    await expectNoSeriousA11yViolations(page, 'passkeys: step-up dialog');
    await dialog.getByLabel('Password', { exact: true }).fill(user.password);
    await dialog.getByRole('button', { name: 'Sign in', exact: true }).click();
    await dialog.getByRole('button', { name: 'Use my passkey' }).click();
    await page.getByRole('status').filter({ hasText: 'The passkey “Work laptop” was removed.' }).waitFor();
    await page.getByText('No passkey yet.').waitFor();
    expect(await list()).toEqual([]);
    expectCleanRun();
  }, 120_000);

  it('revoking a session on the sessions screen ends its access at once (the other browser gets 401)', async () => {
    const user = await createUser(t.app);
    const other = await signedInPage(user, '/account', 'My account', { userAgent: FIREFOX_UA });
    const otherWatch = watch;
    expect(await fetchStatus(other, '/api/auth/me')).toBe(200);

    const page = await signedInPage(user, '/account/sessions', 'Sessions and devices');
    await page.locator('li[data-current]').getByText('This session').waitFor();
    await expectNoSeriousA11yViolations(page, 'sessions');
    await page.getByRole('button', { name: /^Sign out the session of Firefox/ }).click();
    await page.getByRole('status').filter({ hasText: 'That session was signed out' }).waitFor();
    expect(await page.getByRole('button', { name: /^Sign out the session of Firefox/ }).count()).toBe(0);

    // At once: the other browser's access cookie and its refresh are both refused.
    expect(await fetchStatus(other, '/api/auth/me')).toBe(401);
    expect(await fetchStatus(other, '/api/auth/refresh', 'POST')).toBe(401);
    // Its console sends it to sign-in.
    await other.goto(`${base}/account/sessions`);
    await other.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    // This session goes on.
    expect(await fetchStatus(page, '/api/auth/me')).toBe(200);
    expectCleanRun();
    expect(otherWatch.violations).toEqual([]);
  }, 90_000);

  it('an expired access cookie is renewed silently (one refresh, the call repeated, no dialog)', async () => {
    const user = await createUser(t.app);
    const page = await signedInPage(user, '/account', 'My account');
    await page.getByText('Second factors').waitFor(); // the overview's own calls are done
    const calls: string[] = [];
    page.on('response', (r) => {
      const u = new URL(r.url());
      if (u.pathname.startsWith('/api/')) calls.push(`${r.request().method()} ${u.pathname} ${r.status()}`);
    });
    t.clock.advance((t.config.ACCESS_TOKEN_TTL + t.config.JWT_CLOCK_TOLERANCE + 1) * 1000);
    await page.getByRole('link', { name: 'Security events' }).click();
    await page.locator('li[data-action="auth.login.succeeded"]').first().waitFor();
    // Every call that found the access cookie expired waited for the one refresh, then went again.
    const refresh = calls.indexOf('POST /api/auth/refresh 200');
    expect(calls.filter((c) => c.includes('/api/auth/refresh'))).toEqual(['POST /api/auth/refresh 200']);
    expect(refresh).toBeGreaterThan(0);
    expect(new Set(calls.slice(0, refresh))).toEqual(new Set(['GET /api/account/events 401']));
    expect(new Set(calls.slice(refresh + 1))).toEqual(new Set(['GET /api/account/events 200']));
    expect(calls.length).toBe(2 * refresh + 1);
    expect(await page.locator('dialog[open]').count()).toBe(0);
    expectCleanRun();
  }, 60_000);

  it('a session that ends mid-form: sign in again in place, and the form keeps what was typed', async () => {
    const user = await createUser(t.app);
    const page = await signedInPage(user, '/account/password', 'Change your password');
    const newPassword = strongPassword();
    await page.getByLabel('Current password', { exact: true }).fill(user.password);
    await page.getByLabel('New password', { exact: true }).fill(newPassword);

    // Meanwhile the session ends (signed out everywhere): access and refresh both refused.
    await t.app.tokens.revokeUser(user.id, 'admin');
    await page.getByRole('button', { name: 'Change password' }).click();
    const dialog = page.getByRole('dialog', { name: 'Sign in again' });
    await dialog.waitFor();
    await expectNoSeriousA11yViolations(page, 'session dialog');
    // The form underneath is still there with what was typed.
    expect(await page.locator('#currentPassword').inputValue()).toBe(user.password);
    expect(await page.locator('#newPassword').inputValue()).toBe(newPassword);
    expect(await dialog.getByLabel('Email', { exact: true }).inputValue()).toBe(user.email);
    // A wrong password is said in the dialog, which stays.
    await dialog.getByLabel('Password', { exact: true }).fill('Not-the-password-123');
    await dialog.getByRole('button', { name: 'Sign in', exact: true }).click();
    await dialog.getByRole('alert').filter({ hasText: 'incorrect' }).waitFor();
    await dialog.getByLabel('Password', { exact: true }).fill(user.password);
    await dialog.getByRole('button', { name: 'Sign in', exact: true }).click();

    // The change went on with the typed values: the new password is the account's now.
    await page.getByRole('status').filter({ hasText: 'Your password was changed' }).waitFor();
    expect(await dialog.isVisible()).toBe(false);
    expect(new URL(page.url()).pathname).toBe('/account/password');
    const login = (password: string) =>
      t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, password } });
    expect((await login(newPassword)).statusCode).toBe(200);
    expect((await login(user.password)).statusCode).toBe(401);
    expectCleanRun();
  }, 90_000);
});
