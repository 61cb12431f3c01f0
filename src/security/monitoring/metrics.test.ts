import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPortfolio, createUser } from '../../../test/helpers/factories.js';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.js';
import { scrape, valueOf, type Sample } from '../../../test/support/monitoring/scrape.js';

let t: TestApp;

beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(async () => {
  await t.close();
});

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;
const EMAIL = /[^\s@]+@[^\s@]+\.[a-z]{2,}/i;

describe('/metrics for an SRE', () => {
  it("has process metrics and the stores' health", async () => {
    const s = await scrape(t.app);
    expect(s.some((x) => x.name === 'process_cpu_user_seconds_total')).toBe(true);
    expect(s.some((x) => x.name === 'nodejs_eventloop_lag_seconds')).toBe(true);
    expect(valueOf(s, 'db_up', { kind: t.deps.db.kind })).toBe(1);
    expect(valueOf(s, 'kv_up', { kind: t.deps.kv.kind })).toBe(1);
    if (t.deps.db.kind === 'postgres') {
      expect(s.some((x) => x.name === 'db_pool_connections' && x.labels.state === 'total')).toBe(true);
    }
    expect(valueOf(s, 'backup_verified_present')).toBe(0);
    expect(valueOf(s, 'backup_rpo_hours')).toBe(t.config.BACKUP_RPO_HOURS);
    expect(s.some((x) => x.name === 'audit_sealing_lag_seconds')).toBe(true);
  });

  it('times requests by route template and status class, never by raw URL', async () => {
    const owner = await createUser(t.app, { role: 'admin' });
    const portfolio = await createPortfolio(t.app, owner);
    const id = portfolio.id;
    const before = await scrape(t.app);
    const series = { method: 'GET', route: '/api/portfolios/:id', status_class: '2xx' };
    const ok = await t.app.inject({ method: 'GET', url: `/api/portfolios/${id}`, headers: owner.auth });
    expect(ok.statusCode).toBe(200);
    const missing = await t.app.inject({ method: 'GET', url: `/api/portfolios/${randomUUID()}`, headers: owner.auth });
    expect(missing.statusCode).toBe(404);
    const after = await scrape(t.app);
    expect(valueOf(after, 'http_request_duration_seconds_count', series)).toBe(
      valueOf(before, 'http_request_duration_seconds_count', series) + 1,
    );
    expect(
      valueOf(after, 'http_request_duration_seconds_count', { ...series, status_class: '4xx' }) -
        valueOf(before, 'http_request_duration_seconds_count', { ...series, status_class: '4xx' }),
    ).toBe(1);
  });

  it('counts sign-ins by outcome from the audit events', async () => {
    const u = await createUser(t.app);
    const before = await scrape(t.app);
    const good = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { email: u.email, password: u.password },
    });
    expect(good.statusCode).toBe(200);
    const bad = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { email: u.email, password: 'not-the-password-at-all' },
    });
    expect(bad.statusCode).toBe(401);
    const after = await scrape(t.app);
    const delta = (labels: Record<string, string>) =>
      valueOf(after, 'auth_logins_total', labels) - valueOf(before, 'auth_logins_total', labels);
    expect(delta({ outcome: 'success', method: 'password' })).toBe(1);
    expect(delta({ outcome: 'failure', method: 'password' })).toBe(1);
  });

  it('counts an event only once its transaction commits', async () => {
    const before = valueOf(await scrape(t.app), 'audit_events_recorded_total', { outcome: 'success' });
    await expect(
      t.deps.db.transaction(async (tx) => {
        await t.app.audit.record({ action: 'test.rolled_back', actor: 'system', outcome: 'success' }, tx);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(valueOf(await scrape(t.app), 'audit_events_recorded_total', { outcome: 'success' })).toBe(before);
    await t.deps.db.transaction(async (tx) => {
      await t.app.audit.record({ action: 'test.committed', actor: 'system', outcome: 'success' }, tx);
    });
    expect(valueOf(await scrape(t.app), 'audit_events_recorded_total', { outcome: 'success' })).toBe(before + 1);
  });

  it('keeps ids, emails and raw paths out of every label after a fuzz of hostile paths', async () => {
    const u = await createUser(t.app);
    const raw: string[] = [];
    const methods = ['GET', 'POST', 'DELETE', 'PATCH', 'PROPFIND'] as const;
    for (let i = 0; i < 150; i++) {
      const token = randomBytes(4).toString('hex');
      const path = [
        `/api/portfolios/${randomUUID()}`,
        `/api/users/${u.email}`,
        `/x${token}/${randomUUID()}`,
        `/api/public/portfolios/${token}-slug`,
        `/api/auth/../../etc/passwd${token}`,
        `/%00${token}`,
        `/api/portfolios/${token}?email=${encodeURIComponent(u.email)}`,
      ][i % 7] as string;
      raw.push(path);
      await t.app.inject({ method: methods[i % methods.length] as 'GET', url: path, headers: u.auth });
    }
    const samples: Sample[] = await scrape(t.app);
    const values = samples.flatMap((s) => Object.values(s.labels));
    for (const v of values) {
      expect(v, 'a label value holds an id').not.toMatch(UUID);
      expect(v, 'a label value holds an email').not.toMatch(EMAIL);
    }
    const routes = new Set(
      samples.filter((s) => s.name.startsWith('http_request_duration_seconds')).map((s) => s.labels.route),
    );
    for (const path of raw) expect(routes.has(path.split('?')[0])).toBe(false);
    // Every route label is a registered template (or "unmatched"); methods are a closed set.
    for (const route of routes) expect(route === 'unmatched' || (route ?? '').startsWith('/')).toBe(true);
    expect(routes.has('unmatched')).toBe(true);
    const methodsSeen = new Set(
      samples.filter((s) => s.name === 'http_request_duration_seconds_count').map((s) => s.labels.method),
    );
    expect(
      [...methodsSeen].every((m) =>
        ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'OTHER'].includes(m ?? ''),
      ),
    ).toBe(true);
    // Bounded cardinality: the fuzz added a handful of series, not one per path.
    const httpSeries = samples.filter((s) => s.name === 'http_request_duration_seconds_count').length;
    expect(httpSeries).toBeLessThan(60);
  });
});
