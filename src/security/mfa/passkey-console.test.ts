/**
 * Passkeys as the web console uses them, in Debian's Chromium (playwright-core) with a virtual
 * authenticator, on the default configuration (AUTH_COOKIES off): passwordless sign-in in browser
 * mode (`X-Auth-Mode: browser`) ends in httpOnly cookies the page script cannot read, later calls
 * go with the cookies and the CSRF token read off `document.cookie`; and renaming a passkey, where
 * another user's passkey answers like a missing one.
 *
 * Needs /usr/bin/chromium; skipped with the reason without it, except in CI (CI=true).
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../../../test/helpers/app.js';
import { createUser, type TestUser } from '../../../test/helpers/factories.js';
import { launchChromium, SKIP_BROWSER_TESTS } from '../../../test/support/browser/launch.js';
import { addVirtualAuthenticator } from '../../../test/support/browser/webauthn.js';
import { localhostTestApp } from '../../../test/support/browser/server.js';

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/**
 * Browser-side helpers, as source text (this project compiles without the DOM lib). `api` is an
 * API client (bearer token); `consoleApi` is the console: same-origin fetch with cookies,
 * `X-Auth-Mode: browser`, and the CSRF cookie echoed on state changes when `csrf` is true.
 */
const PAGE_HELPERS = `
window.api = async (method, path, body, token) => {
  const headers = body === undefined ? {} : { 'content-type': 'application/json' };
  if (token) headers.authorization = 'Bearer ' + token;
  const res = await fetch(path, { method, headers, credentials: 'omit', body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : {} };
};
window.csrfCookie = () => {
  const found = document.cookie.split(';').map((p) => p.trim()).find((p) => p.startsWith('__Host-csrf='));
  return found ? found.slice('__Host-csrf='.length) : null;
};
window.consoleApi = async (method, path, body, csrf) => {
  const headers = { 'x-auth-mode': 'browser' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (csrf && window.csrfCookie()) headers['x-csrf-token'] = window.csrfCookie();
  const res = await fetch(path, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : {} };
};
window.createPasskey = async (options) => {
  const cred = await navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options) });
  return cred.toJSON();
};
window.getPasskey = async (options) => {
  const cred = await navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options) });
  return cred.toJSON();
};
`;

type Helpers = {
  api: (...a: unknown[]) => Promise<Answer>;
  consoleApi: (...a: unknown[]) => Promise<Answer>;
  csrfCookie: () => string | null;
  createPasskey: (o: unknown) => Promise<Record<string, unknown>>;
  getPasskey: (o: unknown) => Promise<Record<string, unknown>>;
};
// Functions passed to page.evaluate run in the page: each reads the helpers off its own globalThis.

describe.skipIf(SKIP_BROWSER_TESTS)('passkeys from the console (Chromium, AUTH_COOKIES off)', () => {
  let t: TestApp;
  let browser: Browser;
  let base: string;

  beforeAll(async () => {
    ({ t, base } = await localhostTestApp({ WEBAUTHN_RP_ID: 'localhost' }));
    expect(t.config.AUTH_COOKIES).toBe(false);
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  /** A fresh browser profile on our origin with its own virtual authenticator. */
  async function device(): Promise<Page> {
    const context = await browser.newContext();
    const page = await context.newPage();
    expect((await page.goto(`${base}/health/live`))?.status()).toBe(200);
    await page.evaluate(PAGE_HELPERS);
    await addVirtualAuthenticator(page);
    return page;
  }

  const api = (page: Page, method: string, path: string, body?: unknown, token?: string) =>
    page.evaluate(([m, p, b, tk]) => (globalThis as unknown as Helpers).api(m, p, b, tk), [
      method,
      path,
      body,
      token,
    ] as const);
  const consoleApi = (page: Page, method: string, path: string, body?: unknown, csrf = true) =>
    page.evaluate(([m, p, b, c]) => (globalThis as unknown as Helpers).consoleApi(m, p, b, c), [
      method,
      path,
      body,
      csrf,
    ] as const);

  /** Registers a passkey with an API token; answers its id. */
  async function register(page: Page, user: TestUser, name: string): Promise<string> {
    const l = await api(page, 'POST', '/api/auth/login', { email: user.email, password: user.password });
    const token = String(l.body['accessToken']);
    const options = await api(page, 'POST', '/api/auth/mfa/passkeys/options', undefined, token);
    const response = await page.evaluate((o) => (globalThis as unknown as Helpers).createPasskey(o), options.body);
    const reg = await api(page, 'POST', '/api/auth/mfa/passkeys', { response, name }, token);
    expect(reg.status, JSON.stringify(reg.body)).toBe(201);
    return String((reg.body['passkey'] as { id: string }).id);
  }

  it('passwordless sign-in in browser mode: httpOnly cookies the page cannot read, then CSRF-checked calls', async () => {
    const user = await createUser(t.app);
    const page = await device();
    const passkeyId = await register(page, user, 'Laptop');

    const options = await consoleApi(page, 'POST', '/api/auth/passkey/options');
    expect(options.status).toBe(200);
    const assertion = await page.evaluate((o) => (globalThis as unknown as Helpers).getPasskey(o), options.body);
    const signedIn = await consoleApi(page, 'POST', '/api/auth/passkey/verify', { response: assertion });
    expect(signedIn.status, JSON.stringify(signedIn.body)).toBe(200);
    expect(signedIn.body['accessToken']).toBeUndefined();
    expect(signedIn.body['refreshToken']).toBeUndefined();
    // The page sees the CSRF cookie only; the access and refresh cookies are httpOnly.
    const visible = await page.evaluate(
      () => (globalThis as unknown as { document: { cookie: string } }).document.cookie,
    );
    expect(visible).toContain('__Host-csrf=');
    expect(visible).not.toContain('__Host-access');
    expect(visible).not.toContain('__Secure-refresh');
    const cookies = await page.context().cookies();
    expect(cookies.find((c) => c.name === '__Host-access')).toMatchObject({
      httpOnly: true,
      secure: true,
      sameSite: 'Strict',
    });

    const me = await consoleApi(page, 'GET', '/api/auth/me');
    expect(me.status).toBe(200);
    expect(me.body['user']).toMatchObject({ id: user.id });

    // A state change without the CSRF token (what a forged request would be) is refused...
    const forged = await consoleApi(page, 'PATCH', `/api/auth/mfa/passkeys/${passkeyId}`, { name: 'Hijacked' }, false);
    expect(forged.status).toBe(403);
    expect(forged.body['code']).toBe('CSRF_FAILED');
    // ...and passes with it.
    const renamed = await consoleApi(page, 'PATCH', `/api/auth/mfa/passkeys/${passkeyId}`, { name: 'Work laptop' });
    expect(renamed.status, JSON.stringify(renamed.body)).toBe(200);
    expect(renamed.body['passkey']).toMatchObject({ id: passkeyId, name: 'Work laptop' });
    await page.context().close();
  });

  it("renaming another user's passkey answers 404 like a missing one and changes nothing; a blank name is refused", async () => {
    const alice = await createUser(t.app);
    const mallory = await createUser(t.app);
    const page = await device();
    const alicesKey = await register(page, alice, 'Alice key');

    const attempt = await t.app.inject({
      method: 'PATCH',
      url: `/api/auth/mfa/passkeys/${alicesKey}`,
      headers: mallory.auth,
      payload: { name: 'Mallory was here' },
    });
    expect(attempt.statusCode).toBe(404);
    const missing = await t.app.inject({
      method: 'PATCH',
      url: '/api/auth/mfa/passkeys/0190a000-0000-7000-8000-000000000000',
      headers: mallory.auth,
      payload: { name: 'Mallory was here' },
    });
    expect(missing.statusCode).toBe(404);
    expect(attempt.json().code).toBe(missing.json().code);

    const blank = await t.app.inject({
      method: 'PATCH',
      url: `/api/auth/mfa/passkeys/${alicesKey}`,
      headers: alice.auth,
      payload: { name: '   ' },
    });
    expect(blank.statusCode).toBe(400);

    const list = await t.app.inject({ method: 'GET', url: '/api/auth/mfa/passkeys', headers: alice.auth });
    expect(list.json<{ items: { name: string }[] }>().items.map((p) => p.name)).toEqual(['Alice key']);
    await page.context().close();
  });
});
