/**
 * Consent and the privacy notice (issue 19, item 7; docs/PRIVACY.md): `/privacy` serves the
 * configured file as escaped HTML, `GET /api/public/privacy` names its version, and the contact
 * form refuses a message that does not accept the current version (and records the one accepted,
 * and when). Without a notice, the contact form works as before (src/security/accounts/contact.test.ts).
 */
import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../../test/helpers/app.js';
import { createPortfolio, createUser } from '../../../../test/helpers/factories.js';
import { noticeVersionOf } from './service.js';

const HOSTILE =
  'We keep your messages.\n\n<script>alert(1)</script> & "quotes" <img src=x onerror=alert(2)>\nLine two.';

async function contactOf(t: TestApp) {
  const owner = await createUser(t.app);
  const { slug } = await createPortfolio(t.app, owner, { visibility: 'public', published: true });
  const send = (extra: Record<string, unknown> = {}) =>
    t.app.inject({
      method: 'POST',
      url: `/api/public/portfolios/${slug}/contact`,
      payload: { name: 'Visitor', email: 'visitor@example.org', message: `hi ${Math.random()}`, ...extra },
    });
  const stored = () =>
    t.deps.db.query<{ notice_version: string | null; notice_accepted_at: Date | null; recipient_id: string }>(
      `select notice_version, notice_accepted_at, recipient_id from contact_messages where recipient_id = $1 order by created_at`,
      [owner.id],
    );
  return { owner, send, stored };
}

describe('with a notice file', () => {
  let t: TestApp;
  let dir: string;
  let file: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'pf-notice-'));
    file = path.join(dir, 'privacy.txt');
    await writeFile(file, HOSTILE);
    t = await buildTestApp({ PRIVACY_NOTICE_FILE: file });
  });
  afterAll(async () => {
    await t.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('GET /api/public/privacy gives the version (a hash of the text), the date and the page', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/public/privacy' });
    expect(res.statusCode).toBe(200);
    const body = res.json<{ version: string; updatedAt: string; url: string }>();
    expect(body.version).toBe(noticeVersionOf(HOSTILE));
    expect(body.version).toMatch(/^sha256-[0-9a-f]{16}$/);
    expect(new URL(body.url).pathname).toBe('/privacy');
    expect(Number.isNaN(Date.parse(body.updatedAt))).toBe(false);
  });

  it('/privacy serves the text escaped: no markup from the file reaches the page, under a strict CSP', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/privacy' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
    expect(res.headers['content-security-policy']).not.toContain('unsafe-inline');
    expect(res.body).not.toContain('<script>');
    expect(res.body).not.toContain('<img');
    expect(res.body).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;');
    expect(res.body.match(/<h1>/g)).toHaveLength(1);
    expect(res.body).not.toMatch(/\sstyle=|<style|<script/);
  });

  it('the contact form refuses a message without the current version, or with another, and records the accepted one', async () => {
    const { send, stored } = await contactOf(t);
    const missing = await send();
    expect(missing.statusCode).toBe(400);
    expect(missing.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(missing.json()).toMatchObject({
      code: 'PRIVACY_NOTICE_NOT_ACCEPTED',
      privacyNoticeVersion: noticeVersionOf(HOSTILE),
    });
    const wrong = await send({ privacyNoticeVersion: 'sha256-0000000000000000' });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().code).toBe('PRIVACY_NOTICE_NOT_ACCEPTED');
    // A bot filling the honeypot is refused the same way, so consent does not reveal the honeypot.
    expect((await send({ website: 'spam' })).json().code).toBe('PRIVACY_NOTICE_NOT_ACCEPTED');
    expect(await stored()).toHaveLength(0);

    const ok = await send({ privacyNoticeVersion: noticeVersionOf(HOSTILE) });
    expect(ok.statusCode, ok.body).toBe(202);
    const rows = await stored();
    expect(rows).toHaveLength(1);
    expect(rows[0]?.notice_version).toBe(noticeVersionOf(HOSTILE));
    expect(new Date(rows[0]?.notice_accepted_at as Date).getTime()).toBe(t.clock.now().getTime());
  }, 120_000);

  it('a changed file is a new version: the old one is refused from then on', async () => {
    const { send } = await contactOf(t);
    const before = noticeVersionOf(HOSTILE);
    const changed = `${HOSTILE}\nWe added a paragraph.`;
    await writeFile(file, changed);
    const later = new Date(Date.now() + 5000);
    await utimes(file, later, later);
    const info = (await t.app.inject({ method: 'GET', url: '/api/public/privacy' })).json<{ version: string }>();
    expect(info.version).toBe(noticeVersionOf(changed));
    expect((await send({ privacyNoticeVersion: before })).statusCode).toBe(400);
    expect((await send({ privacyNoticeVersion: info.version })).statusCode).toBe(202);
  }, 120_000);
});

describe('PRIVACY_NOTICE_VERSION', () => {
  it('names the version instead of the hash', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'pf-notice-'));
    const file = path.join(dir, 'privacy.txt');
    await writeFile(file, 'Our notice.');
    const t = await buildTestApp({ PRIVACY_NOTICE_FILE: file, PRIVACY_NOTICE_VERSION: '2026-01' });
    try {
      expect((await t.app.inject({ method: 'GET', url: '/api/public/privacy' })).json().version).toBe('2026-01');
      const { send } = await contactOf(t);
      expect((await send({ privacyNoticeVersion: noticeVersionOf('Our notice.') })).statusCode).toBe(400);
      expect((await send({ privacyNoticeVersion: '2026-01' })).statusCode).toBe(202);
    } finally {
      await t.close();
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('without a notice', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp();
  });
  afterAll(async () => t.close());

  it('there is no notice (404 with a stable code) and the contact form asks for no acceptance', async () => {
    const info = await t.app.inject({ method: 'GET', url: '/api/public/privacy' });
    expect(info.statusCode).toBe(404);
    expect(info.json().code).toBe('PRIVACY_NOTICE_NOT_CONFIGURED');
    expect((await t.app.inject({ method: 'GET', url: '/privacy' })).json().code).toBe('PRIVACY_NOTICE_NOT_CONFIGURED');
    const { send, stored } = await contactOf(t);
    expect((await send()).statusCode).toBe(202);
    const rows = await stored();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ notice_version: null, notice_accepted_at: null });
  }, 120_000);

  it('an admin saves the notice in the site settings: it is served escaped, and senders must accept its version', async () => {
    const admin = await createUser(t.app, { role: 'admin' });
    const saved = await t.app.inject({
      method: 'PATCH',
      url: '/api/admin/settings',
      headers: admin.auth,
      payload: { privacyNotice: HOSTILE },
    });
    expect(saved.statusCode, saved.body).toBe(200);
    expect(saved.json().privacyNotice).toMatchObject({ value: HOSTILE, source: 'database' });
    const info = (await t.app.inject({ method: 'GET', url: '/api/public/privacy' })).json<{
      version: string;
      updatedAt: string;
    }>();
    expect(info.version).toBe(noticeVersionOf(HOSTILE));
    expect(info.updatedAt).toBe(t.clock.now().toISOString());
    const page = await t.app.inject({ method: 'GET', url: '/privacy' });
    expect(page.body).not.toContain('<script>');
    expect(page.body).toContain('&lt;script&gt;');
    const { send, stored } = await contactOf(t);
    expect((await send()).json().code).toBe('PRIVACY_NOTICE_NOT_ACCEPTED');
    expect((await send({ privacyNoticeVersion: info.version })).statusCode).toBe(202);
    expect((await stored())[0]?.notice_version).toBe(info.version);
    // Cleared: no notice again.
    await t.app.inject({
      method: 'PATCH',
      url: '/api/admin/settings',
      headers: admin.auth,
      payload: { privacyNotice: null },
    });
    expect((await t.app.inject({ method: 'GET', url: '/api/public/privacy' })).statusCode).toBe(404);
  }, 120_000);
});
