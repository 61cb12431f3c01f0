/**
 * The admin's users and security screens (/admin/users, /admin/invitations, /admin/audit,
 * /admin/blocks, /admin/quarantine, /admin/backups) in headless Chromium against a real server,
 * on the default configuration (AUTH_COOKIES off: the console's browser mode, cookies + CSRF).
 * The admin signs in with a password and an authentication code (admins must use MFA) and then:
 * invites someone and sees them listed (and, once they accept, among the users); changes a user's
 * roles, revokes their sessions, resets their second factors and disables them, each time
 * watching the user's own browser session end; lifts a block; releases a quarantined file with a
 * reason; filters and exports the audit log and reads the chain's status (the old /admin
 * dashboard's checks moved here); reads the backup status. An editor gets no such screen, and
 * every one of their APIs answers 403 to the editor's own cookie session. axe finds nothing
 * serious or critical and the CSP recorder records nothing on any screen.
 *
 * One browser for the file, one context per user. Needs /usr/bin/chromium (test/support/browser).
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { TestApp } from '../../test/helpers/app.js';
import { localhostTestApp } from '../../test/support/browser/server.js';
import {
  createPortfolio,
  createUser,
  strongPassword,
  uniqueEmail,
  type TestUser,
} from '../../test/helpers/factories.js';
import { mailsTo, tokenIn } from '../../test/support/accounts/helpers.js';
import { fakeBackup } from '../../test/support/backup/rpo.js';
import { expectNoSeriousA11yViolations } from '../../test/support/browser/axe.js';
import { watchContext, type PageWatch } from '../../test/support/browser/csp.js';
import { launchChromium, SKIP_BROWSER_TESTS } from '../../test/support/browser/launch.js';
import { signInThroughApi } from '../../test/support/browser/session.js';
import { enrollTotp, oathCode } from '../../test/support/mfa/helpers.js';
import { auditActions, png, upload } from '../../test/support/uploads/helpers.js';
import { AUDIT_ACTIONS } from '../security/audit/actions.js';

/** Runs in the page: every admin API of these screens, called with the page's own cookies and CSRF token. */
const CALL_ADMIN_APIS = `async ({ userId, mediaId, client }) => {
  const csrf = (document.cookie.split('; ').find((c) => c.startsWith('__Host-csrf=')) || '').split('=')[1] || '';
  const call = async (method, path, body) => {
    const headers = { 'x-auth-mode': 'browser', 'x-csrf-token': decodeURIComponent(csrf) };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(path, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
    let code = null;
    try { code = (await res.json()).code; } catch {}
    return method + ' ' + path + ' ' + res.status + ' ' + code;
  };
  return [
    await call('GET', '/api/admin/users'),
    await call('GET', '/api/admin/users/' + userId),
    await call('PATCH', '/api/admin/users/' + userId, { disabled: true }),
    await call('PATCH', '/api/admin/users/' + userId, { roles: ['admin'] }),
    await call('POST', '/api/admin/users/' + userId + '/revoke-tokens'),
    await call('POST', '/api/admin/users/' + userId + '/mfa/reset'),
    await call('GET', '/api/admin/invitations'),
    await call('POST', '/api/admin/invitations', { email: 'sneaky@example.test', roles: ['admin'] }),
    await call('GET', '/api/admin/roles'),
    await call('GET', '/api/admin/audit'),
    await call('GET', '/api/admin/audit/status'),
    await call('GET', '/api/admin/audit/stats'),
    await call('GET', '/api/admin/audit/export?format=csv'),
    await call('GET', '/api/admin/security/blocks'),
    await call('DELETE', '/api/admin/security/blocks/' + client),
    await call('GET', '/api/admin/quarantine'),
    await call('POST', '/api/admin/quarantine/' + mediaId + '/release', { reason: 'looks fine to me' }),
    await call('DELETE', '/api/admin/quarantine/' + mediaId),
    await call('GET', '/api/admin/backups/status'),
  ];
}`;

const ONCALL = 'oncall@example.test';

describe.skipIf(SKIP_BROWSER_TESTS)('admin users and security screens in headless Chromium', () => {
  let t: TestApp;
  let base: string;
  let browser: Browser;
  let backups: string;
  let admin: TestUser & { secret: string };
  const contexts: BrowserContext[] = [];
  const watches: PageWatch[] = [];

  beforeAll(async () => {
    backups = await mkdtemp(path.join(os.tmpdir(), 'pf-admin-backups-'));
    ({ t, base } = await localhostTestApp({
      BACKUP_DIR: backups,
      BACKUP_RPO_HOURS: '24',
      // Mails stay in the outbox (a sent one has its body, the link, erased): the test reads the invitation's.
      MAIL_POLL_INTERVAL: '0',
      // The alerts test opens the link of an alert mail.
      ALERT_EMAILS: ONCALL,
    }));
    expect(t.config.AUTH_COOKIES).toBe(false);
    const created = await createUser(t.app, { role: 'admin' });
    admin = { ...created, secret: (await enrollTotp(t.app, t.clock, created)).secret };
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await t?.close();
    await rm(backups, { recursive: true, force: true });
  });

  // Each test answers for the pages it opened.
  beforeEach(() => {
    watches.length = 0;
  });

  async function newPage(options: { locale?: string; phone?: boolean } = {}): Promise<Page> {
    const context = await browser.newContext({
      locale: options.locale ?? 'en-US',
      acceptDownloads: true,
      ...(options.phone ? { viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true } : {}),
    });
    contexts.push(context);
    watches.push(await watchContext(context));
    return context.newPage();
  }

  /** No CSP violation and no page error in any context of this test. */
  function expectCleanRun(): void {
    for (const w of watches) {
      expect(w.violations).toEqual([]);
      expect(w.problems).toEqual([]);
    }
  }

  /**
   * A new context signed in as `user` (with a code when `secret`) through the console's own sign-in
   * calls, not its page (test/support/browser/session.ts: nothing here is about signing in; the
   * sign-in page has src/console/sign-in.test.ts), on `next`.
   */
  async function signedInPage(
    user: { email: string; password: string; secret?: string },
    next: string,
    options: { locale?: string; phone?: boolean } = {},
  ): Promise<Page> {
    const page = await newPage(options);
    await signInThroughApi(page.context(), base, {
      ...user,
      // A fresh time step: a code is accepted once.
      ...(user.secret
        ? {
            code: () => {
              t.clock.advance(30_000);
              return oathCode(user.secret!, t.clock.now().getTime());
            },
          }
        : {}),
    });
    await page.goto(`${base}${next}`);
    return page;
  }

  /** On the screen `name`; axe finds nothing serious or critical on it. */
  async function screen(page: Page, name: string | RegExp): Promise<void> {
    await at(page, name);
    await expectNoSeriousA11yViolations(page, String(name));
  }

  /** On the screen `name`, in a state another step of this file has already scanned with axe. */
  async function at(page: Page, name: string | RegExp): Promise<void> {
    await page.getByRole('heading', { level: 1, name }).waitFor();
  }

  /** What GET /api/auth/me answers to this page's own cookies. */
  async function meStatus(page: Page): Promise<number> {
    return Number(
      await page.evaluate(
        `fetch('/api/auth/me', { credentials: 'same-origin', cache: 'no-store' }).then((r) => r.status)`,
      ),
    );
  }

  it('invite someone: the invitation is listed as pending, and once accepted they are among the users', async () => {
    const page = await signedInPage(admin, '/admin/invitations');
    await screen(page, 'Invitations');
    const email = uniqueEmail('invited');

    // Nothing filled in: each problem under its field.
    await page.getByRole('button', { name: 'Invite', exact: true }).click();
    await page.getByText('Fill in this field.').waitFor();
    await page.getByText('Choose at least one role.').waitFor();
    expect(await page.getByLabel('Email', { exact: true }).getAttribute('aria-invalid')).toBe('true');

    await page.getByLabel('Email', { exact: true }).fill(email);
    await page.getByRole('checkbox', { name: 'editor', exact: true }).check();
    await page.getByRole('button', { name: 'Invite', exact: true }).click();
    await page.getByText(`Invitation mailed to ${email}.`).waitFor();
    const row = page.getByRole('row').filter({ hasText: email });
    await row.waitFor();
    expect(await row.textContent()).toContain('Pending');
    expect(await row.textContent()).toContain('editor');
    await expectNoSeriousA11yViolations(page, 'invitations with one pending');

    // They accept from the mailed link; the Users screen lists them with the role they were given.
    const mails = await mailsTo(t.app, email, 'invitation');
    expect(mails).toHaveLength(1);
    const accepted = await t.app.inject({
      method: 'POST',
      url: '/api/auth/invitations/accept',
      payload: { token: tokenIn(mails[0]), password: strongPassword(), name: 'Invited Person' },
    });
    expect(accepted.statusCode, accepted.body).toBe(201);
    await page.getByRole('navigation', { name: /admin/i }).getByRole('link', { name: 'Users', exact: true }).click();
    await screen(page, 'Users');
    const userRow = page.getByRole('row').filter({ hasText: email });
    await userRow.waitFor();
    expect(await userRow.textContent()).toMatch(/Invited Person.*editor.*Active/);
    expectCleanRun();
  }, 90_000);

  it("roles, revoke sessions, reset second factors and disable: each ends the user's session at once", async () => {
    const victim = await createUser(t.app, { role: 'editor' });
    await enrollTotp(t.app, t.clock, victim);

    const admins = await signedInPage(admin, '/admin/users');
    await at(admins, 'Users'); // scanned by the invitation test
    await admins.getByRole('link', { name: victim.email, exact: true }).click();
    await screen(admins, `User ${victim.email}`);

    // Roles: editor → user (the checkboxes, then Save roles).
    await admins.getByRole('checkbox', { name: 'user', exact: true }).check();
    await admins.getByRole('checkbox', { name: 'editor', exact: true }).uncheck();
    await admins.getByRole('button', { name: 'Save roles' }).click();
    await admins.getByText('Roles saved.').waitFor();
    expect((await t.app.users.get(victim.id)).roles).toEqual(['user']);

    // Revoke sessions: the victim's bearer token (and any session) stops working at once.
    await admins.getByRole('button', { name: 'Revoke sessions' }).click();
    await admins.getByText('Every session of this account has ended.').waitFor();
    const revoked = await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: victim.auth });
    expect(revoked.statusCode).toBe(401);

    // Reset second factors: asks first, then removes the TOTP factor.
    await admins.getByRole('button', { name: 'Reset second factors' }).click();
    await admins.getByText('Remove every second factor of this account?', { exact: false }).waitFor();
    await expectNoSeriousA11yViolations(admins, 'user: confirm MFA reset');
    await admins.getByRole('button', { name: 'Yes, reset them' }).click();
    await admins.getByText(/^Second factors removed: 1\./).waitFor();
    const mfa = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { email: victim.email, password: victim.password },
    });
    expect(mfa.json()).not.toHaveProperty('mfaRequired');

    // Now the victim signs in in their own browser (no second factor any more) ...
    const victims = await signedInPage(victim, '/account');
    await victims.getByRole('heading', { level: 1, name: 'My account' }).waitFor();
    expect(await meStatus(victims)).toBe(200);

    // ... and the admin disables the account: that browser session ends on its next request.
    await admins.getByRole('button', { name: 'Disable account' }).click();
    await admins.getByText('The account is disabled and every session of it has ended.').waitFor();
    await admins.getByRole('button', { name: 'Enable account' }).waitFor();
    expect(await meStatus(victims)).toBe(401);
    await victims.reload();
    await victims.waitForURL((url) => url.pathname === '/account/sign-in');
    // And signing in again is refused.
    const again = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { email: victim.email, password: victim.password },
    });
    expect(again.statusCode).toBe(401);

    // The admin's own account: no disabling it from here.
    await admins.goto(`${base}/admin/users/${admin.id}`);
    await screen(admins, `User ${admin.email}`);
    expect(await admins.getByRole('button', { name: 'Disable account' }).isDisabled()).toBe(true);
    expectCleanRun();
  }, 120_000);

  it('lift a block: listed with its reason, gone from the store and the list once lifted', async () => {
    const client = '203.0.113.77';
    const now = t.clock.now().getTime();
    await t.app.shield.limiter.store.putBlock(
      client,
      { until: now + 3_600_000, level: 2, reason: 'rate_limited' },
      now,
    );
    const page = await signedInPage(admin, '/admin/blocks');
    await screen(page, 'Rate-limit blocks');
    const row = page.getByRole('row').filter({ hasText: client });
    await row.waitFor();
    expect(await row.textContent()).toContain('rate_limited');
    await page.getByRole('button', { name: `Lift block of ${client}` }).click();
    await page.getByText(`Block of ${client} lifted.`).waitFor();
    await page.getByText('No client is blocked.').waitFor();
    expect(await t.app.shield.limiter.store.getBlock(client, t.clock.now().getTime())).toBeNull();
    expectCleanRun();
  }, 60_000);

  it('release a quarantined file with a reason: it becomes available, the reason is audited', async () => {
    // No scanner here: every upload waits in quarantine (scan_unavailable).
    const owner = await createUser(t.app);
    const portfolio = await createPortfolio(t.app, owner);
    const res = await upload(
      t.app,
      owner,
      { portfolioId: portfolio.id },
      { name: 'held.png', type: 'image/png', data: await png() },
    );
    expect(res.json()).toMatchObject({ status: 'quarantined', statusReason: 'scan_unavailable' });
    const mediaId = res.json().id as string;

    const page = await signedInPage(admin, '/admin/quarantine', { locale: 'es-ES', phone: true });
    await screen(page, 'Cuarentena');
    // Spanish on a phone: nothing wider than the screen.
    expect(Number(await page.evaluate('document.documentElement.scrollWidth'))).toBeLessThanOrEqual(375);
    await page.getByLabel('Idioma').selectOption('en');
    await screen(page, 'Quarantine');
    const row = page.getByRole('row').filter({ hasText: 'held.png' });
    await row.waitFor();
    expect(await row.textContent()).toContain('scan_unavailable');
    await page.getByRole('button', { name: 'Release held.png' }).click();
    await page.getByRole('heading', { level: 2, name: 'Release held.png' }).waitFor();
    // A reason is required, and shown under its field.
    await page.getByRole('button', { name: 'Release the file' }).click();
    await page.getByText('Fill in this field.').waitFor();
    expect(await page.getByLabel('Reason').getAttribute('aria-invalid')).toBe('true');
    await expectNoSeriousA11yViolations(page, 'quarantine: release form with its problem');
    await page.getByLabel('Reason').fill('Clean when scanned by hand on an offline machine');
    await page.getByRole('button', { name: 'Release the file' }).click();
    await page.getByText(/^held\.png released: available\./).waitFor();
    await page.getByText('No file is in quarantine.').waitFor();
    expect((await t.app.uploads.repo.get(mediaId))?.status).toBe('available');
    const released = (await auditActions(t, mediaId)).find((e) => e.action === 'media.quarantine.released');
    expect(released?.metadata['reason']).toBe('Clean when scanned by hand on an offline machine');
    expectCleanRun();
  }, 90_000);

  it('audit log: chain status, the day in numbers, events as text, filters, and the export of what they match', async () => {
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

    const page = await signedInPage(admin, '/admin/audit');
    await screen(page, 'Audit log');
    const chain = page.locator('.chain');
    await chain.waitFor();
    expect(await chain.getAttribute('data-ok')).toBe('true');
    expect(await chain.textContent()).toMatch(/^Intact: /);
    await page.getByText(/^Last signed checkpoint: event \d+ at /).waitFor();
    expect(Number(await page.locator('[data-stat="failedLogins"]').textContent())).toBeGreaterThanOrEqual(3);
    await page.getByRole('row').filter({ hasText: 'auth.login.failed' }).first().waitFor();
    // A stored markup payload is text, never an element.
    expect(await page.locator('table img').count()).toBe(0);
    await page.getByText('<img src=x onerror=alert(1)>', { exact: false }).waitFor();

    // Filter by action: every row is a failed sign-in.
    await page.getByLabel('Action (prefix)').fill('auth.login.failed');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    // Polled from here: a string evaluated in the page would itself be refused by the CSP (no eval).
    await expect
      .poll(async () => {
        const cells = await page.locator('table .audit-action').allTextContents();
        return cells.length >= 3 && cells.every((c) => c === 'auth.login.failed');
      })
      .toBe(true);
    // The same screen as scanned above, with fewer rows of the same kind: no second axe scan.

    // Export CSV: the file holds exactly the filtered events, and the export is itself audited.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export CSV' }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^audit-.*\.csv$/);
    const csv = await readFile(await download.path(), 'utf8');
    const [header, ...lines] = csv.trim().split('\n');
    expect(header).toMatch(/^seq,time,action,actor,outcome,/);
    expect(lines.length).toBeGreaterThanOrEqual(3);
    for (const line of lines) expect(line).toContain('"auth.login.failed"');
    await page.getByText('Export downloaded.').waitFor();
    await t.app.audit.flush();
    const exports = await t.deps.db.query<{ metadata: { filter: { action?: string }; rows: number } }>(
      `select metadata from audit_events where action = 'audit.export' order by seq desc limit 1`,
    );
    expect(exports[0]?.metadata.filter.action).toBe('auth.login.failed');

    // Clear: everything again.
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await page.getByRole('row').filter({ hasText: 'test.markup' }).waitFor();
    expectCleanRun();
  }, 90_000);

  it('backup status: the newest verified backup and the RPO state', async () => {
    const verifiedAt = new Date(t.clock.now().getTime() - 5 * 3_600_000);
    await fakeBackup(backups, verifiedAt, true);
    const page = await signedInPage(admin, '/admin/backups');
    await screen(page, 'Backups');
    const state = page.locator('[data-rpo]');
    await state.waitFor();
    expect(await state.getAttribute('data-rpo')).toBe('ok');
    expect(await state.textContent()).toBe('Within the recovery point objective');
    await page.getByText('24 hours').waitFor();
    expectCleanRun();
  }, 60_000);

  it('the CSP refuses an inline script injected into the Audit log screen', async () => {
    // Its own context, outside the recorder: this violation is the point.
    const context = await browser.newContext();
    contexts.push(context);
    await signInThroughApi(context, base, {
      ...admin,
      code: () => {
        t.clock.advance(30_000);
        return oathCode(admin.secret, t.clock.now().getTime());
      },
    });
    const page = await context.newPage();
    await page.goto(`${base}/admin/audit`);
    await page.getByRole('heading', { level: 1, name: 'Audit log' }).waitFor();
    const blocked = await page.evaluate(`new Promise((resolve) => {
      document.addEventListener('securitypolicyviolation', () => resolve(true), { once: true });
      const s = document.createElement('script');
      s.textContent = 'window.__pwned = true';
      document.body.appendChild(s);
      setTimeout(() => resolve(false), 1000);
    })`);
    expect(blocked).toBe(true);
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
  }, 60_000);

  it('alerts: a raised alert is listed, its mailed link opens it with its events, ack changes its state; an editor gets neither', async () => {
    // A rotated refresh token presented again: the detection consumer raises "refresh-token-reuse" and mails it.
    const victim = randomUUID();
    await t.app.audit.record({
      action: AUDIT_ACTIONS.refreshReused,
      actor: victim,
      outcome: 'failure',
      target: { type: 'user', id: victim },
      metadata: {},
    });
    await t.app.audit.flush();
    await t.app.detection.consumer.runOnce();
    const [raised] = await t.deps.db.query<{ id: string; first_seq: string | number }>(
      `select id, first_seq from alerts where rule = 'refresh-token-reuse' and dedup_key like $1`,
      [`%${victim}%`],
    );
    expect(raised).toBeDefined();
    const alertId = raised!.id;
    const seq = Number(raised!.first_seq);
    const mail = (await mailsTo(t.app, ONCALL, 'operator_alert')).find((m) => m.text.includes(alertId));
    const linked = /https?:\/\/\S+\/admin\/alerts\/[0-9a-f-]{36}/.exec(mail?.text ?? '')?.[0];
    expect(linked).toBe(`${base}/admin/alerts/${alertId}`);
    const alertState = async () => (await t.app.alerts.repo.get(alertId))?.state;

    // An editor (no security:manage): no Alerts in the nav, neither screen by address, 403 from the API.
    const editor = await createUser(t.app, { role: 'editor' });
    const editors = await signedInPage(editor, '/admin');
    await editors.getByRole('navigation', { name: /admin/i }).waitFor();
    expect(
      await editors
        .getByRole('navigation', { name: /admin/i })
        .getByRole('link', { name: 'Alerts', exact: true })
        .count(),
    ).toBe(0);
    for (const address of ['/admin/alerts', new URL(linked!).pathname]) {
      await editors.goto(`${base}${address}`);
      await editors.getByRole('heading', { level: 1, name: 'Page not found' }).waitFor();
      expect(await editors.getByText('refresh-token-reuse').count(), address).toBe(0);
    }
    const refused = await editors.evaluate<string[]>(`(async (id) => {
      const csrf = decodeURIComponent((document.cookie.split('; ').find((c) => c.startsWith('__Host-csrf=')) || '').split('=')[1] || '');
      const headers = { 'x-auth-mode': 'browser', 'x-csrf-token': csrf };
      const call = async (method, path) => {
        const res = await fetch(path, { method, headers, credentials: 'same-origin' });
        return method + ' ' + path + ' ' + res.status + ' ' + (await res.json()).code;
      };
      return [
        await call('GET', '/api/admin/alerts'),
        await call('GET', '/api/admin/alerts/' + id),
        await call('POST', '/api/admin/alerts/' + id + '/ack'),
      ];
    })(${JSON.stringify(alertId)})`);
    expect(refused).toEqual([
      'GET /api/admin/alerts 403 FORBIDDEN',
      `GET /api/admin/alerts/${alertId} 403 FORBIDDEN`,
      `POST /api/admin/alerts/${alertId}/ack 403 FORBIDDEN`,
    ]);
    expect(await alertState()).toBe('open');

    // The admin: the list, with its filters.
    const page = await signedInPage(admin, '/admin/alerts');
    await screen(page, 'Alerts');
    const row = page.getByRole('row').filter({ has: page.getByRole('link', { name: /^Alert refresh-token-reuse/ }) });
    await row.first().waitFor();
    expect(await row.first().textContent()).toMatch(/Critical.*Open/);
    await page.getByLabel('Severity').selectOption('info');
    await row.first().waitFor({ state: 'detached' });
    await page.getByLabel('Severity').selectOption('critical');
    await row.first().waitFor();
    await page.getByLabel('State').selectOption('acknowledged');
    await row.first().waitFor({ state: 'detached' });
    await page.getByLabel('State').selectOption('');
    await page.getByLabel('Severity').selectOption('');
    await row.first().waitFor();

    // The mailed link opens its page: rule, severity, summary, count, first/last seen, state, its events.
    await page.goto(linked!);
    await screen(page, 'Alert: refresh-token-reuse');
    expect(await page.locator('[data-fact="state"] dd').textContent()).toBe('Open');
    expect(await page.locator('[data-fact="severity"] dd').textContent()).toBe('Critical');
    expect(await page.locator('[data-fact="count"] dd').textContent()).toBe('1');
    await page.getByText(`Raised by audit event ${seq}`).waitFor();
    const raising = page.getByRole('row', { name: new RegExp(`^${seq} \\(this alert\\)`) });
    await raising.waitFor();
    expect(await raising.textContent()).toContain(AUDIT_ACTIONS.refreshReused);

    // Acknowledge, from the keyboard: the state changes on the page and in the store.
    await page.getByRole('button', { name: 'Acknowledge refresh-token-reuse' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('status').getByText('Alert refresh-token-reuse acknowledged.').waitFor();
    await page.locator('[data-fact="state"] dd').getByText('Acknowledged').waitFor();
    expect(await page.locator('[data-fact="acked"] dd').textContent()).toContain(admin.id);
    expect(await page.getByRole('button', { name: 'Acknowledge refresh-token-reuse' }).count()).toBe(0);
    expect(await alertState()).toBe('acknowledged');
    expect((await t.app.alerts.repo.get(alertId))?.ackedBy).toBe(admin.id);
    await expectNoSeriousA11yViolations(page, 'alert acknowledged');

    // Its events in the audit log: the log opens filtered to the alert's time.
    await page.getByRole('link', { name: 'Open the audit log at the time of this alert' }).click();
    await at(page, 'Audit log'); // scanned by the audit log test
    expect(await page.getByLabel('From').inputValue()).not.toBe('');
    await page.getByRole('cell', { name: AUDIT_ACTIONS.refreshReused }).first().waitFor();

    // Back in the list, it is among the acknowledged ones.
    await page.goto(`${base}/admin/alerts`);
    await at(page, 'Alerts'); // scanned above
    await page.getByLabel('State').selectOption('acknowledged');
    await row.first().waitFor();

    // The alert's page in Spanish on a phone.
    await page.setViewportSize({ width: 375, height: 740 });
    await page.goto(linked!);
    await page.getByLabel('Language').first().selectOption('es');
    await screen(page, 'Alerta: refresh-token-reuse');
    expect(await page.locator('[data-fact="state"] dd').textContent()).toBe('Reconocida');
    expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
    expectCleanRun();
  }, 120_000);

  it('an editor sees no users or security screen, and every one of their APIs refuses the editor (403)', async () => {
    const editor = await createUser(t.app, { role: 'editor' });
    const target = await createUser(t.app);
    const owner = await createUser(t.app);
    const portfolio = await createPortfolio(t.app, owner);
    const media = await upload(
      t.app,
      owner,
      { portfolioId: portfolio.id },
      { name: 'x.png', type: 'image/png', data: await png() },
    );
    const client = '203.0.113.78';
    const now = t.clock.now().getTime();
    await t.app.shield.limiter.store.putBlock(
      client,
      { until: now + 3_600_000, level: 1, reason: 'rate_limited' },
      now,
    );

    const page = await signedInPage(editor, '/admin');
    await page.getByRole('heading', { level: 1 }).waitFor();
    const nav = page.getByRole('navigation', { name: /admin/i });
    await nav.waitFor();
    for (const name of ['Users', 'Invitations', 'Audit log', 'Blocks', 'Quarantine', 'Backups']) {
      expect(await nav.getByRole('link', { name, exact: true }).count(), name).toBe(0);
    }
    // Typing the address does not open them either.
    for (const screenPath of [
      'users',
      'invitations',
      'audit',
      'blocks',
      'quarantine',
      'backups',
      `users/${target.id}`,
    ]) {
      await page.goto(`${base}/admin/${screenPath}`);
      await page.getByRole('heading', { level: 1, name: 'Page not found' }).waitFor();
      expect(await page.getByRole('table').count(), screenPath).toBe(0);
    }

    // The attack: the editor's own session calls the APIs directly, cookies and CSRF token included.
    const answers = await page.evaluate<string[]>(
      `(${CALL_ADMIN_APIS})(${JSON.stringify({
        userId: target.id,
        mediaId: media.json().id,
        client,
      })})`,
    );
    expect(answers.length).toBe(19);
    for (const answer of answers) expect(answer).toMatch(/ 403 FORBIDDEN$/);
    // Nothing changed.
    expect((await t.app.users.get(target.id)).disabled).toBe(false);
    expect((await t.app.uploads.repo.get(media.json().id))?.status).toBe('quarantined');
    expect(await t.app.shield.limiter.store.getBlock(client, t.clock.now().getTime())).not.toBeNull();
    expect(await t.deps.db.query(`select id from invitations where email = 'sneaky@example.test'`)).toEqual([]);
    expectCleanRun();
  }, 90_000);
});
