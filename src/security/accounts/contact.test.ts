/**
 * The public contact form, attacked: header injection through every field, oversized and
 * malformed bodies, bots filling the honeypot, drafts and private portfolios, flooding one client
 * and one owner, and an SMTP outage during a visit. Mail is read from a real SMTP server.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.js';
import { createPortfolio, createUser, type TestUser } from '../../../test/helpers/factories.js';
import { startSmtpServer, type TestSmtpServer } from '../../../test/support/mail/smtp-server.js';

let smtp: TestSmtpServer;
let t: TestApp;
let owner: TestUser;
let slug: string;
let portfolioId: string;

const url = (s = slug) => `/api/public/portfolios/${s}/contact`;
const valid = { name: 'Grace Hopper', email: 'grace@example.test', message: 'Hello!\nWould you speak at our meetup?' };

async function auditEvents(app: TestApp, action: string) {
  return app.deps.db.query<{ outcome: string; target_id: string; metadata: Record<string, unknown> }>(
    `select outcome, target_id, metadata from audit_inbox where action = $1
     union all select outcome, target_id, metadata from audit_events where action = $1`,
    [action],
  );
}

beforeAll(async () => {
  smtp = await startSmtpServer();
  t = await buildTestApp({ SMTP_URL: smtp.url, MAIL_POLL_INTERVAL: '0', PUBLIC_URL: 'https://portfolio.example' });
  owner = await createUser(t.app, { name: 'Ada Owner' });
  const p = await createPortfolio(t.app, owner, { title: 'Ada <b>Works</b>', visibility: 'public', published: true });
  slug = p.slug;
  portfolioId = p.id;
});
afterAll(async () => {
  await t.close();
  await smtp.close();
});
beforeEach(async () => {
  await t.app.mail.runOnce();
  smtp.received.length = 0;
});

describe('contact form', () => {
  it('mails the owner, with the sender as Reply-To, and logs the event', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: url(),
      payload: { ...valid, name: 'Grace <script>x</script>' },
    });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ status: 'accepted', detail: 'Thank you, your message is on its way.' });
    expect(await t.app.mail.runOnce()).toMatchObject({ sent: 1 });
    const [got] = await smtp.waitFor(1);
    expect(got?.envelope.to).toEqual([owner.email]);
    expect(got?.parsed.replyTo?.value[0]?.address).toBe('grace@example.test');
    expect(got?.parsed.subject).toBe('New message from Grace <script>x</script> via "Ada <b>Works</b>"');
    expect(got?.parsed.text).toContain('Would you speak at our meetup?');
    expect(got?.parsed.html).toContain('Grace &lt;script&gt;x&lt;/script&gt;');
    expect(got?.parsed.html).not.toContain('<script>');
    expect(got?.parsed.html).toContain('Hello!<br>Would you speak');
    const events = await auditEvents(t, 'contact.message');
    expect(events.some((e) => e.outcome === 'success' && e.target_id === portfolioId)).toBe(true);
    expect(JSON.stringify(events)).not.toContain('grace@example.test');
  });

  it('answers a bot that fills the honeypot exactly like a person, and sends nothing', async () => {
    const human = await t.app.inject({ method: 'POST', url: url(), payload: valid });
    const bot = await t.app.inject({
      method: 'POST',
      url: url(),
      payload: { ...valid, website: 'http://spam.example' },
    });
    expect(bot.statusCode).toBe(human.statusCode);
    expect(bot.body).toBe(human.body);
    expect(bot.headers['content-type']).toBe(human.headers['content-type']);
    expect(await t.app.mail.runOnce()).toMatchObject({ sent: 1 });
    const events = await auditEvents(t, 'contact.message');
    expect(events.some((e) => e.outcome === 'denied' && e.metadata['reason'] === 'honeypot')).toBe(true);
  });

  it('cannot inject headers or recipients through name, email or message', async () => {
    const attempts = [
      { ...valid, name: 'Eve\r\nBcc: victim@evil.test' },
      { ...valid, name: 'Eve\nBcc: victim@evil.test' },
      { ...valid, name: 'Eve\u2028Bcc: victim@evil.test' },
      { ...valid, email: 'eve@evil.test\r\nBcc: victim@evil.test' },
      { ...valid, email: 'eve@evil.test, victim@evil.test' },
      { ...valid, email: 'Eve <eve@evil.test>' },
      { ...valid, email: 'eve@evil.test%0d%0aBcc:victim@evil.test' },
      { ...valid, email: 'not-an-email' },
    ];
    for (const payload of attempts) {
      const res = await t.app.inject({ method: 'POST', url: url(), payload });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().code).toBe('VALIDATION_FAILED');
      expect(res.headers['content-type']).toContain('application/problem+json');
    }
    // Line breaks are allowed in the message (it is body text) and stay there.
    const res = await t.app.inject({
      method: 'POST',
      url: url(),
      payload: { ...valid, message: 'Hi\r\nBcc: victim@evil.test\r\n\r\n.\r\nMAIL FROM:<x@evil.test>' },
    });
    expect(res.statusCode).toBe(202);
    await t.app.mail.runOnce();
    const got = await smtp.waitFor(1);
    expect(got).toHaveLength(1);
    expect(got[0]?.envelope.to).toEqual([owner.email]);
    expect(got[0]?.parsed.headers.has('bcc')).toBe(false);
    expect(got[0]?.parsed.text).toContain('Bcc: victim@evil.test');
  });

  it('enforces sizes, types and known fields with problem+json', async () => {
    const bad: unknown[] = [
      { ...valid, message: 'x'.repeat(5001) },
      { ...valid, name: 'x'.repeat(101) },
      { ...valid, email: `${'a'.repeat(250)}@example.test` },
      { ...valid, website: 'x'.repeat(201) },
      { ...valid, name: '   ' },
      { ...valid, message: ' \n\t ' },
      { ...valid, name: 42 },
      { ...valid, extra: 'field' },
      { name: 'only a name' },
      [],
    ];
    for (const payload of bad) {
      const res = await t.app.inject({ method: 'POST', url: url(), payload: payload as object });
      expect(res.statusCode, JSON.stringify(payload).slice(0, 80)).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
    }
    const form = await t.app.inject({
      method: 'POST',
      url: url(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'name=a',
    });
    expect(form.statusCode).toBe(415);
    expect(await t.app.mail.runOnce()).toMatchObject({ sent: 0 });
  });

  it('has no form for drafts, private portfolios, unknown or malformed slugs (one 404 for all)', async () => {
    const draft = await createPortfolio(t.app, owner, { visibility: 'public', published: false });
    const hidden = await createPortfolio(t.app, owner, { visibility: 'private', published: true });
    const bodies = new Set<string>();
    for (const s of [draft.slug, hidden.slug, 'no-such-portfolio', 'x', '..%2F..', 'A'.repeat(150)]) {
      const res = await t.app.inject({ method: 'POST', url: url(s), payload: valid });
      expect(res.statusCode, s).toBe(404);
      const { code, detail } = res.json();
      bodies.add(JSON.stringify({ code, detail }));
    }
    expect(bodies.size).toBe(1);
    expect(await t.app.mail.runOnce()).toMatchObject({ sent: 0 });
  });

  it('accepts the message while the SMTP server is down and delivers it once it is back', async () => {
    const port = smtp.port;
    await smtp.close();
    const res = await t.app.inject({
      method: 'POST',
      url: url(),
      payload: { ...valid, message: 'sent during the outage' },
    });
    expect(res.statusCode).toBe(202);
    expect(await t.app.mail.runOnce()).toMatchObject({ sent: 0, retried: 1 });
    smtp = await startSmtpServer(port);
    t.clock.advance(30_000);
    expect(await t.app.mail.runOnce()).toMatchObject({ sent: 1 });
    expect((await smtp.waitFor(1))[0]?.parsed.text).toContain('sent during the outage');
  });
});

describe('contact form flooding', () => {
  it('caps the messages one owner receives per day, across all senders', async () => {
    const capped = await buildTestApp({ SMTP_URL: smtp.url, MAIL_POLL_INTERVAL: '0', CONTACT_MAX_PER_DAY: '2' });
    try {
      capped.clock.set(new Date('2026-04-01T22:00:00Z'));
      const o = await createUser(capped.app);
      const p = await createPortfolio(capped.app, o, { visibility: 'public', published: true });
      const send = () => capped.app.inject({ method: 'POST', url: url(p.slug), payload: valid });
      expect((await send()).statusCode).toBe(202);
      expect((await send()).statusCode).toBe(202);
      const third = await send();
      expect(third.statusCode).toBe(429);
      expect(third.json().code).toBe('CONTACT_LIMIT_REACHED');
      expect(third.headers['retry-after']).toBe(String(2 * 3600));
      // Bots filling the honeypot do not use up the owner's quota (and are never told).
      const bot = await capped.app.inject({ method: 'POST', url: url(p.slug), payload: { ...valid, website: 'x' } });
      expect(bot.statusCode).toBe(202);
      capped.clock.advance(2 * 3600_000);
      expect((await send()).statusCode).toBe(202);
    } finally {
      await capped.close();
    }
  });

  it('rate-limits one client through the shield policy `contact`', async () => {
    const limited = await buildTestApp({ SMTP_URL: smtp.url, MAIL_POLL_INTERVAL: '0', RATE_LIMIT_ENABLED: 'true' });
    try {
      const o = await createUser(limited.app);
      const p = await createPortfolio(limited.app, o, { visibility: 'public', published: true });
      const codes: number[] = [];
      for (let i = 0; i < 4; i++) {
        const res = await limited.app.inject({ method: 'POST', url: url(p.slug), payload: valid });
        codes.push(res.statusCode);
        if (res.statusCode === 429) {
          expect(res.json().code).toBe('RATE_LIMITED');
          expect(res.headers['retry-after']).toBeDefined();
        }
      }
      expect(codes).toEqual([202, 202, 429, 429]);
    } finally {
      await limited.close();
    }
  });
});
