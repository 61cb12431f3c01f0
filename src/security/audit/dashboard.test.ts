/**
 * The dashboard driven by a real browser (Debian's chromium through playwright-core): the admin
 * signs in with their own credentials, sees recent events, the integrity status with the last
 * checkpoint and the charts, filters events; a non-admin is turned away; and the strict CSP holds
 * (no violation reported while the page works, and a stored markup payload is shown as text).
 *
 * Needs /usr/bin/chromium (`apt-get install -y chromium`). Without it the test is skipped with the
 * reason, except in CI (CI=true), where a missing browser is a failure.
 */
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.js';
import { createUser, type TestUser } from '../../../test/helpers/factories.js';
import { launchChromium, SKIP_BROWSER_TESTS } from '../../../test/support/browser/launch.js';

/** The little of the DOM the page-side callbacks use (this project compiles without the DOM lib). */
interface PageDocument {
  getElementById(id: string): { textContent: string | null } | null;
  querySelectorAll(selector: string): ArrayLike<{ textContent: string | null }>;
}

describe.skipIf(SKIP_BROWSER_TESTS)('dashboard in headless Chromium', () => {
  let t: TestApp;
  let browser: Browser;
  let base: string;
  let admin: TestUser;
  let user: TestUser;

  beforeAll(async () => {
    t = await buildTestApp({ RATE_LIMIT_ENABLED: 'false' });
    admin = await createUser(t.app, { role: 'admin' });
    user = await createUser(t.app);
    // Some history to show: failed logins, and an event carrying markup that must stay inert.
    for (let i = 0; i < 3; i++) {
      await t.app.inject({
        method: 'POST',
        url: '/api/auth/login',
        payload: { email: admin.email, password: 'definitely-wrong-1' },
      });
    }
    await t.app.audit.record({
      action: 'test.markup',
      actor: 'system',
      outcome: 'success',
      target: { type: 'note', id: '<img src=x onerror=alert(1)>' },
    });
    await t.app.audit.flush();
    await t.app.audit.checkpoint();
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  async function openPage() {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (/Content.Security.Policy|Refused to/i.test(m.text())) problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('dialog', (d) => {
      problems.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });
    const res = await page.goto(`${base}/admin`);
    expect(res?.status()).toBe(200);
    await page.waitForSelector('body[data-ready="true"]');
    return { page, problems };
  }

  it('an admin signs in and sees events, integrity and charts; filters work; nothing violates the CSP', async () => {
    const { page, problems } = await openPage();
    await page.fill('#login-email', admin.email);
    await page.fill('#login-password', admin.password);
    await page.click('#login-submit');
    await page.waitForSelector('body[data-loaded="true"]', { timeout: 20_000 });

    expect(await page.isVisible('#dashboard')).toBe(true);
    expect(await page.textContent('#who-email')).toBe(admin.email);
    expect(await page.getAttribute('#integrity-status', 'data-ok')).toBe('true');
    expect(await page.textContent('#integrity-status')).toMatch(/^Intact: Audit chain intact/);
    expect(await page.textContent('#integrity-checkpoint')).toMatch(/^seq \d+ at /);
    const rows = await page.$$eval('#events-body tr', (trs) =>
      trs.map((tr) => tr.querySelector('td.action')?.textContent ?? ''),
    );
    expect(rows.length).toBeGreaterThan(3);
    expect(rows).toContain('auth.login.failed');
    // Charts: one bar per hour, and the failed logins counted.
    expect(await page.$$eval('#chart-failed svg rect', (r) => r.length)).toBeGreaterThanOrEqual(24);
    expect(await page.textContent('#chart-failed .total')).toMatch(/^total [3-9]|^total \d{2,}/);
    // The stored markup is text, not an element.
    expect(await page.$('#events-body img')).toBeNull();
    expect(await page.textContent('#events-body')).toContain('<img src=x onerror=alert(1)>');

    await page.fill('#filter-action', 'auth.login.failed');
    await page.click('#filter-apply');
    await page.waitForFunction(() =>
      Array.from(
        (globalThis as unknown as { document: PageDocument }).document.querySelectorAll('#events-body td.action'),
      ).every((td) => td.textContent === 'auth.login.failed'),
    );
    expect(await page.$$eval('#events-body tr', (trs) => trs.length)).toBeGreaterThanOrEqual(3);

    expect(problems).toEqual([]);
    await page.click('#logout');
    expect(await page.isVisible('#login')).toBe(true);
    await page.close();
  }, 60_000);

  it('turns away an account without audit:read, and wrong credentials', async () => {
    const { page, problems } = await openPage();
    await page.fill('#login-email', user.email);
    await page.fill('#login-password', user.password);
    await page.click('#login-submit');
    await page.waitForFunction(
      () =>
        ((globalThis as unknown as { document: PageDocument }).document.getElementById('login-error')?.textContent ??
          '') !== '',
    );
    expect(await page.textContent('#login-error')).toMatch(/may not read the audit log/);
    expect(await page.isVisible('#dashboard')).toBe(false);
    await page.fill('#login-email', admin.email);
    await page.fill('#login-password', 'not-the-password');
    await page.click('#login-submit');
    await page.waitForFunction(() =>
      /incorrect/.test(
        (globalThis as unknown as { document: PageDocument }).document.getElementById('login-error')?.textContent ?? '',
      ),
    );
    expect(problems).toEqual([]);
    await page.close();
  }, 60_000);

  it('the CSP blocks an injected inline script', async () => {
    const { page } = await openPage();
    // Page-side code as strings: it runs in the browser, not under this file's (DOM-less) types.
    const blocked = await page.evaluate(`new Promise((resolve) => {
      document.addEventListener('securitypolicyviolation', () => resolve(true), { once: true });
      const s = document.createElement('script');
      s.textContent = 'window.__pwned = true';
      document.body.appendChild(s);
      setTimeout(() => resolve(false), 1000);
    })`);
    expect(blocked).toBe(true);
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    await page.close();
  }, 30_000);
});
