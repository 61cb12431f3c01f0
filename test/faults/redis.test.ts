/**
 * Redis killed -9 and started again under load, two server nodes on one PostgreSQL.
 *
 * What docs/shield.md and src/security/tokens/revocation.ts promise, checked from outside:
 * - a token revoked while Redis is down is refused at once by the node that revoked it and within
 *   a second by the other (its revocation cache stops trusting itself when it stops hearing its
 *   own heartbeat, and reads the database), and stays refused after Redis returns;
 * - limits fall back to each node's memory (login answers 401/429, or 503 where fail-closed),
 *   never a 500 or a hang, and are shared again once Redis is back (one burst across both nodes);
 * - every acknowledged write is readable afterwards.
 * Mechanisms guarded: the revocation heartbeat/staleness bypass; the limiter's memory fallback.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clusterSecrets,
  failedLogin,
  PrivatePostgres,
  PrivateRedis,
  startNode,
  stopNode,
  timed,
  type Outcome,
  type ServerNode,
} from './harness.js';

const DEADLINE_MS = 30_000;
const PASSWORD = 'Violet-Harbor-Lantern-42';

describe('Redis killed -9 and restarted under load', () => {
  let pg: PrivatePostgres;
  let redis: PrivateRedis;
  const nodes: ServerNode[] = [];
  let stopLoad = () => undefined as void;

  beforeAll(async () => {
    [pg, redis] = await Promise.all([PrivatePostgres.start(), PrivateRedis.start()]);
    const env = {
      ...clusterSecrets(),
      DATABASE_URL: pg.url,
      REDIS_URL: redis.url,
      TRUST_PROXY: '127.0.0.1',
      RATE_LIMIT_STORE_TIMEOUT_MS: '3000',
    };
    nodes.push(await startNode('a', env));
    nodes.push(await startNode('b', env));
  }, 240_000);

  afterAll(async () => {
    stopLoad();
    const codes = await Promise.all(nodes.map(stopNode));
    await redis?.kill9();
    await pg?.stop();
    expect(codes).toEqual(nodes.map(() => 0));
  }, 60_000);

  const a = () => nodes[0] as ServerNode;
  const b = () => nodes[1] as ServerNode;
  const headers = (client: string, token?: string) => ({
    'content-type': 'application/json',
    'x-forwarded-for': client,
    ...(token ? { authorization: `Bearer ${token}` } : {}),
  });

  async function signIn(node: ServerNode, email: string, client: string): Promise<string> {
    const res = await fetch(`${node.base}/api/auth/login`, {
      method: 'POST',
      headers: headers(client),
      body: JSON.stringify({ email, password: PASSWORD }),
    });
    const body = (await res.json()) as { accessToken?: string };
    if (res.status !== 200 || !body.accessToken) throw new Error(`login ${res.status} ${JSON.stringify(body)}`);
    return body.accessToken;
  }

  const me = (node: ServerNode, token: string, client: string) =>
    timed(node, 'me', '/api/auth/me', { headers: headers(client, token) }, DEADLINE_MS);

  async function within(ms: number, check: () => Promise<boolean>): Promise<boolean> {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (await check()) return true;
      await new Promise((r) => setTimeout(r, 50));
    }
    return check();
  }

  it('keeps revocation on every node, limits per node, and no 5xx but 503, through the outage', async () => {
    // Three accounts: one writes all along, two are signed out during the outage.
    for (const [i, email] of ['writer@example.test', 'gone@example.test', 'later@example.test'].entries()) {
      const res = await fetch(`${a().base}/api/auth/register`, {
        method: 'POST',
        headers: headers(`198.51.100.${40 + i}`),
        body: JSON.stringify({ email, password: PASSWORD, name: email }),
      });
      expect(res.status, await res.clone().text()).toBe(201);
    }
    const writer = await signIn(a(), 'writer@example.test', '198.51.100.50');
    const portfolio = (await (
      await fetch(`${a().base}/api/portfolios`, {
        method: 'POST',
        headers: headers('198.51.100.50', writer),
        body: JSON.stringify({ title: 'Redis faults', slug: 'redis-faults' }),
      })
    ).json()) as { id: string };
    const gone = await signIn(a(), 'gone@example.test', '198.51.100.51');
    const later = await signIn(b(), 'later@example.test', '198.51.100.52');
    // Both nodes have seen (and cached) both tokens as valid.
    for (const node of nodes) {
      expect((await me(node, gone, '198.51.100.51')).status).toBe(200);
      expect((await me(node, later, '198.51.100.52')).status).toBe(200);
    }

    const outcomes: Outcome[] = [];
    const acked: { id: string; title: string }[] = [];
    let running = true;
    stopLoad = () => {
      running = false;
    };
    const load = (async () => {
      for (let i = 0; running; i++) {
        const node = nodes[i % 2] as ServerNode;
        const title = `r-${i}`;
        const o = await timed(
          node,
          'write',
          `/api/portfolios/${portfolio.id}/projects`,
          { method: 'POST', headers: headers('198.51.100.50', writer), body: JSON.stringify({ title }) },
          DEADLINE_MS,
        );
        outcomes.push(o);
        if (o.status === 201) acked.push({ id: (JSON.parse(o.body) as { id: string }).id, title });
        await new Promise((r) => setTimeout(r, o.status >= 400 ? 200 : 50));
      }
    })();

    await new Promise((r) => setTimeout(r, 1_500));
    await redis.kill9();
    await new Promise((r) => setTimeout(r, 1_000));

    // Revoked on node a while Redis is down: node a refuses at once, node b within a second.
    const logout = await timed(
      a(),
      'logout',
      '/api/auth/logout',
      { method: 'POST', headers: headers('198.51.100.51', gone), body: '{}' },
      DEADLINE_MS,
    );
    expect([200, 204]).toContain(logout.status);
    expect((await me(a(), gone, '198.51.100.51')).status).toBe(401);
    expect(await within(1_000, async () => (await me(b(), gone, '198.51.100.51')).status === 401)).toBe(true);

    // Login during the outage: per-node memory limits or fail-closed 503, never another 5xx.
    const logins = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        failedLogin(nodes[i % 2] as ServerNode, '203.0.113.90', 'nobody@example.test', DEADLINE_MS),
      ),
    );
    outcomes.push(...logins);
    expect(
      logins.map((o) => o.status).every((s) => [401, 429, 503].includes(s)),
      JSON.stringify(logins.map((o) => o.status)),
    ).toBe(true);

    await new Promise((r) => setTimeout(r, 1_500));
    await redis.start();
    // Back: a revocation made after the return reaches the other node within a second again.
    await new Promise((r) => setTimeout(r, 2_000));
    const logoutLater = await timed(
      b(),
      'logout',
      '/api/auth/logout',
      { method: 'POST', headers: headers('198.51.100.52', later), body: '{}' },
      DEADLINE_MS,
    );
    expect([200, 204]).toContain(logoutLater.status);
    expect(await within(1_000, async () => (await me(a(), later, '198.51.100.52')).status === 401)).toBe(true);
    // And the one revoked during the outage is still refused everywhere.
    for (const node of nodes) expect((await me(node, gone, '198.51.100.51')).status).toBe(401);

    // Limits are shared again: 40 concurrent logins from one new client across both nodes admit
    // no more than the login policy's burst in total.
    const shared = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        failedLogin(nodes[i % 2] as ServerNode, '203.0.113.91', `n${i}@example.test`, DEADLINE_MS),
      ),
    );
    outcomes.push(...shared);
    const admitted = shared.filter((o) => o.status === 401).length;
    expect(admitted, JSON.stringify(shared.map((o) => o.status))).toBeLessThanOrEqual(5);
    expect(admitted).toBeGreaterThan(0);

    running = false;
    await load;
    const bad = outcomes.filter((o) => o.status <= 0 || (o.status >= 500 && o.status !== 503));
    expect(bad.map((o) => `${o.node} ${o.what} ${o.status} ${o.body.slice(0, 200)}`)).toEqual([]);
    for (const o of outcomes.filter((x) => x.status === 503)) expect(o.retryAfter, o.body).toMatch(/^\d+$/);
    expect(acked.length).toBeGreaterThan(5);
    const listed = new Set<string>();
    let cursor: string | null | undefined;
    do {
      const res = await fetch(
        `${b().base}/api/portfolios/${portfolio.id}/projects?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        { headers: headers('198.51.100.50', writer) },
      );
      const page = (await res.json()) as { items: { id: string }[]; nextCursor?: string | null };
      for (const p of page.items) listed.add(p.id);
      cursor = page.nextCursor;
    } while (cursor);
    expect(acked.filter((x) => !listed.has(x.id))).toEqual([]);
    process.stderr.write(
      `redis faults: ${outcomes.length} answers, ${acked.length} writes acknowledged; login burst after return admitted ${admitted}\n`,
    );
  }, 300_000);
});
