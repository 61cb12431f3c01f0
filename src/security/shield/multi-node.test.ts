/**
 * Many nodes, one Redis: three server processes behind an imagined load balancer must enforce
 * one limit, not three. 200 concurrent login attempts from one client spread over the nodes
 * admit exactly 5 (the login policy's burst; zero over-admission, because each decision is one
 * atomic script in Redis), and a block raised on one node is enforced by all of them.
 * Runs when TEST_REDIS_URL is set (always in CI's Redis pass); skipped without it.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_REDIS_URL } from '../../../test/helpers/services.js';
import { freePort, startTs, waitFor } from '../../../test/helpers/spawn.js';

interface Node {
  child: ChildProcess;
  base: string;
  dataDir: string;
}

describe.skipIf(!TEST_REDIS_URL)('three nodes sharing one Redis', () => {
  const nodes: Node[] = [];
  const prefix = `multinode:${randomBytes(4).toString('hex')}:`;

  beforeAll(async () => {
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const dataDir = await mkdtemp(path.join(os.tmpdir(), 'pf-node-'));
      const child = startTs('src/server.ts', {
        DATA_DIR: dataDir,
        PORT: String(port),
        LOG_LEVEL: 'error',
        REDIS_URL: TEST_REDIS_URL ?? '',
        KV_PREFIX: prefix,
        // The test plays the load balancer on 127.0.0.1 and names the client in X-Forwarded-For.
        TRUST_PROXY: '127.0.0.1',
        // As in production: login never falls back to per-node limits (a node that loses Redis
        // answers 503 instead), and a busy test machine's hiccups are not taken for an outage.
        RATE_LIMIT_FAIL_CLOSED: 'login,login-account',
        RATE_LIMIT_STORE_TIMEOUT_MS: '3000',
      });
      child.stdout?.on('data', (d: Buffer) => process.stderr.write(`[node${i}] ${d.toString()}`));
      child.stderr?.on('data', (d: Buffer) => process.stderr.write(`[node${i}] ${d.toString()}`));
      nodes.push({ child, base: `http://127.0.0.1:${port}`, dataDir });
    }
    await Promise.all(
      nodes.map((node) => waitFor(async () => (await fetch(`${node.base}/health/ready`)).status === 200, 90_000)),
    );
    // Warm each node's decision path (script load, JIT) with a client of its own.
    for (const [i, node] of nodes.entries()) {
      await fetch(`${node.base}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': `198.18.9.${i}` },
        body: JSON.stringify({ email: `warm-${i}@example.test`, password: 'x' }),
      });
    }
  }, 120_000);

  afterAll(async () => {
    await Promise.all(
      nodes.map(
        (node) =>
          new Promise<void>((resolve) => {
            if (node.child.exitCode !== null) return resolve();
            node.child.once('exit', () => resolve());
            node.child.kill('SIGTERM');
          }),
      ),
    );
    await Promise.all(nodes.map((node) => rm(node.dataDir, { recursive: true, force: true })));
  }, 60_000);

  const post = (node: Node, url: string, client: string, body: object) =>
    fetch(`${node.base}${url}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': client },
      body: JSON.stringify(body),
    });

  it('200 concurrent login attempts from one client: never more than 5 admitted across the nodes', async () => {
    const client = '203.0.113.77';
    const attempts = Array.from({ length: 200 }, (_, i) =>
      post(nodes[i % 3] as Node, '/api/auth/login', client, {
        email: `nobody-${i}@example.test`,
        password: 'not-the-password',
      }),
    );
    const statuses = (await Promise.all(attempts)).map((r) => r.status);
    // Admitted = reached the handler (401: wrong password). 429/403 are refusals; a 503 would be
    // a node that lost Redis refusing login (fail-closed), never an extra admission.
    const admitted = statuses.filter((s) => s !== 429 && s !== 403 && s !== 503);
    const refusedForOutage = statuses.filter((s) => s === 503).length;
    // Never more than the burst. Fewer is possible here, never more: a decision whose answer came
    // back after the store timeout was counted in Redis but answered 503 (fail-closed), and the
    // automatic block that the other attempts' violations raise meanwhile refuses (403) attempts
    // still on their way — a CI run saw 4 × 401 with a 403 among the first answers. Exactly 5,
    // with the block off, is what test/faults/over-admission.test.ts counts (600 attempts, 3 nodes).
    expect(
      admitted.every((s) => s === 401),
      String(statuses),
    ).toBe(true);
    expect(admitted.length).toBeLessThanOrEqual(5);
    expect(admitted.length, String(statuses)).toBeGreaterThan(0);
    if (refusedForOutage === 0 && !statuses.includes(403)) expect(admitted).toHaveLength(5);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    expect(statuses.filter((s) => s >= 500 && s !== 503)).toEqual([]);
  }, 60_000);

  it('a block raised on one node is enforced by every node', async () => {
    const client = '203.0.113.78';
    const first = nodes[0] as Node;
    // register allows 3 per minute; the next 10 are 429s, i.e. violations, all on node 0.
    for (let i = 0; i < 13; i++) await post(first, '/api/auth/register', client, {});
    await waitFor(async () => (await post(first, '/api/auth/register', client, {})).status === 403, 10_000);
    for (const node of nodes) {
      await waitFor(async () => {
        const res = await fetch(`${node.base}/health/live`, { headers: { 'x-forwarded-for': client } });
        if (res.status !== 403) return false;
        const body = (await res.json()) as { code: string };
        return body.code === 'CLIENT_BLOCKED' && Number(res.headers.get('retry-after')) > 3500;
      }, 10_000);
    }
    // Other clients are unaffected.
    expect(
      (await fetch(`${(nodes[2] as Node).base}/health/live`, { headers: { 'x-forwarded-for': '203.0.113.79' } }))
        .status,
    ).toBe(200);
  }, 60_000);
});
