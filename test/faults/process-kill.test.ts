/**
 * A server process killed -9 in the middle of an upload and of the audit log's sealing, then
 * started again on the same DATA_DIR and database. Nothing is half done afterwards: no staged file
 * is left, the interrupted upload is rejected (UPLOAD_INTERRUPTED) rather than left in a
 * non-final state, and the audit chain verifies with no gap.
 * Mechanisms guarded: the per-process staging folder and its recovery at start
 * (src/security/uploads/staging.ts); the sealer's transaction (a sealing cut by the kill is
 * redone from the inbox, never half applied).
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTs, waitFor } from '../helpers/spawn.js';
import { multipart, stagedEntries } from '../support/uploads/helpers.js';
import {
  clusterSecrets,
  failedLogin,
  kill9Node,
  PrivatePostgres,
  startNode,
  stopNode,
  ownerWithPortfolio,
  type ServerNode,
} from './harness.js';

const PASSWORD = 'Violet-Harbor-Lantern-42';

describe('a server process killed -9 mid-upload and mid-sealing', () => {
  let pg_: PrivatePostgres;
  let node: ServerNode;
  let env: Record<string, string>;

  beforeAll(async () => {
    pg_ = await PrivatePostgres.start();
    env = { ...clusterSecrets(), DATABASE_URL: pg_.url, TRUST_PROXY: '127.0.0.1', UPLOAD_SCAN: 'off' };
    node = await startNode('k', env);
  }, 240_000);

  afterAll(async () => {
    const code = await stopNode(node);
    await pg_?.stop();
    expect(code).toBe(0);
  }, 60_000);

  it('leaves no staged file, no upload in flight and no gap in the audit chain', async () => {
    const { auth, portfolioId } = await ownerWithPortfolio(node, {
      email: 'killed@example.test',
      password: PASSWORD,
      client: '198.51.100.70',
      slug: 'killed',
    });

    // Audit events being sealed when the kill comes: failed logins from many clients.
    let running = true;
    const noise = (async () => {
      for (let i = 0; running; i++) {
        await failedLogin(node, `198.18.60.${i % 250}`, `nobody-${i}@example.test`, 5_000);
      }
    })();

    // An upload whose body stops half way: the server has staged part of it when it dies.
    const data = randomBytes(4 * 1024 * 1024);
    const { body, headers: mpHeaders } = multipart(
      { category: 'gallery' },
      { name: 'big.png', type: 'image/png', data },
    );
    const url = new URL(`${node.base}/api/portfolios/${portfolioId}/media`);
    const req = http.request(url, {
      method: 'POST',
      headers: { ...auth, ...mpHeaders, 'content-length': String(body.length) },
      agent: false,
    });
    req.on('error', () => undefined);
    req.write(body.subarray(0, 2 * 1024 * 1024));
    const staging = path.join(node.dataDir, 'upload-staging');
    await waitFor(async () => (await stagedEntries(node.dataDir)).some((n) => n.endsWith('.upload')), 30_000);
    const before = await readdir(staging);
    await kill9Node(node);
    running = false;
    await noise;
    req.destroy();

    // Started again on the same DATA_DIR, port and database.
    node = await startNode('k', env, { dataDir: node.dataDir, base: node.base });
    expect(await stagedEntries(node.dataDir)).toEqual([]);
    const after = await readdir(staging);
    expect(after).toHaveLength(1);
    expect(before).not.toContain(after[0]);

    const client = new pg.Client({ connectionString: pg_.url });
    await client.connect();
    try {
      const rows = await client.query<{ status: string; status_reason: string | null }>(
        `select status, status_reason from media`,
      );
      expect(rows.rows).toEqual([{ status: 'rejected', status_reason: 'UPLOAD_INTERRUPTED' }]);
    } finally {
      await client.end();
    }
    // The chain, events sealed before and after the kill included, verifies end to end.
    const verify = await runTs('src/cli/main.ts', ['audit', 'verify'], {
      env: { ...env, DATA_DIR: node.dataDir },
      timeoutMs: 120_000,
    });
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  }, 300_000);
});
