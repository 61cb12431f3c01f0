/**
 * Passkeys in a real browser: Debian's Chromium driven by playwright-core, with the Chrome
 * DevTools Protocol `WebAuthn` domain providing a virtual authenticator (CTAP2, resident keys,
 * user verification). The server runs on http://localhost:<port>, which browsers treat as a
 * secure context, with the RP id `localhost`.
 *
 * Checked: registration (first passkey also hands out backup codes), the passkey as the second
 * factor of a password login, passwordless sign-in (a user-verified passkey satisfies MFA on its
 * own), an assertion replayed, a passkey of one user offered for another's login, list and remove.
 *
 * Needs /usr/bin/chromium (`apt-get install -y chromium`); skipped with the reason without it,
 * except in CI (CI=true), where a missing browser is a failure.
 */
import type { Browser, CDPSession, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../../../test/helpers/app.js';
import { createUser, type TestUser } from '../../../test/helpers/factories.js';
import { launchChromium, SKIP_BROWSER_TESTS } from '../../../test/support/browser/launch.js';
import { addVirtualAuthenticator } from '../../../test/support/browser/webauthn.js';
import { claimsOf } from '../../../test/support/mfa/helpers.js';
import { localhostTestApp } from '../../../test/support/browser/server.js';

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/** Browser-side helpers, as source text (this project compiles without the DOM lib). */
const PAGE_HELPERS = `
window.api = async (method, path, body, token) => {
  const headers = body === undefined ? {} : { 'content-type': 'application/json' };
  if (token) headers.authorization = 'Bearer ' + token;
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
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

describe.skipIf(SKIP_BROWSER_TESTS)('passkeys with a virtual authenticator in Chromium', () => {
  let t: TestApp;
  let browser: Browser;
  let base: string;

  beforeAll(async () => {
    ({ t, base } = await localhostTestApp({ WEBAUTHN_RP_ID: 'localhost' }));
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  /** A page on our origin with its own virtual authenticator (a separate "device"). */
  async function device(): Promise<{ page: Page; cdp: CDPSession; authenticatorId: string }> {
    const page = await browser.newPage();
    const res = await page.goto(`${base}/health/live`);
    expect(res?.status()).toBe(200);
    await page.evaluate(PAGE_HELPERS);
    const { cdp, authenticatorId } = await addVirtualAuthenticator(page);
    return { page, cdp, authenticatorId };
  }

  const api = (page: Page, method: string, path: string, body?: unknown, token?: string) =>
    page.evaluate(
      ([m, p, b, tk]) => (globalThis as unknown as { api: (...a: unknown[]) => Promise<Answer> }).api(m, p, b, tk),
      [method, path, body, token] as const,
    );
  const create = (page: Page, options: unknown) =>
    page.evaluate(
      (o) =>
        (globalThis as unknown as { createPasskey: (o: unknown) => Promise<Record<string, unknown>> }).createPasskey(o),
      options,
    );
  const get = (page: Page, options: unknown) =>
    page.evaluate(
      (o) => (globalThis as unknown as { getPasskey: (o: unknown) => Promise<Record<string, unknown>> }).getPasskey(o),
      options,
    );

  async function loginIn(page: Page, user: TestUser): Promise<Answer> {
    return api(page, 'POST', '/api/auth/login', { email: user.email, password: user.password });
  }

  async function register(page: Page, user: TestUser, name = 'My key'): Promise<Answer> {
    const l = await loginIn(page, user);
    const token = String(l.body['accessToken']);
    const options = await api(page, 'POST', '/api/auth/mfa/passkeys/options', undefined, token);
    expect(options.status).toBe(200);
    expect(options.body['rp']).toMatchObject({ id: 'localhost' });
    const response = await create(page, options.body);
    return api(page, 'POST', '/api/auth/mfa/passkeys', { response, name }, token);
  }

  it('registers a passkey, then uses it as the second factor of a password login', async () => {
    const user = await createUser(t.app);
    const { page } = await device();
    const reg = await register(page, user);
    expect(reg.status, JSON.stringify(reg.body)).toBe(201);
    expect(reg.body['passkey']).toMatchObject({ name: 'My key' });
    expect(reg.body['backupCodes']).toHaveLength(10);

    const l = await loginIn(page, user);
    expect(l.body).toMatchObject({ mfaRequired: true, methods: ['passkey', 'backup_code'] });
    expect(l.body['accessToken']).toBeUndefined();
    const options = await api(page, 'POST', '/api/auth/mfa/passkeys/challenge', { mfaToken: l.body['mfaToken'] });
    expect(options.status).toBe(200);
    const assertion = await get(page, options.body);
    const v = await api(page, 'POST', '/api/auth/mfa/verify', { mfaToken: l.body['mfaToken'], passkey: assertion });
    expect(v.status, JSON.stringify(v.body)).toBe(200);
    expect(claimsOf(String(v.body['accessToken']))['amr']).toEqual(expect.arrayContaining(['pwd', 'hwk', 'mfa']));

    // The same assertion again, with a new login: the challenge inside it is spent.
    const l2 = await loginIn(page, user);
    const replay = await api(page, 'POST', '/api/auth/mfa/verify', {
      mfaToken: l2.body['mfaToken'],
      passkey: assertion,
    });
    expect(replay.status).toBe(401);
    await page.close();
  });

  it('signs in without a password (user-verified passkey = MFA on its own); a replayed assertion is refused', async () => {
    const user = await createUser(t.app);
    const { page } = await device();
    expect((await register(page, user, 'Laptop')).status).toBe(201);
    const options = await api(page, 'POST', '/api/auth/passkey/options');
    expect(options.status).toBe(200);
    expect(options.body['userVerification']).toBe('required');
    const assertion = await get(page, options.body);
    const res = await api(page, 'POST', '/api/auth/passkey/verify', { response: assertion });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const claims = claimsOf(String(res.body['accessToken']));
    expect(claims['sub']).toBe(user.id);
    expect(claims['amr']).toEqual(expect.arrayContaining(['hwk', 'mfa']));
    expect(claims['amr']).not.toContain('pwd');
    const replay = await api(page, 'POST', '/api/auth/passkey/verify', { response: assertion });
    expect(replay.status).toBe(401);
    await page.close();
  });

  it("another user's passkey cannot answer this user's login challenge", async () => {
    const alice = await createUser(t.app);
    const mallory = await createUser(t.app);
    const a = await device();
    const m = await device();
    expect((await register(a.page, alice)).status).toBe(201);
    expect((await register(m.page, mallory)).status).toBe(201);
    // Mallory knows Alice's password but holds only her own passkey.
    const l = await api(m.page, 'POST', '/api/auth/login', { email: alice.email, password: alice.password });
    const options = await api(m.page, 'POST', '/api/auth/mfa/passkeys/challenge', { mfaToken: l.body['mfaToken'] });
    // Alice's credential is the only one allowed; Mallory's authenticator has none of them, so
    // she answers with a discoverable assertion of her own key for the same challenge.
    const own = await get(m.page, { ...options.body, allowCredentials: [] });
    const v = await api(m.page, 'POST', '/api/auth/mfa/verify', { mfaToken: l.body['mfaToken'], passkey: own });
    expect(v.status).toBe(401);
    expect(v.body['accessToken']).toBeUndefined();
    await a.page.close();
    await m.page.close();
  });

  it('lists passkeys and removes one (recent sign-in required)', async () => {
    const user = await createUser(t.app);
    const { page } = await device();
    expect((await register(page, user, 'Phone')).status).toBe(201);
    const token = user.accessToken;
    const list = await t.app.inject({
      method: 'GET',
      url: '/api/auth/mfa/passkeys',
      headers: { authorization: `Bearer ${token}` },
    });
    const items = list.json<{ items: { id: string; name: string }[] }>().items;
    expect(items.map((i) => i.name)).toEqual(['Phone']);
    // An old session may not remove it.
    t.clock.advance((t.config.REAUTH_MAX_AGE + 1) * 1000);
    const stale = await t.app.inject({
      method: 'DELETE',
      url: `/api/auth/mfa/passkeys/${items[0]!.id}`,
      headers: { authorization: `Bearer ${token}` },
    });
    expect(stale.statusCode).toBe(401);
    expect(stale.json()).toMatchObject({ code: 'REAUTH_REQUIRED' });
    const l = await loginIn(page, user);
    const assertion = await get(
      page,
      (await api(page, 'POST', '/api/auth/mfa/passkeys/challenge', { mfaToken: l.body['mfaToken'] })).body,
    );
    const v = await api(page, 'POST', '/api/auth/mfa/verify', { mfaToken: l.body['mfaToken'], passkey: assertion });
    const fresh = String(v.body['accessToken']);
    const del = await t.app.inject({
      method: 'DELETE',
      url: `/api/auth/mfa/passkeys/${items[0]!.id}`,
      headers: { authorization: `Bearer ${fresh}` },
    });
    expect(del.statusCode).toBe(204);
    const after = await t.app.inject({
      method: 'GET',
      url: '/api/auth/mfa/passkeys',
      headers: { authorization: `Bearer ${fresh}` },
    });
    expect(after.json()).toEqual({ items: [] });
    await page.close();
  });

  it('a registration response for a challenge of another user is refused', async () => {
    const alice = await createUser(t.app);
    const bob = await createUser(t.app);
    const { page } = await device();
    const aliceLogin = await loginIn(page, alice);
    const options = await api(
      page,
      'POST',
      '/api/auth/mfa/passkeys/options',
      undefined,
      String(aliceLogin.body['accessToken']),
    );
    const response = await create(page, options.body);
    const bobLogin = await loginIn(page, bob);
    const res = await api(page, 'POST', '/api/auth/mfa/passkeys', { response }, String(bobLogin.body['accessToken']));
    expect(res.status).toBe(401);
    expect(res.body['code']).toBe('PASSKEY_CHALLENGE_INVALID');
    await page.close();
  });
});
