import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../../test/helpers/app.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../../../test/support/monitoring/webhook-receiver.js';
import { loadConfig } from '../../../config/index.js';
import { AUDIT_ACTIONS } from '../../audit/actions.js';
import { signWebhook, verifyWebhook } from './signature.js';
import { webhookBody } from './service.js';
import { WebhookSender } from './webhook.js';

const SECRET = randomBytes(32).toString('hex');

describe('the webhook signature (the reference check receivers copy)', () => {
  const body = JSON.stringify({ id: randomUUID(), rule: 'r', severity: 'critical' });
  const now = 1_780_000_000;

  it('accepts the signed body once; the same delivery again is a replay', () => {
    const seen = new Set<string>();
    const header = signWebhook(SECRET, body, now);
    expect(header).toMatch(/^t=1780000000,v1=[0-9a-f]{64}$/);
    expect(verifyWebhook({ secret: SECRET, header, body, nowSeconds: now + 3, seen })).toMatchObject({ ok: true });
    expect(verifyWebhook({ secret: SECRET, header, body, nowSeconds: now + 4, seen })).toEqual({
      ok: false,
      reason: 'replayed',
    });
  });

  it.each([
    ['a changed body', () => ({ header: signWebhook(SECRET, body, now), body: body.replace('critical', 'info') })],
    [
      'a moved timestamp',
      () => ({ header: signWebhook(SECRET, body, now).replace(`t=${now}`, `t=${now + 60}`), body }),
    ],
    ['another secret', () => ({ header: signWebhook(randomBytes(32).toString('hex'), body, now), body })],
  ])('refuses %s as bad_signature', (_name, make) => {
    const { header, body: sent } = make();
    expect(verifyWebhook({ secret: SECRET, header, body: sent, nowSeconds: now })).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
  });

  it('refuses a capture older than the tolerance, one from the future, a missing or malformed header', () => {
    const header = signWebhook(SECRET, body, now);
    expect(verifyWebhook({ secret: SECRET, header, body, nowSeconds: now + 301 })).toEqual({
      ok: false,
      reason: 'too_old',
    });
    expect(verifyWebhook({ secret: SECRET, header, body, nowSeconds: now - 301 })).toEqual({
      ok: false,
      reason: 'too_new',
    });
    expect(verifyWebhook({ secret: SECRET, header: undefined, body, nowSeconds: now })).toEqual({
      ok: false,
      reason: 'missing',
    });
    expect(verifyWebhook({ secret: SECRET, header: 'v1=abc', body, nowSeconds: now })).toEqual({
      ok: false,
      reason: 'malformed',
    });
  });

  it('the Slack format is a Slack message that still names the alert and links to it', () => {
    const slack = JSON.parse(
      webhookBody(
        {
          id: 'a1',
          rule: 'mfa-removed',
          severity: 'warning',
          summary: 'x <script>',
          count: 1,
          firstSeen: '2026-01-01T00:00:00.000Z',
          lastSeen: '2026-01-01T00:00:00.000Z',
          link: 'https://cms.example.test/admin/alerts/a1',
        },
        'slack',
      ),
    ) as { text: string; blocks: unknown[] };
    expect(slack.text).toContain('<https://cms.example.test/admin/alerts/a1|Open alert a1>');
    expect(slack.text).toContain('x &lt;script&gt;');
    expect(slack.blocks).toHaveLength(1);
  });
});

describe('configuration', () => {
  it('refuses a webhook URL without a secret, a non-http(s) URL, user info, and a short secret', () => {
    const base = { NODE_ENV: 'test', DATA_DIR: 'memory://' };
    expect(() => loadConfig({ ...base, ALERT_WEBHOOK_URL: 'https://hooks.example.test/x' })).toThrow(
      /ALERT_WEBHOOK_SECRET/,
    );
    expect(() =>
      loadConfig({ ...base, ALERT_WEBHOOK_URL: 'file:///etc/passwd', ALERT_WEBHOOK_SECRET: SECRET }),
    ).toThrow(/ALERT_WEBHOOK_URL/);
    expect(() =>
      loadConfig({ ...base, ALERT_WEBHOOK_URL: 'https://u:p@hooks.example.test/', ALERT_WEBHOOK_SECRET: SECRET }),
    ).toThrow(/user info/);
    expect(() =>
      loadConfig({ ...base, ALERT_WEBHOOK_URL: 'https://hooks.example.test/', ALERT_WEBHOOK_SECRET: 'short' }),
    ).toThrow(/ALERT_WEBHOOK_SECRET/);
    expect(() => loadConfig({ ...base, ALERT_EMAILS: 'ops@example.test,not-an-address' })).toThrow(/ALERT_EMAILS/);
    expect(() => loadConfig({ ...base, MONITORING_RULES_FILE: '/nonexistent/rules.json' })).toThrow(
      /MONITORING_RULES_FILE.*cannot read/,
    );
  });
});

describe('delivery to a real receiver: signed, replay-proof, retried from the durable queue', () => {
  let t: TestApp;
  let hook: WebhookReceiver;

  beforeAll(async () => {
    let now = () => Date.now() / 1000;
    hook = await startWebhookReceiver({ secret: SECRET, nowSeconds: () => now() });
    t = await buildTestApp({
      MONITORING_POLL_INTERVAL: '0',
      ALERT_WEBHOOK_URL: hook.url,
      ALERT_WEBHOOK_SECRET: SECRET,
    });
    now = () => t.clock.now().getTime() / 1000;
  });
  afterAll(async () => {
    await t.close();
    await hook.close();
  });

  async function raise(): Promise<string> {
    await t.app.audit.record({
      action: AUDIT_ACTIONS.refreshReused,
      actor: randomUUID(),
      outcome: 'failure',
      metadata: {},
    });
    await t.app.audit.flush();
    await t.app.detection.consumer.runOnce();
    const rows = await t.deps.db.query<{ id: string }>(`select id from alerts order by id desc limit 1`);
    return rows[0]?.id as string;
  }

  it('the receiver accepts the delivery, and rejects it replayed (409) or tampered with (401)', async () => {
    const id = await raise();
    expect(await t.app.detection.webhook?.runOnce()).toEqual({ sent: 1, retried: 0, dead: 0 });
    const [first] = hook.received;
    expect(first?.status).toBe(204);
    expect(JSON.parse(first?.body ?? '{}')).toMatchObject({ id, rule: 'refresh-token-reuse' });

    const post = (headers: Record<string, string>, body: string) =>
      fetch(hook.url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    const signature = String(first?.headers['x-signature']);
    const replay = await post({ 'x-signature': signature }, first?.body ?? '');
    expect(replay.status).toBe(409);
    const tampered = await post(
      { 'x-signature': signature },
      (first?.body ?? '').replace('refresh-token-reuse', 'nothing-to-see'),
    );
    expect(tampered.status).toBe(401);
    // A capture replayed after the tolerance window fails on t even with a fresh id store.
    t.clock.advance(10 * 60_000);
    const late = verifyWebhook({
      secret: SECRET,
      header: signature,
      body: first?.body ?? '',
      nowSeconds: t.clock.now().getTime() / 1000,
    });
    expect(late).toEqual({ ok: false, reason: 'too_old' });
  });

  it('a receiver that is down gets the same alert again after a backoff, from a restarted sender, once', async () => {
    hook.failNext(1, 503);
    const id = await raise();
    const before = hook.received.length;
    expect(await t.app.detection.webhook?.runOnce()).toEqual({ sent: 0, retried: 1, dead: 0 });
    // Not due yet: nothing is sent.
    expect(await t.app.detection.webhook?.runOnce()).toEqual({ sent: 0, retried: 0, dead: 0 });
    const [row] = await t.deps.db.query<{ status: string; attempts: number; last_error: string }>(
      `select status, attempts, last_error from alert_webhook_deliveries where alert_id = $1`,
      [id],
    );
    expect(row).toMatchObject({ status: 'pending', attempts: 1, last_error: 'HTTP 503' });

    // A restart: a new sender on the same table, after the backoff.
    t.clock.advance(31_000);
    const restarted = new WebhookSender({
      repo: t.app.alerts.repo,
      clock: t.clock,
      url: hook.url,
      secret: SECRET,
      maxAttempts: 5,
    });
    expect(await restarted.runOnce()).toEqual({ sent: 1, retried: 0, dead: 0 });
    const attempts = hook.received.slice(before);
    expect(attempts.map((a) => a.status)).toEqual([503, 204]);
    expect(attempts[0]?.body).toBe(attempts[1]?.body);
    expect(await restarted.runOnce()).toEqual({ sent: 0, retried: 0, dead: 0 });
  });

  it('gives up after the last attempt', async () => {
    const id = await raise();
    const sender = new WebhookSender({
      repo: t.app.alerts.repo,
      clock: t.clock,
      // Nothing listens on port 9 of the loopback: every attempt fails.
      url: 'http://127.0.0.1:9/alerts',
      secret: SECRET,
      maxAttempts: 2,
      baseBackoffMs: 1_000,
    });
    expect((await sender.runOnce()).retried).toBeGreaterThanOrEqual(1);
    t.clock.advance(2_000);
    expect((await sender.runOnce()).dead).toBeGreaterThanOrEqual(1);
    const [row] = await t.deps.db.query<{ status: string }>(
      `select status from alert_webhook_deliveries where alert_id = $1`,
      [id],
    );
    expect(row?.status).toBe('dead');
  });

  it('never follows a redirect (a 302 to elsewhere is a failed attempt, and elsewhere hears nothing)', async () => {
    const redirector = http.createServer((_req, res) => {
      res.writeHead(302, { location: hook.url });
      res.end();
    });
    await new Promise<void>((resolve) => redirector.listen(0, '127.0.0.1', resolve));
    try {
      const id = await raise();
      const before = hook.received.length;
      const sender = new WebhookSender({
        repo: t.app.alerts.repo,
        clock: t.clock,
        url: `http://127.0.0.1:${(redirector.address() as AddressInfo).port}/`,
        secret: SECRET,
        maxAttempts: 5,
      });
      await sender.runOnce();
      const [row] = await t.deps.db.query<{ status: string; last_error: string }>(
        `select status, last_error from alert_webhook_deliveries where alert_id = $1`,
        [id],
      );
      expect(row).toMatchObject({ status: 'pending', last_error: 'HTTP 302' });
      expect(hook.received.length).toBe(before);
    } finally {
      redirector.closeAllConnections();
      await new Promise<void>((resolve) => redirector.close(() => resolve()));
    }
  });
});
