import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { asAttacker } from '../../../../test/helpers/audit.js';
import { buildTestApp, type TestApp } from '../../../../test/helpers/app.js';
import { createUser, strongPassword, uniqueEmail } from '../../../../test/helpers/factories.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../../../test/support/monitoring/webhook-receiver.js';
import { AUDIT_ACTIONS } from '../../audit/actions.js';
import { DetectionConsumer } from '../detection/consumer.js';

const SECRET = randomBytes(32).toString('hex');
const MAILS = ['oncall@example.test', 'security@example.test'];

async function alertRows(t: TestApp, rule?: string) {
  return t.deps.db.query<{ id: string; rule: string; count: number; dedup_key: string; state: string }>(
    `select id, rule, count, dedup_key, state from alerts ${rule ? 'where rule = $1' : ''} order by id`,
    rule ? [rule] : [],
  );
}

async function alertMails(t: TestApp) {
  return t.deps.db.query<{ to_address: string; subject: string; text_body: string }>(
    `select to_address, subject, text_body from mail_outbox where template = 'operator_alert' order by created_at, to_address`,
  );
}

/** Wrong passwords through the real login route, one per account, from the given client address. */
async function failLogins(t: TestApp, emails: readonly string[], ipOf: (i: number) => string): Promise<void> {
  for (const [i, email] of emails.entries()) {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      remoteAddress: ipOf(i),
      payload: { email, password: 'Wrong-Guess-From-A-Leak-1' },
    });
    expect(res.statusCode).toBe(401);
  }
  await t.app.audit.flush();
}

/** The stream consumer then the webhook sender (the scheduled checks are tested below). */
async function detect(t: TestApp): Promise<void> {
  await t.app.detection.consumer.runOnce();
  await t.app.detection.webhook?.runOnce();
}

describe('a credential-stuffing run: exactly one alert per dedup window, by mail and by webhook', () => {
  let t: TestApp;
  let hook: WebhookReceiver;
  const emails: string[] = [];

  beforeAll(async () => {
    let now = () => Date.now() / 1000;
    hook = await startWebhookReceiver({ secret: SECRET, nowSeconds: () => now() });
    t = await buildTestApp({
      MONITORING_POLL_INTERVAL: '0',
      ALERT_EMAILS: MAILS.join(','),
      ALERT_WEBHOOK_URL: hook.url,
      ALERT_WEBHOOK_SECRET: SECRET,
      PUBLIC_URL: 'https://cms.example.test',
    });
    now = () => t.clock.now().getTime() / 1000;
    // 200 real accounts: one through the service, the others as copies of its row (argon2 and the
    // password policy 200 times would only slow the test down; the login path is the same).
    const first = uniqueEmail('victim');
    const made = await t.app.users.create({ email: first, password: strongPassword(), name: 'Victim', role: 'user' });
    emails.push(first);
    const [row] = await t.deps.db.query<{ password_hash: string }>(`select password_hash from users where id = $1`, [
      made.id,
    ]);
    for (let i = 1; i < 200; i++) {
      const email = uniqueEmail('victim');
      await t.deps.db.query(`insert into users (id, email, name, password_hash) values ($1, $2, 'Victim', $3)`, [
        randomUUID(),
        email,
        row?.password_hash,
      ]);
      emails.push(email);
    }
  });
  afterAll(async () => {
    await t.close();
    await hook.close();
  });

  it('50 addresses over 200 accounts raise one credential-stuffing alert, mailed to each ALERT_EMAILS and posted once', async () => {
    // 50 addresses of one /24, 4 accounts each: no single address reaches its own threshold.
    await failLogins(t, emails, (i) => `203.0.113.${(i % 50) + 1}`);
    await detect(t);

    const all = await alertRows(t);
    expect(all.map((a) => [a.rule, a.dedup_key])).toEqual([['credential-stuffing-network', '203.0.113.0/24']]);
    const alert = all[0];
    expect(alert?.count).toBe(200);

    const mails = await alertMails(t);
    expect(mails.map((m) => m.to_address).sort()).toEqual([...MAILS].sort());
    expect(mails[0]?.subject).toContain('credential-stuffing-network');
    expect(mails[0]?.text_body).toContain(`https://cms.example.test/admin/alerts/${alert?.id}`);

    const accepted = hook.accepted();
    expect(accepted).toHaveLength(1);
    expect(accepted[0]).toMatchObject({
      id: alert?.id,
      rule: 'credential-stuffing-network',
      severity: 'critical',
      // As it stood when first raised (the threshold reached); the stored alert keeps counting.
      count: 20,
      link: `https://cms.example.test/admin/alerts/${alert?.id}`,
    });
    expect(Object.keys(accepted[0] ?? {}).sort()).toEqual(
      ['count', 'firstSeen', 'id', 'lastSeen', 'link', 'rule', 'severity', 'summary'].sort(),
    );
    // Never an email or a password in what goes out.
    for (const e of emails) expect(hook.received[0]?.body).not.toContain(e);
    expect(hook.received[0]?.body).not.toContain('Wrong-Guess');
  });

  it('the run going on inside the dedup window is counted on the same alert, not delivered again', async () => {
    t.clock.advance(30 * 60_000);
    await failLogins(t, emails.slice(0, 40), (i) => `203.0.113.${(i % 50) + 1}`);
    await detect(t);
    const all = await alertRows(t);
    expect(all.map((a) => a.rule)).toEqual(['credential-stuffing-network']);
    expect(all[0]?.count).toBeGreaterThan(200);
    expect(await alertMails(t)).toHaveLength(MAILS.length);
    expect(hook.accepted()).toHaveLength(1);
  });

  it('after the dedup window a new run is a new alert, delivered once more', async () => {
    t.clock.advance(31 * 60_000);
    await failLogins(t, emails.slice(0, 40), (i) => `203.0.113.${(i % 50) + 1}`);
    await detect(t);
    const all = await alertRows(t, 'credential-stuffing-network');
    expect(all).toHaveLength(2);
    expect(await alertRows(t)).toHaveLength(2);
    expect(await alertMails(t)).toHaveLength(2 * MAILS.length);
    expect(hook.accepted().map((a) => a['id'])).toEqual(all.map((a) => a.id));
  });
});

describe('the consumer across a crash and a restart', () => {
  let t: TestApp;
  const consumers: DetectionConsumer[] = [];

  beforeAll(async () => {
    t = await buildTestApp({ MONITORING_POLL_INTERVAL: '0' });
  });
  afterEach(async () => {
    for (const c of consumers.splice(0)) await c.stop();
  });
  afterAll(async () => {
    await t.close();
  });

  /** A consumer as a (re)started node would make it: fresh memory, the same database and KV. */
  function node(beforeCommit?: () => Promise<void>): DetectionConsumer {
    const c = new DetectionConsumer({
      db: t.deps.db,
      kv: t.deps.kv,
      clock: t.clock,
      rules: t.app.detection.rules,
      alerts: t.app.alerts,
      checks: { config: t.config, audit: t.app.audit },
      batchSize: 7,
      ...(beforeCommit ? { beforeCommit } : {}),
    });
    consumers.push(c);
    return c;
  }

  async function failures(n: number, network: string): Promise<void> {
    for (let i = 0; i < n; i++) {
      await t.app.audit.record({
        action: AUDIT_ACTIONS.loginFailed,
        actor: 'anonymous',
        outcome: 'failure',
        ip: `${network}.${i + 1}`,
        target: { type: 'user', id: randomUUID() },
        metadata: { reason: 'bad_password' },
      });
    }
    await t.app.audit.flush();
  }

  const cursor = async () => t.app.alerts.repo.cursor();

  it('a crash before the commit loses nothing and doubles nothing: the restarted node raises each alert once', async () => {
    const users = [randomUUID(), randomUUID(), randomUUID()];
    for (const u of users) {
      await t.app.audit.record({ action: AUDIT_ACTIONS.refreshReused, actor: u, outcome: 'failure', metadata: {} });
    }
    await t.app.audit.flush();
    const before = await cursor();

    const crashing = node(async () => {
      throw new Error('power cut');
    });
    await expect(crashing.runOnce()).rejects.toThrow('power cut');
    expect(await alertRows(t, 'refresh-token-reuse')).toHaveLength(0);
    expect(await cursor()).toBe(before);
    await crashing.stop();

    const restarted = node();
    const pass = await restarted.runOnce();
    expect(pass.leader).toBe(true);
    expect((await alertRows(t, 'refresh-token-reuse')).map((a) => a.dedup_key).sort()).toEqual([...users].sort());
    await restarted.stop();

    const again = node();
    await again.runOnce();
    expect(await alertRows(t, 'refresh-token-reuse')).toHaveLength(3);
    expect(await cursor()).toBeGreaterThan(before);
  });

  it('a restart mid-window rebuilds the window: the attack that straddles it still raises, once', async () => {
    const first = node();
    await failures(15, '198.18.7'); // below the network threshold of 20
    await first.runOnce();
    expect(await alertRows(t, 'credential-stuffing-network')).toHaveLength(0);
    await first.stop();

    const second = node(); // fresh memory: replays the last window without raising
    await failures(5, '198.18.7');
    await second.runOnce();
    const raised = await alertRows(t, 'credential-stuffing-network');
    expect(raised.map((a) => a.dedup_key)).toEqual(['198.18.7.0/24']);
    await second.stop();

    const third = node(); // replays all 20 (raising nothing), then sees 3 more: a repeat, not a new alert
    await failures(3, '198.18.7');
    await third.runOnce();
    expect(await alertRows(t, 'credential-stuffing-network')).toHaveLength(1);
  });

  it('only the lease holder reads: a second node does nothing while the first leads', async () => {
    const leader = node();
    const other = node();
    expect((await leader.runOnce()).leader).toBe(true);
    expect((await other.runOnce()).leader).toBe(false);
  });
});

describe('GET /api/admin/alerts and POST /api/admin/alerts/:id/ack', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await buildTestApp({ MONITORING_POLL_INTERVAL: '0' });
    await t.app.audit.record({
      action: AUDIT_ACTIONS.refreshReused,
      actor: randomUUID(),
      outcome: 'failure',
      metadata: {},
    });
    await t.app.audit.record({
      action: AUDIT_ACTIONS.mediaInfected,
      actor: randomUUID(),
      outcome: 'failure',
      metadata: {},
    });
    await t.app.audit.flush();
    await t.app.detection.tick();
  });
  afterAll(async () => {
    await t.close();
  });

  it('lists alerts newest first, filtered by state and severity, in pages', async () => {
    const admin = await createUser(t.app, { role: 'admin' });
    const all = await t.app.inject({ method: 'GET', url: '/api/admin/alerts', headers: admin.auth });
    expect(all.statusCode).toBe(200);
    const items = all.json<{ items: { rule: string; severity: string; state: string }[] }>().items;
    expect(items.map((a) => a.rule).sort()).toEqual(['refresh-token-reuse', 'upload-infected']);

    const critical = await t.app.inject({
      method: 'GET',
      url: '/api/admin/alerts?severity=critical&state=open',
      headers: admin.auth,
    });
    expect(critical.json<{ items: { rule: string }[] }>().items.map((a) => a.rule)).toEqual(['refresh-token-reuse']);

    const page1 = await t.app.inject({ method: 'GET', url: '/api/admin/alerts?limit=1', headers: admin.auth });
    const p1 = page1.json<{ items: { id: string }[]; nextCursor: string }>();
    expect(p1.items).toHaveLength(1);
    const page2 = await t.app.inject({
      method: 'GET',
      url: `/api/admin/alerts?limit=1&cursor=${p1.nextCursor}`,
      headers: admin.auth,
    });
    const p2 = page2.json<{ items: { id: string }[]; nextCursor: string | null }>();
    expect(p2.items[0]?.id).not.toBe(p1.items[0]?.id);
    expect(p2.nextCursor).toBeNull();

    const bad = await t.app.inject({
      method: 'GET',
      url: '/api/admin/alerts?severity=catastrophic',
      headers: admin.auth,
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['content-type']).toContain('application/problem+json');
  });

  it('an admin acknowledges an alert (audited); again is harmless; an unknown id is 404 ALERT_NOT_FOUND', async () => {
    const admin = await createUser(t.app, { role: 'admin' });
    const [alert] = await alertRows(t, 'upload-infected');
    const ack = await t.app.inject({ method: 'POST', url: `/api/admin/alerts/${alert?.id}/ack`, headers: admin.auth });
    expect(ack.statusCode).toBe(200);
    expect(ack.json()).toMatchObject({ id: alert?.id, state: 'acknowledged', ackedBy: admin.id });
    const again = await t.app.inject({
      method: 'POST',
      url: `/api/admin/alerts/${alert?.id}/ack`,
      headers: admin.auth,
    });
    expect(again.json()).toMatchObject({
      state: 'acknowledged',
      ackedBy: admin.id,
      ackedAt: ack.json<{ ackedAt: string }>().ackedAt,
    });

    const open = await t.app.inject({
      method: 'GET',
      url: '/api/admin/alerts?state=acknowledged',
      headers: admin.auth,
    });
    expect(open.json<{ items: { id: string }[] }>().items.map((a) => a.id)).toEqual([alert?.id]);

    await t.app.audit.flush();
    const events = await t.deps.db.query<{ actor: string }>(`select actor from audit_events where action = $1`, [
      AUDIT_ACTIONS.alertAcknowledged,
    ]);
    expect(events.map((e) => e.actor)).toContain(admin.id);

    const missing = await t.app.inject({
      method: 'POST',
      url: `/api/admin/alerts/${randomUUID()}/ack`,
      headers: admin.auth,
    });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ code: 'ALERT_NOT_FOUND' });
  });

  it('GET /api/admin/alerts/:id answers the alert its link names; unknown is 404 ALERT_NOT_FOUND, a bad id 400', async () => {
    const admin = await createUser(t.app, { role: 'admin' });
    const [alert] = await alertRows(t, 'refresh-token-reuse');
    const listed = (await t.app.inject({ method: 'GET', url: '/api/admin/alerts', headers: admin.auth })).json<{
      items: { id: string }[];
    }>().items;
    const one = await t.app.inject({ method: 'GET', url: `/api/admin/alerts/${alert?.id}`, headers: admin.auth });
    expect(one.statusCode).toBe(200);
    expect(one.json()).toEqual(listed.find((a) => a.id === alert?.id));
    expect(one.json<{ link: string }>().link).toMatch(new RegExp(`/admin/alerts/${alert?.id}$`));
    // The dedup key (attacker-chosen data: addresses, emails) is not part of the view.
    expect(one.json()).not.toHaveProperty('dedupKey');

    const missing = await t.app.inject({
      method: 'GET',
      url: `/api/admin/alerts/${randomUUID()}`,
      headers: admin.auth,
    });
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['content-type']).toContain('application/problem+json');
    expect(missing.json()).toMatchObject({ code: 'ALERT_NOT_FOUND' });
    const bad = await t.app.inject({ method: 'GET', url: `/api/admin/alerts/1%27%20or%201=1`, headers: admin.auth });
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['content-type']).toContain('application/problem+json');
  });

  it('needs security:manage: an editor gets 403 on both, an anonymous caller 401, and nothing changes', async () => {
    const editor = await createUser(t.app, { role: 'editor' });
    const [alert] = await alertRows(t, 'refresh-token-reuse');
    const list = await t.app.inject({ method: 'GET', url: '/api/admin/alerts', headers: editor.auth });
    expect(list.statusCode).toBe(403);
    const one = await t.app.inject({ method: 'GET', url: `/api/admin/alerts/${alert?.id}`, headers: editor.auth });
    expect(one.statusCode).toBe(403);
    expect(one.json()).toMatchObject({ code: 'FORBIDDEN' });
    expect((await t.app.inject({ method: 'GET', url: `/api/admin/alerts/${alert?.id}` })).statusCode).toBe(401);
    const ack = await t.app.inject({ method: 'POST', url: `/api/admin/alerts/${alert?.id}/ack`, headers: editor.auth });
    expect(ack.statusCode).toBe(403);
    expect(ack.headers['content-type']).toContain('application/problem+json');
    const anonymous = await t.app.inject({ method: 'POST', url: `/api/admin/alerts/${alert?.id}/ack` });
    expect(anonymous.statusCode).toBe(401);
    expect((await alertRows(t, 'refresh-token-reuse'))[0]?.state).toBe('open');
  });
});

describe('rules that need the database or a schedule', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await buildTestApp({
      MONITORING_POLL_INTERVAL: '0',
      SECURITY_TXT_EXPIRES: new Date(Date.now() + 10 * 86_400_000).toISOString().slice(0, 10),
    });
  });
  afterAll(async () => {
    await t.close();
  });

  async function adminAction(actor: string, ip: string): Promise<void> {
    await t.app.audit.record({
      action: AUDIT_ACTIONS.settingsUpdated,
      actor,
      outcome: 'success',
      ip,
      metadata: { changes: {} },
    });
    await t.app.audit.flush();
    await t.app.detection.consumer.runOnce();
  }

  it('admin-new-network: the first network is the baseline, another address of it is quiet, a new network raises', async () => {
    const admin = randomUUID();
    await adminAction(admin, '192.0.2.10');
    await adminAction(admin, '192.0.2.77');
    expect(await alertRows(t, 'admin-new-network')).toHaveLength(0);
    await adminAction(admin, '198.51.100.200');
    const raised = await alertRows(t, 'admin-new-network');
    expect(raised.map((a) => a.dedup_key)).toEqual([`${admin}|198.51.100.0/24`]);
    // Not an admin action (a sign-in) from yet another network: quiet.
    await t.app.audit.record({
      action: AUDIT_ACTIONS.loginSucceeded,
      actor: admin,
      outcome: 'success',
      ip: '203.0.113.9',
      metadata: {},
    });
    await t.app.audit.flush();
    await t.app.detection.consumer.runOnce();
    expect(await alertRows(t, 'admin-new-network')).toHaveLength(1);
  });

  it('audit-chain-broken: quiet while the chain verifies, raised once it is tampered with', async () => {
    await t.app.audit.record({ action: 'test.event', actor: 'system', outcome: 'success', metadata: { n: 1 } });
    await t.app.audit.flush();
    await t.app.detection.consumer.runChecks({ force: true });
    expect(await alertRows(t, 'audit-chain-broken')).toHaveLength(0);
    await asAttacker(t.deps.db, async (q) => {
      await q.query(`update audit_events set metadata = '{"n":2}' where action = 'test.event'`);
    });
    await t.app.detection.consumer.runChecks({ force: true });
    expect(await alertRows(t, 'audit-chain-broken')).toHaveLength(1);
    await t.app.detection.consumer.runChecks({ force: true });
    expect(await alertRows(t, 'audit-chain-broken')).toHaveLength(1);
  });

  it('security-txt-expiring: raised with 10 days left (threshold 30)', async () => {
    await t.app.detection.consumer.runChecks({ force: true });
    expect(await alertRows(t, 'security-txt-expiring')).toHaveLength(1);
  });

  it('backup-rpo: raised while there is no verified backup', async () => {
    await t.app.detection.consumer.runChecks({ force: true });
    const rows = await alertRows(t, 'backup-rpo');
    expect(rows.map((r) => r.dedup_key)).toEqual(['none']);
  });
});

describe('checks that stay quiet', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({
      MONITORING_POLL_INTERVAL: '0',
      SECURITY_TXT_EXPIRES: new Date(Date.now() + 60 * 86_400_000).toISOString().slice(0, 10),
    });
  });
  afterAll(async () => {
    await t.close();
  });

  it('security-txt-expiring: quiet with 60 days left; the schedule does not run a check before its interval', async () => {
    expect(await t.app.detection.consumer.runChecks()).toBe(0);
    await t.app.detection.consumer.runChecks({ force: true });
    expect(await alertRows(t, 'security-txt-expiring')).toHaveLength(0);
    expect(await alertRows(t, 'audit-chain-broken')).toHaveLength(0);
  });
});
