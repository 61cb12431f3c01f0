/**
 * The account pages behind every mailed link, in headless Chromium against a real server: each
 * opened from the link in a real outbox mail, as the recipient would. The token leaves the address
 * bar and history at once and never travels in a Referer; the page posts to the existing API and
 * says what happened, including used and expired links; problem+json errors show next to their
 * field; axe finds no serious or critical violation; and no page breaks the strict CSP (a
 * recorder on every page, proven to catch a violation).
 *
 * One browser for the file, one context per test. Needs /usr/bin/chromium (test/support/browser).
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../../test/helpers/app.js';
import { createUser, strongPassword, uniqueEmail } from '../../test/helpers/factories.js';
import { expectNoSeriousA11yViolations } from '../../test/support/browser/axe.js';
import { watchContext, type PageWatch } from '../../test/support/browser/csp.js';
import { launchChromium, SKIP_BROWSER_TESTS } from '../../test/support/browser/launch.js';
import { mailCount, mailedLink } from '../../test/support/browser/mail.js';
import { listeningTestApp } from '../../test/support/browser/server.js';

const LOCKOUT_THRESHOLD = 3;
/** Sign-ins from here are "suspicious" and mail a "was this you?" link. */
const SUSPICIOUS_IP = '198.51.100.7';

describe.skipIf(SKIP_BROWSER_TESTS)('account pages in headless Chromium', () => {
  let t: TestApp;
  let base: string;
  let browser: Browser;
  let context: BrowserContext;
  let watch: PageWatch;
  /** Every request a page made, with its Referer (none expected: Referrer-Policy no-referrer). */
  let requests: { url: string; referer: string | undefined }[];

  beforeAll(async () => {
    ({ t, base } = await listeningTestApp({
      LOCKOUT_THRESHOLD: String(LOCKOUT_THRESHOLD),
      SUSPICIOUS_LOGIN_DENY_NETWORKS: '198.51.100.0/24',
    }));
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  async function newPage(options: { locale?: string; phone?: boolean } = {}): Promise<Page> {
    context = await browser.newContext({
      locale: options.locale ?? 'en-US',
      ...(options.phone ? { viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true } : {}),
    });
    watch = await watchContext(context);
    requests = [];
    const page = await context.newPage();
    page.on('request', (r) => requests.push({ url: r.url(), referer: r.headers()['referer'] }));
    return page;
  }

  afterEach(async () => {
    await context?.close();
  });

  /** Opens a mailed link and checks what every such page must do on load. */
  async function openMailedLink(page: Page, link: URL, heading: string): Promise<void> {
    const token = link.searchParams.get('token') as string;
    expect(token).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    const before = Number(await page.evaluate('history.length'));
    const res = await page.goto(link.href);
    expect(res?.status()).toBe(200);
    expect(res?.headers()['referrer-policy']).toBe('no-referrer');
    await page.getByRole('heading', { level: 1, name: heading }).waitFor();
    // Gone from the address bar, and from history: the link's entry was replaced (one entry
    // for the visit, not two), and going back and forward again lands on the clean address.
    expect(page.url()).toBe(`${base}${link.pathname}`);
    expect(await page.evaluate('location.search')).toBe('');
    expect(Number(await page.evaluate('history.length'))).toBe(before + 1);
    expect(await page.evaluate('JSON.stringify(history.state)')).not.toContain(token);
    await page.goBack();
    expect(page.url()).not.toContain(token);
    await page.goForward();
    await page.getByRole('heading', { level: 1, name: heading }).waitFor();
    expect(page.url()).toBe(`${base}${link.pathname}`);
    // Back on the clean address there is no token: the page says the link is needed, and the
    // rest of the test reopens the mailed link to act on it.
    await page.goto(link.href);
    await page.getByRole('heading', { level: 1, name: heading }).waitFor();
    expect(page.url()).toBe(`${base}${link.pathname}`);
  }

  /** Nothing the page loaded or called (but the mailed link itself) carried the token, nor any Referer. */
  function expectTokenNeverSent(link: URL): void {
    const token = link.searchParams.get('token') as string;
    const later = requests.filter((r) => r.url !== link.href);
    expect(later.length).toBeGreaterThan(0);
    for (const r of later) {
      expect(r.url, r.url).not.toContain(token);
      expect(r.referer ?? '', r.url).toBe('');
    }
  }

  function expectCleanRun(): void {
    expect(watch.violations).toEqual([]);
    expect(watch.problems).toEqual([]);
  }

  async function login(email: string, password: string) {
    return t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password } });
  }

  it('forgotten password end to end: the mailed link, a weak password refused next to its field, a new password that signs in', async () => {
    const user = await createUser(t.app);
    const forgot = await t.app.inject({
      method: 'POST',
      url: '/api/auth/password/forgot',
      payload: { email: user.email },
    });
    expect(forgot.statusCode).toBe(202);
    const link = await mailedLink(t.app, user.email, 'password_reset');
    expect(link.pathname).toBe('/reset-password');

    const page = await newPage();
    await openMailedLink(page, link, 'Choose a new password');
    await expectNoSeriousA11yViolations(page);

    // A common password: the server's WEAK_PASSWORD shows right under "New password", tied to it.
    const field = page.getByLabel('New password', { exact: true });
    await field.fill('password1234');
    await page.getByRole('button', { name: 'Set password' }).click();
    const error = page.locator('#newPassword-error');
    await error.waitFor();
    expect(await error.textContent()).toMatch(/too easy to guess/);
    expect(await field.getAttribute('aria-invalid')).toBe('true');
    expect(await field.getAttribute('aria-describedby')).toContain('newPassword-error');
    await expectNoSeriousA11yViolations(page, 'reset page with a field error');

    // Keyboard only: type, Tab to the button, Enter.
    const password = strongPassword();
    await field.fill('');
    await field.focus();
    await page.keyboard.type(password);
    await page.getByText(/Password strength: (Strong|Very strong)/).waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('Set password');
    await page.keyboard.press('Enter');
    await page.getByRole('status').filter({ hasText: 'Your password was changed' }).waitFor();

    expect((await login(user.email, password)).statusCode).toBe(200);
    expect((await login(user.email, user.password)).statusCode).toBe(401);
    expectTokenNeverSent(link);
    expectCleanRun();
  }, 90_000);

  it('a used reset link and an expired one each say so, and offer a new link', async () => {
    const user = await createUser(t.app);
    await t.app.inject({ method: 'POST', url: '/api/auth/password/forgot', payload: { email: user.email } });
    const used = await mailedLink(t.app, user.email, 'password_reset');
    const reset = await t.app.inject({
      method: 'POST',
      url: '/api/auth/password/reset',
      payload: { token: used.searchParams.get('token'), newPassword: strongPassword() },
    });
    expect(reset.statusCode).toBe(200);

    const page = await newPage();
    await openMailedLink(page, used, 'Choose a new password');
    await page.getByLabel('New password', { exact: true }).fill(strongPassword());
    await page.getByRole('button', { name: 'Set password' }).click();
    await page.getByRole('alert').filter({ hasText: 'This link has expired or was already used' }).waitFor();
    expect(await page.getByRole('link', { name: 'Ask for a new reset link' }).getAttribute('href')).toBe(
      '/forgot-password',
    );
    await expectNoSeriousA11yViolations(page, 'used link');

    // Expired: a fresh, unused link, opened after its lifetime (PASSWORD_RESET_TTL, 1 hour by
    // default). Another account's: the per-email mail limit (one a minute) counts in real time.
    const other = await createUser(t.app);
    await t.app.inject({ method: 'POST', url: '/api/auth/password/forgot', payload: { email: other.email } });
    expect(await mailCount(t.app, other.email, 'password_reset')).toBe(1);
    const expired = await mailedLink(t.app, other.email, 'password_reset');
    t.clock.advance(3601_000);
    await openMailedLink(page, expired, 'Choose a new password');
    await page.getByLabel('New password', { exact: true }).fill(strongPassword());
    await page.getByRole('button', { name: 'Set password' }).click();
    await page.getByRole('alert').filter({ hasText: 'This link has expired or was already used' }).waitFor();
    expectCleanRun();
  }, 90_000);

  it('verify-email from the mailed link confirms the address', async () => {
    const email = uniqueEmail('verify');
    const password = strongPassword();
    const reg = await t.app.inject({
      method: 'POST',
      url: '/api/auth/register',
      payload: { email, password, name: 'Vera' },
    });
    expect(reg.statusCode).toBe(201);
    const link = await mailedLink(t.app, email, 'email_verification');
    expect(link.pathname).toBe('/verify-email');

    const page = await newPage();
    await openMailedLink(page, link, 'Confirm your email');
    await expectNoSeriousA11yViolations(page);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('status').filter({ hasText: 'Your email address is confirmed' }).waitFor();

    const signedIn = await login(email, password);
    const me = await t.app.inject({
      method: 'GET',
      url: '/api/auth/me',
      headers: { authorization: `Bearer ${signedIn.json().accessToken}` },
    });
    expect(me.json().user.emailVerified).toBe(true);
    expectTokenNeverSent(link);

    // The same link again: used.
    await openMailedLink(page, link, 'Confirm your email');
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('alert').filter({ hasText: 'expired or was already used' }).waitFor();
    expectCleanRun();
  }, 90_000);

  it('unlock-account from the lockout mail lifts the lockout', async () => {
    const user = await createUser(t.app);
    for (let i = 0; i < LOCKOUT_THRESHOLD; i++) await login(user.email, 'not-the-password-1');
    const locked = await login(user.email, user.password);
    expect(locked.statusCode).toBe(429);
    expect(locked.json().code).toBe('ACCOUNT_LOCKED');
    const link = await mailedLink(t.app, user.email, 'unlock_account');
    expect(link.pathname).toBe('/unlock-account');

    const page = await newPage();
    await openMailedLink(page, link, 'Unlock your account');
    await expectNoSeriousA11yViolations(page);
    await page.getByRole('button', { name: 'Unlock my account' }).click();
    await page.getByRole('status').filter({ hasText: 'Your account is unlocked' }).waitFor();
    expect((await login(user.email, user.password)).statusCode).toBe(200);
    expectTokenNeverSent(link);
    expectCleanRun();
  }, 90_000);

  it('accept-invite from the invitation mail creates the account; the used link then says so', async () => {
    const email = uniqueEmail('invitee');
    await t.app.invitations.create({ email, roles: ['user'] }, 'operator');
    const link = await mailedLink(t.app, email, 'invitation');
    expect(link.pathname).toBe('/accept-invite');

    const page = await newPage();
    await openMailedLink(page, link, 'Accept your invitation');
    await expectNoSeriousA11yViolations(page);
    // Nothing filled in: each field says so next to itself, and nothing is sent.
    await page.getByRole('button', { name: 'Set password' }).click();
    await page.locator('#name-error').waitFor();
    await page.locator('#password-error').waitFor();

    const password = strongPassword();
    await page.getByLabel('Name', { exact: true }).fill('Ines Invitee');
    await page.getByLabel('New password', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Set password' }).click();
    await page.getByRole('status').filter({ hasText: 'Your account is ready' }).waitFor();
    expect(await page.getByRole('status').textContent()).toContain(email);
    expect((await login(email, password)).statusCode).toBe(200);
    expectTokenNeverSent(link);

    await openMailedLink(page, link, 'Accept your invitation');
    await page.getByLabel('Name', { exact: true }).fill('Someone Else');
    await page.getByLabel('New password', { exact: true }).fill(strongPassword());
    await page.getByRole('button', { name: 'Set password' }).click();
    await page.getByRole('alert').filter({ hasText: 'This invitation was already used' }).waitFor();
    expectCleanRun();
  }, 90_000);

  it('"was this you?" signs the stranger out and sets a new password with the reset the answer carries', async () => {
    const user = await createUser(t.app);
    const stranger = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      remoteAddress: SUSPICIOUS_IP,
      payload: { email: user.email, password: user.password },
    });
    expect(stranger.statusCode).toBe(200);
    const link = await mailedLink(t.app, user.email, 'suspicious_login');
    expect(link.pathname).toBe('/was-this-you');

    const page = await newPage();
    await openMailedLink(page, link, 'Was this you?');
    await expectNoSeriousA11yViolations(page);
    await page.getByRole('button', { name: 'It was not me: secure my account' }).click();
    await page.getByText('That session was signed out').waitFor();
    const me = await t.app.inject({
      method: 'GET',
      url: '/api/auth/me',
      headers: { authorization: `Bearer ${stranger.json().accessToken}` },
    });
    expect(me.statusCode).toBe(401);

    const password = strongPassword();
    await page.getByLabel('New password', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Set password' }).click();
    await page.getByRole('status').filter({ hasText: 'Your password was changed' }).waitFor();
    expect((await login(user.email, password)).statusCode).toBe(200);
    expectTokenNeverSent(link);
    expectCleanRun();
  }, 90_000);

  it('every page: axe clean in English on a desktop and in Spanish on a phone; no CSP violation', async () => {
    // The mailed-link pages are checked in English by the tests above; here the rest in English,
    // and every page in Spanish on a phone-sized screen.
    const mailed = [
      '/reset-password?token=x',
      '/verify-email?token=x',
      '/unlock-account?token=x',
      '/accept-invite?token=x',
      '/was-this-you?token=x',
    ];
    const others = ['/forgot-password', '/account/sign-in', '/account', '/reset-password'];
    for (const setup of [
      { locale: 'en-US', paths: others },
      { locale: 'es-ES', phone: true, paths: [...mailed, '/account/sign-in'] },
    ]) {
      const page = await newPage(setup);
      for (const p of setup.paths) {
        const res = await page.goto(`${base}${p}`);
        expect(res?.status(), p).toBe(200);
        await page.locator('h1').waitFor();
        expect(await page.evaluate('document.documentElement.lang'), p).toBe(setup.locale.slice(0, 2));
        await expectNoSeriousA11yViolations(page, `${p} (${setup.locale})`);
        if (setup.phone) {
          // Nothing wider than the screen: no sideways scrolling on a phone.
          expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth'), p).toBe(true);
        }
      }
      expectCleanRun();
      await context.close();
    }
  }, 180_000);

  it('Spanish from the browser, English with the switch, the same accessible names', async () => {
    const page = await newPage({ locale: 'es-ES' });
    await page.goto(`${base}/account/sign-in`);
    await page.getByRole('heading', { level: 1, name: 'Iniciar sesión' }).waitFor();
    await page.getByLabel('Correo electrónico', { exact: true }).waitFor();
    await page.getByLabel('Idioma').selectOption('en');
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    for (const name of ['Email', 'Password']) expect(await page.getByLabel(name, { exact: true }).count()).toBe(1);
    expect(await page.getByRole('button', { name: 'Sign in', exact: true }).count()).toBe(1);
    // Remembered for the next page.
    await page.goto(`${base}/reset-password`);
    await page.getByRole('heading', { level: 1, name: 'Choose a new password' }).waitFor();
    expectCleanRun();
  }, 60_000);

  it('the CSP recorder catches a violation (so "none recorded" means something)', async () => {
    const page = await newPage();
    await page.goto(`${base}/account/sign-in`);
    await page.locator('h1').waitFor();
    await page.evaluate(`(() => {
      const s = document.createElement('script');
      s.textContent = 'window.__pwned = true';
      document.body.appendChild(s);
      const d = document.createElement('div');
      d.setAttribute('style', 'color: red');
      document.body.appendChild(d);
    })()`);
    await expect.poll(() => watch.violations.length).toBeGreaterThanOrEqual(1);
    expect(watch.violations.map((v) => v.directive)).toContain('script-src-elem');
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
  }, 30_000);
});
