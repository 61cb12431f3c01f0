/**
 * The console's sign-in (/account/sign-in) in headless Chromium against a real server, on the
 * default configuration (AUTH_COOKIES off, so every sign-in here is the console's browser mode):
 * password then an authentication code (computed by oathtool from the secret the API enrollment
 * answered) with "Remember this device", a backup code, a wrong code shown under its field, the
 * lockout with its wait, a passkey through Chromium's virtual authenticator (passwordless and as the
 * second factor), the forced password change and the MFA-enrollment-required states, and `?next=`
 * open-redirect attempts that must land on /account. axe finds nothing serious or critical on any
 * step (English on a desktop, Spanish on a phone) and the CSP recorder records nothing.
 *
 * One browser for the file, one context per test. Needs /usr/bin/chromium (test/support/browser).
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../../test/helpers/app.js';
import { createUser, strongPassword, type TestUser } from '../../test/helpers/factories.js';
import { expectNoSeriousA11yViolations } from '../../test/support/browser/axe.js';
import { watchContext, type PageWatch } from '../../test/support/browser/csp.js';
import { launchChromium, SKIP_BROWSER_TESTS } from '../../test/support/browser/launch.js';
import { addVirtualAuthenticator } from '../../test/support/browser/webauthn.js';
import { enrollTotp, oathCode } from '../../test/support/mfa/helpers.js';
import { localhostTestApp } from '../../test/support/browser/server.js';

const LOCKOUT_THRESHOLD = 3;

/** Runs in the page (this project compiles without the DOM lib): a passkey made with an API token. */
const REGISTER_PASSKEY = `async ({ email, password, name }) => {
  const call = async (path, body, token) => {
    const headers = body === undefined ? {} : { 'content-type': 'application/json' };
    if (token) headers.authorization = 'Bearer ' + token;
    const res = await fetch(path, { method: 'POST', headers, credentials: 'omit', body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, body: await res.json() };
  };
  const login = await call('/api/auth/login', { email, password });
  const token = login.body.accessToken;
  const options = await call('/api/auth/mfa/passkeys/options', undefined, token);
  const cred = await navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options.body) });
  const reg = await call('/api/auth/mfa/passkeys', { response: cred.toJSON(), name }, token);
  return reg.status;
}`;

describe.skipIf(SKIP_BROWSER_TESTS)('console sign-in in headless Chromium', () => {
  let t: TestApp;
  let base: string;
  let browser: Browser;
  let context: BrowserContext;
  let watch: PageWatch;

  beforeAll(async () => {
    ({ t, base } = await localhostTestApp({
      WEBAUTHN_RP_ID: 'localhost',
      LOCKOUT_THRESHOLD: String(LOCKOUT_THRESHOLD),
    }));
    expect(t.config.AUTH_COOKIES).toBe(false);
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  afterEach(async () => {
    await context?.close();
  });

  async function newPage(options: { locale?: string; phone?: boolean } = {}): Promise<Page> {
    context = await browser.newContext({
      locale: options.locale ?? 'en-US',
      ...(options.phone ? { viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true } : {}),
    });
    watch = await watchContext(context);
    return context.newPage();
  }

  function expectCleanRun(): void {
    expect(watch.violations).toEqual([]);
    expect(watch.problems).toEqual([]);
  }

  async function totpUser(): Promise<TestUser & { secret: string; backupCodes: string[] }> {
    const user = await createUser(t.app);
    const { secret, backupCodes } = await enrollTotp(t.app, t.clock, user);
    return { ...user, secret, backupCodes };
  }

  /** Opens the sign-in page (with `query`) and signs in with email and password, by keyboard. */
  async function passwordStep(page: Page, user: { email: string; password: string }, query = ''): Promise<void> {
    const res = await page.goto(`${base}/account/sign-in${query}`);
    expect(res?.status()).toBe(200);
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    await page.getByLabel('Email', { exact: true }).fill(user.email);
    await page.getByLabel('Password', { exact: true }).fill(user.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  }

  /** On /account, signed in as `user` (the page read GET /api/auth/me with the cookies). */
  async function expectSignedIn(page: Page, user: { email: string }): Promise<void> {
    await page.getByRole('heading', { level: 1, name: 'My account' }).waitFor();
    await page.getByText(user.email).waitFor();
    expect(new URL(page.url()).pathname).toBe('/account');
    // Browser mode: httpOnly cookies, nothing the page script can read but the CSRF cookie.
    const visible = String(await page.evaluate('document.cookie'));
    expect(visible).not.toContain('__Host-access');
    expect(String(await page.evaluate('JSON.stringify({ ...localStorage, ...sessionStorage })'))).not.toMatch(
      /ey[A-Za-z0-9_-]{10,}\./,
    );
  }

  it('password then an authentication code, keyboard only, with "Remember this device": the next sign-in skips the code', async () => {
    const user = await totpUser();
    const page = await newPage();
    await page.goto(`${base}/account/sign-in`);
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    await expectNoSeriousA11yViolations(page, 'sign-in: password step');

    // Keyboard only: skip link, then the fields in order, Enter submits.
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement.className')).toBe('skip-link');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Tab'); // from <main> to the first field
    expect(await page.evaluate('document.activeElement.id')).toBe('email');
    await page.keyboard.type(user.email);
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement.id')).toBe('password');
    await page.keyboard.type(user.password);
    await page.keyboard.press('Enter');

    // The second step puts the keyboard on "Authentication code".
    await page.getByRole('heading', { level: 1, name: 'Confirm it is you' }).waitFor();
    const field = page.getByLabel('Authentication code', { exact: true });
    await field.waitFor();
    expect(await page.evaluate('document.activeElement.id')).toBe('code');
    expect(await page.getByLabel('Backup code', { exact: true }).count()).toBe(0);
    await expectNoSeriousA11yViolations(page, 'sign-in: code step');
    await page.keyboard.type(oathCode(user.secret, t.clock.now().getTime()));
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement.id')).toBe('remember');
    await page.keyboard.press('Space');
    expect(await page.getByLabel('Remember this device').isChecked()).toBe(true);
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await expectSignedIn(page, user);
    const cookies = await context.cookies();
    expect(cookies.find((c) => c.name === '__Secure-mfa-device')).toMatchObject({ httpOnly: true });

    // Sign out, sign in again: the remembered device goes along and no code is asked.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByText('You are not signed in.').waitFor();
    await passwordStep(page, user);
    await expectSignedIn(page, user);
    expectCleanRun();
  }, 90_000);

  it('a backup code as the second factor', async () => {
    const user = await totpUser();
    const page = await newPage();
    await passwordStep(page, user);
    await page.getByLabel('Authentication code', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Use a backup code' }).click();
    const field = page.getByLabel('Backup code', { exact: true });
    await field.waitFor();
    expect(await page.getByLabel('Authentication code', { exact: true }).count()).toBe(0);
    await expectNoSeriousA11yViolations(page, 'sign-in: backup code step');
    await field.fill(user.backupCodes[0] as string);
    await page.getByRole('button', { name: 'Verify' }).click();
    await expectSignedIn(page, user);
    expectCleanRun();
  }, 60_000);

  it('a wrong code shows its message under the field, tied to it; the right code then works', async () => {
    const user = await totpUser();
    const page = await newPage();
    await passwordStep(page, user);
    const field = page.getByLabel('Authentication code', { exact: true });
    await field.waitFor();
    const right = oathCode(user.secret, t.clock.now().getTime());
    const wrong = String((Number(right) + 1) % 1_000_000).padStart(6, '0');
    await field.fill(wrong);
    await page.getByRole('button', { name: 'Verify' }).click();
    const error = page.locator('#code-error');
    await error.waitFor();
    expect(await error.textContent()).toBe('This code is not valid. Check it and try again.');
    expect(await field.getAttribute('aria-invalid')).toBe('true');
    expect(await field.getAttribute('aria-describedby')).toContain('code-error');
    expect(new URL(page.url()).pathname).toBe('/account/sign-in');
    expect((await context.cookies()).find((c) => c.name === '__Host-access')).toBeUndefined();
    await expectNoSeriousA11yViolations(page, 'sign-in: wrong code');

    await field.fill(right);
    await page.getByRole('button', { name: 'Verify' }).click();
    await expectSignedIn(page, user);
    expectCleanRun();
  }, 60_000);

  it('a locked account shows the wait the server answers (problem body retryAfter / Retry-After)', async () => {
    const user = await createUser(t.app);
    const page = await newPage();
    for (let i = 0; i < LOCKOUT_THRESHOLD; i++) {
      await passwordStep(page, { email: user.email, password: `Wrong-password-${i}-xyz` });
      await page.getByRole('alert').filter({ hasText: 'The email or password is incorrect.' }).waitFor();
    }
    // Now even the right password is refused with the wait.
    await passwordStep(page, user);
    const alert = page.getByRole('alert').filter({ hasText: 'paused for' });
    await alert.waitFor();
    const text = (await alert.textContent()) ?? '';
    const seconds = Number(/paused for (\d+) seconds/.exec(text)?.[1]);
    expect(seconds).toBeGreaterThan(0);
    // The same wait as the API's own answer.
    const api = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { email: user.email, password: user.password },
    });
    expect(api.statusCode).toBe(429);
    expect(Math.abs(api.json<{ retryAfter: number }>().retryAfter - seconds)).toBeLessThanOrEqual(1);
    expect((await context.cookies()).find((c) => c.name === '__Host-access')).toBeUndefined();
    await expectNoSeriousA11yViolations(page, 'sign-in: locked');
    expectCleanRun();
  }, 60_000);

  it('a passkey through the virtual authenticator: passwordless sign-in, and as the second factor after the password', async () => {
    const user = await createUser(t.app);
    const page = await newPage();
    await addVirtualAuthenticator(page);
    await page.goto(`${base}/account/sign-in`);
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    expect(await page.evaluate(`(${REGISTER_PASSKEY})(${JSON.stringify({ ...user, name: 'Laptop' })})`)).toBe(201);

    await page.reload();
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await expectSignedIn(page, user);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByText('You are not signed in.').waitFor();
    // The account now has a passkey, so the password alone is not enough.
    await passwordStep(page, user);
    await page.getByRole('heading', { level: 1, name: 'Confirm it is you' }).waitFor();
    await expectNoSeriousA11yViolations(page, 'sign-in: passkey step');
    await page.getByRole('button', { name: 'Use my passkey' }).click();
    await expectSignedIn(page, user);
    expectCleanRun();
  }, 90_000);

  it('open-redirect attempts in ?next= land on /account; a console page of ours is honoured', async () => {
    const user = await createUser(t.app);
    const page = await newPage();
    const attempts = [
      'https://evil.example',
      '//evil.example',
      '/\\evil.example',
      '/%5Cevil.example',
      'javascript:alert(1)',
      '/account/../..//evil.example',
      'http://localhost:1/account',
    ];
    for (const next of attempts) {
      await passwordStep(page, user, `?next=${encodeURIComponent(next)}`);
      await expectSignedIn(page, user);
      expect(new URL(page.url()).origin, next).toBe(base);
      expect(new URL(page.url()).pathname, next).toBe('/account');
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByText('You are not signed in.').waitFor();
    }
    await passwordStep(page, user, `?next=${encodeURIComponent('/account?from=mail')}`);
    await expectSignedIn(page, user);
    expect(page.url()).toBe(`${base}/account?from=mail`);
    expectCleanRun();
  }, 90_000);

  it('forced password change: "New password" and "Set password", then the account', async () => {
    const user = await createUser(t.app);
    await t.app.users.repo.update(user.id, { mustChangePassword: true });
    const page = await newPage();
    await passwordStep(page, user);
    await page.getByRole('heading', { level: 1, name: 'Choose a new password' }).waitFor();
    const field = page.getByLabel('New password', { exact: true });
    expect(await page.evaluate('document.activeElement.id')).toBe('newPassword');
    await expectNoSeriousA11yViolations(page, 'sign-in: password change');
    // A weak one is refused next to the field.
    await field.fill('password1234');
    await page.getByRole('button', { name: 'Set password' }).click();
    await page.locator('#newPassword-error').waitFor();
    expect(await field.getAttribute('aria-invalid')).toBe('true');
    const newPassword = strongPassword();
    await field.fill(newPassword);
    await page.getByRole('button', { name: 'Set password' }).click();
    await expectSignedIn(page, user);
    const old = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { email: user.email, password: user.password },
    });
    expect(old.statusCode).toBe(401);
    expectCleanRun();
  }, 60_000);

  it('MFA enrollment required: the page says so, by when, and where to go', async () => {
    const admin = await createUser(t.app, { role: 'admin' });
    const page = await newPage();
    await passwordStep(page, admin);
    await page.getByRole('heading', { level: 1, name: 'Set up a second factor' }).waitFor();
    await page.getByText(/must have a second factor .* by /).waitFor();
    await page.getByRole('link', { name: 'Go to my account' }).waitFor();
    await expectNoSeriousA11yViolations(page, 'sign-in: enrollment required');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    expect((await context.cookies()).find((c) => c.name === '__Host-access')).toBeUndefined();
    expectCleanRun();
  }, 60_000);

  it('in Spanish on a phone: every step axe-clean, nothing wider than the screen', async () => {
    const user = await totpUser();
    const page = await newPage({ locale: 'es-ES', phone: true });
    const fits = async (where: string) => {
      await expectNoSeriousA11yViolations(page, where);
      expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth'), where).toBe(true);
    };
    await page.goto(`${base}/account/sign-in`);
    await page.getByRole('heading', { level: 1, name: 'Iniciar sesión' }).waitFor();
    await fits('password step (es)');
    await page.getByLabel('Correo electrónico', { exact: true }).fill(user.email);
    await page.getByLabel('Contraseña', { exact: true }).fill(user.password);
    await page.getByRole('button', { name: 'Iniciar sesión', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Confirma que eres tú' }).waitFor();
    await fits('code step (es)');
    await page.getByLabel('Código de autenticación', { exact: true }).fill('000000');
    await page.getByRole('button', { name: 'Verificar' }).click();
    await page.locator('#code-error').filter({ hasText: 'Este código no es válido' }).waitFor();
    await fits('wrong code (es)');
    await page.getByRole('button', { name: 'Usar un código de respaldo' }).click();
    await page.getByLabel('Código de respaldo', { exact: true }).waitFor();
    await fits('backup code step (es)');
    expectCleanRun();
  }, 90_000);
});
