/**
 * The admin audit API and the automatic request log, as an administrator and as an intruder use
 * them: only `audit:read` may read (and each read is itself logged), every state-changing request
 * is logged with who, what, target, result and request id, refusals by the shield are counted
 * without one insert per request. (Its screen is the console's Audit log: src/console/admin-security.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.js';
import { createUser, strongPassword, uniqueEmail, type TestUser } from '../../../test/helpers/factories.js';
import { asAttacker } from '../../../test/helpers/audit.js';
import { csvCell } from './routes.js';

let t: TestApp;
let admin: TestUser;
let user: TestUser;

beforeAll(async () => {
  t = await buildTestApp({ RATE_LIMIT_ENABLED: 'false' });
  admin = await createUser(t.app, { role: 'admin' });
  user = await createUser(t.app);
});
afterAll(async () => {
  await t.close();
});

const get = (url: string, who: TestUser | null = admin) =>
  t.app.inject({ method: 'GET', url, headers: who ? who.auth : {} });
const events = async (query: string) => {
  const res = await get(`/api/admin/audit?${query}`);
  expect(res.statusCode).toBe(200);
  return res.json().items as {
    seq: number;
    action: string;
    actor: string;
    outcome: string;
    target: { type: string; id: string } | null;
    requestId: string;
    ip: string;
    metadata: Record<string, unknown>;
  }[];
};

describe('auth flows write their events', () => {
  it('login succeeded / failed, register and refresh', async () => {
    const email = uniqueEmail();
    const password = strongPassword();
    const reg = await t.app.inject({
      method: 'POST',
      url: '/api/auth/register',
      payload: { email, password, name: 'R' },
    });
    expect(reg.statusCode).toBe(201);
    const id = reg.json().user.id as string;
    const ok = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { email, password },
      headers: { 'user-agent': 'Mozilla/5.0 test' },
    });
    expect(ok.statusCode).toBe(200);
    const bad = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { email, password: 'wrong-password-for-sure' },
    });
    expect(bad.statusCode).toBe(401);
    const ghost = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { email: uniqueEmail('ghost'), password: 'whatever-it-is-1' },
    });
    expect(ghost.statusCode).toBe(401);
    const refreshed = await t.app.inject({
      method: 'POST',
      url: '/api/auth/refresh',
      payload: { refreshToken: ok.json().refreshToken },
    });
    expect(refreshed.statusCode).toBe(200);

    const mine = await events(`targetType=user&targetId=${id}&limit=50`);
    const actions = mine.map((e) => `${e.action}:${e.outcome}`);
    expect(actions).toEqual(
      expect.arrayContaining([
        'auth.register:success',
        'auth.login.succeeded:success',
        'auth.login.failed:failure',
        'auth.refresh:success',
      ]),
    );
    const succeeded = mine.find((e) => e.action === 'auth.login.succeeded');
    expect(succeeded).toMatchObject({ actor: id, requestId: ok.headers['x-request-id'] });
    const failed = mine.find((e) => e.action === 'auth.login.failed');
    expect(failed).toMatchObject({ actor: 'anonymous', metadata: { reason: 'wrong_password' } });
    const unknown = await events('action=auth.login.failed&limit=100');
    expect(
      unknown.some(
        (e) =>
          e.target === null &&
          e.metadata['reason'] === 'unknown_account' &&
          e.requestId === ghost.headers['x-request-id'],
      ),
    ).toBe(true);
  });
});

describe('automatic request log', () => {
  it('logs a state-changing request with actor, route, target, outcome and request id', async () => {
    const res = await t.app.inject({
      method: 'PATCH',
      url: `/api/admin/users/${user.id}`,
      headers: admin.auth,
      payload: { name: 'Renamed' },
    });
    expect(res.statusCode).toBe(200);
    const [e] = await events(`action=http.patch&actor=${admin.id}&limit=1`);
    expect(e).toMatchObject({
      actor: admin.id,
      outcome: 'success',
      target: { type: 'users', id: user.id },
      requestId: res.headers['x-request-id'],
      metadata: { method: 'PATCH', route: '/api/admin/users/:id', status: 200 },
    });
  });

  it('logs refused and anonymous attempts as denied, unmatched routes by path without the query string', async () => {
    const denied = await t.app.inject({
      method: 'PATCH',
      url: `/api/admin/users/${admin.id}`,
      headers: user.auth,
      payload: { role: 'user' },
    });
    expect(denied.statusCode).toBe(403);
    const anon = await t.app.inject({ method: 'POST', url: '/api/portfolios', payload: { title: 'x', slug: 'x' } });
    expect(anon.statusCode).toBe(401);
    const unmatched = await t.app.inject({ method: 'POST', url: '/api/nowhere?token=secret-in-query', payload: {} });
    expect(unmatched.statusCode).toBe(404);
    const byUser = await events(`action=http.patch&actor=${user.id}&limit=1`);
    expect(byUser[0]).toMatchObject({ outcome: 'denied', metadata: { status: 403, errorCode: 'FORBIDDEN' } });
    const byAnon = await events('action=http.post&actor=anonymous&outcome=denied&limit=10');
    expect(byAnon.some((e) => e.requestId === anon.headers['x-request-id'])).toBe(true);
    const lost = await events('action=http.post&outcome=failure&limit=20');
    const hit = lost.find((e) => e.requestId === unmatched.headers['x-request-id']);
    expect(hit?.metadata).toMatchObject({ route: null, path: '/api/nowhere', status: 404 });
    expect(JSON.stringify(hit)).not.toContain('secret-in-query');
  });

  it("logs admin reads of other users' data and every read of the audit log", async () => {
    const read = await get(`/api/admin/users/${user.id}`);
    expect(read.statusCode).toBe(200);
    await get('/api/admin/audit?limit=1');
    const reads = await events(`action=admin.read&actor=${admin.id}&limit=10`);
    expect(reads.some((e) => e.target?.id === user.id && e.requestId === read.headers['x-request-id'])).toBe(true);
    const auditReads = await events(`action=audit.read&actor=${admin.id}&limit=5`);
    expect(auditReads.length).toBeGreaterThan(0);
    expect(auditReads[0]?.metadata).toMatchObject({ route: '/api/admin/audit', method: 'GET' });
  });

  it('counts refusals by the shield instead of writing one event per request', async () => {
    for (let i = 0; i < 5; i++) t.app.audit.noteRejected('limited', '192.0.2.9', '/api/auth/login', 429);
    t.app.audit.noteRejected('blocked', '192.0.2.10', null, 403);
    await t.app.audit.flush();
    const limited = await events('action=http.limited&ip=192.0.2.9');
    expect(limited).toHaveLength(1);
    expect(limited[0]?.metadata).toMatchObject({ count: 5, status: 429, routes: ['/api/auth/login'] });
    expect(await events('action=http.blocked&ip=192.0.2.10')).toHaveLength(1);
  });
});

describe('admin audit API', () => {
  it('answers 401 without a token and 403 without audit:read, as problem+json', async () => {
    const anon = await get('/api/admin/audit', null);
    expect(anon.statusCode).toBe(401);
    const plain = await get('/api/admin/audit', user);
    expect(plain.statusCode).toBe(403);
    expect(plain.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(plain.json()).toMatchObject({ code: 'FORBIDDEN', status: 403 });
    for (const url of [
      '/api/admin/audit/export',
      '/api/admin/audit/report',
      '/api/admin/audit/status',
      '/api/admin/audit/stats',
    ]) {
      expect((await get(url, user)).statusCode).toBe(403);
    }
  });

  it('filters by action prefix, actor, outcome, ip and time, and pages with a cursor', async () => {
    const page1 = await get('/api/admin/audit?action=auth.&limit=2');
    const body1 = page1.json();
    expect(body1.items).toHaveLength(2);
    expect(body1.items.every((e: { action: string }) => e.action.startsWith('auth.'))).toBe(true);
    expect(body1.items[0].seq).toBeGreaterThan(body1.items[1].seq);
    const page2 = await get(`/api/admin/audit?action=auth.&limit=2&cursor=${body1.nextCursor}`);
    expect(page2.json().items[0].seq).toBeLessThan(body1.items[1].seq);
    expect((await events('outcome=denied&limit=200')).every((e) => e.outcome === 'denied')).toBe(true);
    expect((await events('ip=127.0.0.1&limit=5')).every((e) => e.ip === '127.0.0.1')).toBe(true);
    const future = new Date(t.clock.now().getTime() + 3_600_000).toISOString();
    expect(await events(`from=${encodeURIComponent(future)}`)).toEqual([]);
    expect((await get('/api/admin/audit?cursor=not-a-cursor')).json().code).toBe('INVALID_CURSOR');
    expect((await get('/api/admin/audit?outcome=maybe')).json().code).toBe('VALIDATION_FAILED');
    expect((await get('/api/admin/audit?sneaky=1')).statusCode).toBe(400);
  });

  it('exports JSON Lines and CSV (formula-safe), and logs the export with its row count', async () => {
    const jsonl = await get('/api/admin/audit/export?format=jsonl&action=auth.login');
    expect(jsonl.statusCode).toBe(200);
    expect(jsonl.headers['content-type']).toMatch(/application\/x-ndjson/);
    expect(jsonl.headers['content-disposition']).toMatch(/attachment; filename="audit-.*\.jsonl"/);
    const lines = jsonl.body
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { action: string; seq: number });
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((l) => l.action.startsWith('auth.login'))).toBe(true);
    const csv = await get('/api/admin/audit/export?format=csv&limit=5');
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    expect(csv.body.split('\n')[0]).toBe(
      'seq,time,action,actor,outcome,ip,userAgent,targetType,targetId,requestId,metadata,prevHash,hash',
    );
    expect(csvCell('=HYPERLINK("http://evil")')).toBe(`"'=HYPERLINK(""http://evil"")"`);
    expect(csvCell('-1+2')).toBe(`"'-1+2"`);
    const [logged] = await events(`action=audit.export&actor=${admin.id}&limit=1`);
    expect(logged?.metadata).toMatchObject({ format: 'csv', rows: 5, route: '/api/admin/audit/export' });
  });

  it('export needs a recent sign-in (step-up); reading events does not', async () => {
    t.clock.advance((t.config.REAUTH_MAX_AGE + 1) * 1000);
    try {
      const res = await get('/api/admin/audit/export?format=jsonl&limit=1');
      expect(res.statusCode).toBe(401);
      expect(res.json<{ code: string }>().code).toBe('REAUTH_REQUIRED');
      expect((await get('/api/admin/audit?limit=1')).statusCode).toBe(200);
    } finally {
      t.clock.advance(-(t.config.REAUTH_MAX_AGE + 1) * 1000);
    }
  });

  it('reports a period: logins, failures, exports, and the integrity status', async () => {
    const from = new Date(t.clock.now().getTime() - 3_600_000).toISOString();
    const to = new Date(t.clock.now().getTime() + 3_600_000).toISOString();
    const res = await get(`/api/admin/audit/report?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`);
    expect(res.statusCode).toBe(200);
    const r = res.json();
    expect(r.counts.loginsSucceeded).toBeGreaterThanOrEqual(3);
    expect(r.counts.loginsFailed).toBeGreaterThanOrEqual(2);
    expect(r.counts.exports).toBeGreaterThanOrEqual(1);
    expect(r.counts.adminActions).toBeGreaterThanOrEqual(1);
    expect(r.integrity).toMatchObject({ status: 'intact', damage: null });
    const inverted = await get(`/api/admin/audit/report?from=${encodeURIComponent(to)}&to=${encodeURIComponent(from)}`);
    expect(inverted.statusCode).toBe(400);
    expect(inverted.json().code).toBe('AUDIT_RANGE_INVALID');
  });

  it('charts failed logins per hour, and shows the chain status with its last checkpoint', async () => {
    const stats = (await get('/api/admin/audit/stats?bucket=hour')).json();
    expect(
      stats.series.reduce((n: number, p: { failedLogins: number }) => n + p.failedLogins, 0),
    ).toBeGreaterThanOrEqual(2);
    await t.app.audit.checkpoint();
    const status = (await get('/api/admin/audit/status')).json();
    expect(status).toMatchObject({ ok: true, damage: null, inbox: 0 });
    expect(status.lastCheckpoint.seq).toBeGreaterThan(0);
    expect(status.summary).toMatch(/^Audit chain intact/);
  });

  it('status and report turn to damaged after tampering', async () => {
    await asAttacker(t.deps.db, (q) =>
      q.query(`update audit_events set metadata = '{"forged": true}' where seq = 2`).then(() => undefined),
    );
    const status = (await get('/api/admin/audit/status')).json();
    expect(status).toMatchObject({ ok: false, damage: { kind: 'modified', seq: 2 } });
    const report = (await get('/api/admin/audit/report')).json();
    expect(report.integrity).toMatchObject({ status: 'damaged', damage: { kind: 'modified', seq: 2 } });
  });
});
