/**
 * PostgreSQL restarted (fast shutdown) and killed -9 under load, two server nodes on it.
 * Nothing acknowledged is lost, nothing answers 500 or hangs, both nodes come back by themselves.
 *
 * Mechanisms this guards (remove one and it fails):
 * - src/platform/db/unavailable.ts + the error handler: requests during the outage get 503
 *   DATABASE_UNAVAILABLE with Retry-After, not a 500 carrying the driver's error;
 * - the transaction's 'error' listener (src/platform/db/index.ts): a backend killed between two
 *   statements of a transaction used to be an uncaught exception that took the node down;
 * - the pool and the readiness probe: /health/ready goes 503 and back without a restart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_REDIS_URL } from '../helpers/services.js';
import { runTs } from '../helpers/spawn.js';
import {
  clusterSecrets,
  PrivatePostgres,
  startNode,
  stopNode,
  timed,
  watchReadiness,
  type Outcome,
  type ServerNode,
} from './harness.js';

const WORKERS = 6;
const DEADLINE_MS = 30_000;

interface Worker {
  token: string;
  portfolioId: string;
  acked: { id: string; title: string }[];
}

describe('PostgreSQL restarted and killed under load', () => {
  let pg: PrivatePostgres;
  const nodes: ServerNode[] = [];
  let stopLoad = () => undefined as void;
  let env: Record<string, string>;

  beforeAll(async () => {
    pg = await PrivatePostgres.start();
    env = {
      ...clusterSecrets(),
      DATABASE_URL: pg.url,
      ...(TEST_REDIS_URL ? { REDIS_URL: TEST_REDIS_URL, KV_PREFIX: `faults:${process.pid}:` } : {}),
      TRUST_PROXY: '127.0.0.1',
    };
    // One after the other: the first applies the migrations.
    nodes.push(await startNode('a', env));
    nodes.push(await startNode('b', env));
  }, 240_000);

  afterAll(async () => {
    stopLoad();
    const codes = await Promise.all(nodes.map(stopNode));
    await pg?.stop();
    // A node that survived the faults also shuts down cleanly.
    expect(codes).toEqual(nodes.map(() => 0));
  }, 60_000);

  async function json(node: ServerNode, url: string, init: RequestInit): Promise<Record<string, unknown>> {
    const res = await fetch(`${node.base}${url}`, init);
    const body = (await res.json()) as Record<string, unknown>;
    if (!res.ok) throw new Error(`${url}: ${res.status} ${JSON.stringify(body)}`);
    return body;
  }

  async function makeWorker(i: number): Promise<Worker> {
    const node = nodes[i % nodes.length] as ServerNode;
    const client = `198.51.100.${10 + i}`;
    const headers = { 'content-type': 'application/json', 'x-forwarded-for': client };
    const email = `fault-${i}@example.test`;
    const password = 'Violet-Harbor-Lantern-42';
    await json(node, '/api/auth/register', {
      method: 'POST',
      headers,
      body: JSON.stringify({ email, password, name: `F${i}` }),
    });
    const login = await json(node, '/api/auth/login', {
      method: 'POST',
      headers,
      body: JSON.stringify({ email, password }),
    });
    const token = String(login['accessToken']);
    const portfolio = await json(node, '/api/portfolios', {
      method: 'POST',
      headers: { ...headers, authorization: `Bearer ${token}` },
      body: JSON.stringify({ title: `Faults ${i}`, slug: `faults-${i}` }),
    });
    return { token, portfolioId: String(portfolio['id']), acked: [] };
  }

  it('loses no acknowledged write, answers 503 with Retry-After during the outage, and recovers by itself', async () => {
    const workers = await Promise.all(Array.from({ length: WORKERS }, (_, i) => makeWorker(i)));
    const outcomes: Outcome[] = [];
    const watchers = nodes.map(watchReadiness);
    let running = true;
    stopLoad = () => {
      running = false;
    };
    const load = workers.map(async (w, wi) => {
      for (let i = 0; running; i++) {
        const node = nodes[(wi + i) % nodes.length] as ServerNode;
        const headers = {
          'content-type': 'application/json',
          'x-forwarded-for': `198.51.100.${10 + wi}`,
          authorization: `Bearer ${w.token}`,
        };
        const title = `w${wi}-${i}`;
        const o =
          i % 3 === 2
            ? await timed(node, 'read', `/api/portfolios/${w.portfolioId}`, { headers }, DEADLINE_MS)
            : await timed(
                node,
                'write',
                `/api/portfolios/${w.portfolioId}/projects`,
                { method: 'POST', headers, body: JSON.stringify({ title }) },
                DEADLINE_MS,
              );
        outcomes.push(o);
        if (o.what === 'write' && o.status === 201)
          w.acked.push({ id: String((JSON.parse(o.body) as { id: string }).id), title });
        // A steady writer, not a flood: about 20 requests a second each, backing off when refused.
        await new Promise((r) => setTimeout(r, o.status >= 400 ? 200 : 50));
      }
    });

    await new Promise((r) => setTimeout(r, 3_000));
    await pg.restartFast();
    await new Promise((r) => setTimeout(r, 3_000));
    await pg.kill9();
    await new Promise((r) => setTimeout(r, 2_000));
    await pg.start();
    // Both nodes answer ready again without being restarted.
    const back = Date.now();
    let probe = 0;
    const ready = (node: ServerNode) =>
      timed(node, 'ready', '/health/ready', { headers: { 'x-forwarded-for': `198.18.250.${probe++ % 250}` } }, 5_000);
    for (const node of nodes) {
      while ((await ready(node)).status !== 200) {
        expect(Date.now() - back, `${node.name} not ready 20 s after PostgreSQL came back`).toBeLessThan(20_000);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    await new Promise((r) => setTimeout(r, 3_000));
    running = false;
    await Promise.all(load);
    const readiness = await Promise.all(watchers.map((w) => w.stop()));

    const byStatus = new Map<number, number>();
    for (const o of outcomes) byStatus.set(o.status, (byStatus.get(o.status) ?? 0) + 1);
    const summary = JSON.stringify(Object.fromEntries(byStatus));
    process.stderr.write(
      `postgres faults: responses by status ${summary}; readiness seen ${JSON.stringify(readiness)}\n`,
    );
    // No hang past the deadline (0), no refused connection (-1: a node died), no 5xx but 503.
    const bad = outcomes.filter((o) => o.status <= 0 || (o.status >= 500 && o.status !== 503));
    expect(
      bad.map((o) => `${o.node} ${o.what} ${o.status} ${o.body.slice(0, 200)}`),
      summary,
    ).toEqual([]);
    for (const o of outcomes.filter((x) => x.status === 503)) {
      expect(o.retryAfter, o.body).toMatch(/^\d+$/);
      const problem = JSON.parse(o.body) as { code: string; detail: string };
      expect(['DATABASE_UNAVAILABLE', 'SERVICE_UNAVAILABLE']).toContain(problem.code);
      expect(o.body).not.toMatch(/terminating connection|ECONNREFUSED|Connection terminated|\bat \S+\.js:\d+/);
    }
    // The load ran through the faults, and the outage was seen by the probe on each node.
    expect(outcomes.filter((o) => o.status === 201).length, summary).toBeGreaterThan(20);
    for (const seen of readiness) {
      expect(seen).toContain(503);
      expect(seen.at(-1)).toBe(200);
    }
    // Every acknowledged write is there, on both nodes.
    for (const [wi, w] of workers.entries()) {
      for (const node of nodes) {
        const res = await fetch(`${node.base}/api/portfolios/${w.portfolioId}/projects?limit=100`, {
          // From an address of its own: the writer's own may have used up its per-client limit.
          headers: { authorization: `Bearer ${w.token}`, 'x-forwarded-for': `198.51.101.${10 + wi}` },
        });
        expect(res.status).toBe(200);
        const listed = new Map<string, string>();
        let page = (await res.json()) as { items: { id: string; title: string }[]; nextCursor?: string | null };
        for (const p of page.items) listed.set(p.id, p.title);
        while (page.nextCursor) {
          const next = await fetch(
            `${node.base}/api/portfolios/${w.portfolioId}/projects?limit=100&cursor=${encodeURIComponent(page.nextCursor)}`,
            { headers: { authorization: `Bearer ${w.token}`, 'x-forwarded-for': `198.51.101.${10 + wi}` } },
          );
          page = (await next.json()) as typeof page;
          for (const p of page.items) listed.set(p.id, p.title);
        }
        for (const a of w.acked) expect(listed.get(a.id), `${node.name}: ${a.title}`).toBe(a.title);
      }
    }
    // The audit chain has no gap and verifies.
    const verify = await runTs('src/cli/main.ts', ['audit', 'verify'], {
      env: { ...env, DATA_DIR: (nodes[0] as ServerNode).dataDir },
      timeoutMs: 120_000,
    });
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  }, 300_000);
});
