/**
 * The virus scanner (clamd) killed -9 under uploads and started again. Uploads during the outage
 * are never made available unscanned: they answer 202 `quarantined` and stay so while clamd is
 * gone; once it is back, the retry worker scans them and every one reaches a final state
 * (`available`, scanned after the return). Uses a fake clamd on loopback
 * (test/faults/clamd-process.ts, the clamd protocol, every file clean), not the real one: a
 * private clamd loads its signatures for tens of seconds and about a gigabyte on each start.
 * Mechanisms guarded: scan-before-serve (src/security/uploads/pipeline.ts scanStep: no verdict,
 * no `available`) and the retry of failed scans with backoff (quarantine.ts, worker.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, ROOT, waitFor } from '../helpers/spawn.js';
import { multipart, png } from '../support/uploads/helpers.js';
import {
  clusterSecrets,
  PrivatePostgres,
  startNode,
  stopNode,
  timed,
  type ServerNode,
  ownerWithPortfolio,
} from './harness.js';

const PASSWORD = 'Violet-Harbor-Lantern-42';

interface Clamd {
  child: ChildProcess;
  scanned: number;
}

async function startClamd(port: number): Promise<Clamd> {
  // node with tsx's loader (one process), so SIGKILL hits the server itself.
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/faults/clamd-process.ts')], {
    cwd: ROOT,
    env: { ...process.env, CLAMD_PORT: String(port) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const clamd: Clamd = { child, scanned: 0 };
  let listening = false;
  child.stdout?.on('data', (d: Buffer) => {
    for (const line of d.toString().split('\n')) {
      if (line === 'LISTENING') listening = true;
      else if (line === 'SCANNED') clamd.scanned++;
    }
  });
  await waitFor(async () => listening || child.exitCode !== null, 60_000);
  if (!listening) throw new Error('the fake clamd did not start');
  return clamd;
}

async function kill9(clamd: Clamd): Promise<void> {
  if (clamd.child.exitCode !== null || clamd.child.signalCode !== null) return;
  const gone = new Promise((r) => clamd.child.once('exit', r));
  clamd.child.kill('SIGKILL');
  await gone;
}

describe('clamd killed -9 under uploads', () => {
  let pg_: PrivatePostgres;
  let node: ServerNode | undefined;
  const clamds: Clamd[] = [];
  let port: number;

  beforeAll(async () => {
    pg_ = await PrivatePostgres.start();
    port = await freePort();
    clamds.push(await startClamd(port));
    node = await startNode('c', {
      ...clusterSecrets(),
      DATABASE_URL: pg_.url,
      TRUST_PROXY: '127.0.0.1',
      CLAMAV_URL: `tcp://127.0.0.1:${port}`,
      UPLOAD_SCAN: 'on',
      // The retry worker looks every 2 s; a failed scan is retried 30 s after it failed.
      UPLOAD_RETRY_INTERVAL: '2',
    });
  }, 240_000);

  afterAll(async () => {
    if (node) await stopNode(node);
    for (const c of clamds) await kill9(c);
    await pg_?.stop();
  }, 60_000);

  async function rows() {
    const client = new pg.Client({ connectionString: pg_.url });
    await client.connect();
    try {
      return (
        await client.query<{ id: string; status: string; scan_verdict: string | null; scanned_at: Date | null }>(
          `select id, status, scan_verdict, scanned_at from media`,
        )
      ).rows;
    } finally {
      await client.end();
    }
  }

  it('never serves an upload unscanned while clamd is gone, and scans every one once it is back', async () => {
    const { auth, portfolioId } = await ownerWithPortfolio(node!, {
      email: 'scan@example.test',
      password: PASSWORD,
      client: '198.51.100.95',
      slug: 'scan',
    });
    const upload = async (i: number) => {
      const { body, headers: mp } = multipart(
        { category: 'gallery' },
        { name: `p${i}.png`, type: 'image/png', data: await png(64 + i, 48) },
      );
      const o = await timed(
        node!,
        'upload',
        `/api/portfolios/${portfolioId}/media`,
        { method: 'POST', headers: { ...auth, ...mp, 'content-length': String(body.length) }, body },
        60_000,
      );
      expect(o.status, o.body).toBe(202);
      return JSON.parse(o.body) as { id: string; status: string };
    };

    // Before: scanned and available.
    const before = await Promise.all([1, 2].map(upload));
    expect(before.map((m) => m.status)).toEqual(['available', 'available']);

    // clamd killed -9: six uploads, three at a time, all quarantined, none available.
    await kill9(clamds[0]!);
    const during = [...(await Promise.all([3, 4, 5].map(upload))), ...(await Promise.all([6, 7, 8].map(upload)))];
    expect(during.map((m) => m.status)).toEqual(Array(6).fill('quarantined'));
    const duringIds = new Set(during.map((m) => m.id));
    await new Promise((r) => setTimeout(r, 3_000)); // a retry pass runs while clamd is still gone
    for (const r of await rows()) if (duringIds.has(r.id)) expect(r.status).toBe('quarantined');

    // Back: the retry worker scans each one; all reach a final state, scanned after the return.
    const back = new Date();
    clamds.push(await startClamd(port));
    await waitFor(async () => (await rows()).every((r) => r.status === 'available'), 120_000).catch(() => undefined);
    const after = await rows();
    expect(after.map((r) => r.status).sort()).toEqual(Array(8).fill('available'));
    for (const r of after.filter((x) => duringIds.has(x.id))) {
      expect(r.scan_verdict).toBe('clean');
      expect(r.scanned_at!.getTime()).toBeGreaterThanOrEqual(back.getTime() - 1000);
    }
    expect(clamds[1]!.scanned).toBeGreaterThanOrEqual(6);
  }, 300_000);
});
