/**
 * The SMTP server killed -9 and started again while password-reset mails are being queued on two
 * nodes. Afterwards every queued mail was delivered at least once, no outbox row is left pending,
 * sending or dead, and the duplicates are only the documented at-least-once kind
 * (docs/ACCOUNT_SECURITY.md "At least once"): a mail the killed server took but never acknowledged,
 * sent again to the new one with the same Message-ID; never twice to one server.
 * Mechanisms guarded: the durable outbox (src/platform/mail/): a mail is a row first, a send that
 * fails is rescheduled (backoff from 30 s) rather than dropped, a row is marked sent only after
 * the server's 250, and claims (SKIP LOCKED, a lease) keep two nodes from sending one row twice.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, ROOT, waitFor } from '../helpers/spawn.js';
import { clusterSecrets, PrivatePostgres, startNode, stopNode, timed, type ServerNode } from './harness.js';

const PASSWORD = 'Violet-Harbor-Lantern-42';
const USERS = 40;

/** One SMTP server process (test/faults/smtp-process.ts) and the Message-IDs it accepted. */
interface SmtpProcess {
  child: ChildProcess;
  received: string[];
}

async function startSmtp(port: number): Promise<SmtpProcess> {
  // node with tsx's loader (one process, not the tsx wrapper), so SIGKILL hits the server.
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/faults/smtp-process.ts')], {
    cwd: ROOT,
    env: { ...process.env, SMTP_PORT: String(port) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const smtp: SmtpProcess = { child, received: [] };
  let listening = false;
  let rest = '';
  child.stdout?.on('data', (d: Buffer) => {
    const lines = (rest + d.toString()).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) {
      if (line === 'LISTENING') listening = true;
      else if (line.startsWith('RECEIVED ')) smtp.received.push(line.slice('RECEIVED '.length));
    }
  });
  await waitFor(async () => listening || child.exitCode !== null, 60_000);
  if (!listening) throw new Error('the SMTP server process did not start');
  return smtp;
}

async function kill9(smtp: SmtpProcess): Promise<void> {
  if (smtp.child.exitCode !== null || smtp.child.signalCode !== null) return;
  const gone = new Promise((r) => smtp.child.once('exit', r));
  smtp.child.kill('SIGKILL');
  await gone;
}

describe('the SMTP server killed -9 while password-reset mails are queued', () => {
  let pg_: PrivatePostgres;
  let nodes: ServerNode[] = [];
  const smtps: SmtpProcess[] = [];
  let smtpPort: number;

  beforeAll(async () => {
    pg_ = await PrivatePostgres.start();
    smtpPort = await freePort();
    smtps.push(await startSmtp(smtpPort));
    const env = {
      ...clusterSecrets(),
      DATABASE_URL: pg_.url,
      TRUST_PROXY: '127.0.0.1',
      SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      MAIL_POLL_INTERVAL: '1',
      // Mails that failed during the outage are retried 2 s later instead of 30 s.
      MAIL_RETRY_DELAY: '2',
      EMAIL_VERIFICATION: 'optional',
      RATE_LIMIT_ACCOUNT_MAIL_PER_MINUTE: '1000',
      RATE_LIMIT_ACCOUNT_MAIL_PER_HOUR: '100000',
    };
    // The first node migrates the database; the second starts on it.
    nodes = [await startNode('m1', env)];
    nodes.push(await startNode('m2', env));
  }, 240_000);

  afterAll(async () => {
    for (const n of nodes) await stopNode(n);
    for (const s of smtps) await kill9(s);
    await pg_?.stop();
  }, 60_000);

  async function query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    const client = new pg.Client({ connectionString: pg_.url });
    await client.connect();
    try {
      return (await client.query(sql, params)).rows as T[];
    } finally {
      await client.end();
    }
  }

  it('delivers every queued mail at least once, none stuck, duplicates only from the kill', async () => {
    const [a, b] = nodes as [ServerNode, ServerNode];
    const registered = await timed(
      a,
      'register',
      '/api/auth/register',
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': '198.51.100.90' },
        body: JSON.stringify({ email: 'seed@example.test', password: PASSWORD, name: 'Seed' }),
      },
      60_000,
    );
    expect(registered.status, registered.body).toBe(201);
    // USERS more accounts, copies of the seed row (one argon2 hash, not USERS of them).
    const columns = (
      await query<{ name: string }>(
        `select column_name as name from information_schema.columns
         where table_name = 'users' and is_generated = 'NEVER' order by ordinal_position`,
      )
    ).map((c) => c.name);
    const values = columns.map((c) =>
      c === 'id' ? 'gen_random_uuid()' : c === 'email' ? `'u' || g || '@example.test'` : `u.${c}`,
    );
    await query(
      `insert into users (${columns.join(', ')})
       select ${values.join(', ')} from users u, generate_series(1, $1::int) g where u.email = 'seed@example.test'`,
      [USERS],
    );

    // The load: one reset request per account, from its own address, alternating nodes, four at
    // a time. The SMTP server is killed once some have arrived, and started again 3 s later.
    const statuses: number[] = [];
    let next = 1;
    const worker = async () => {
      for (let i = next++; i <= USERS; i = next++) {
        const node = i % 2 ? a : b;
        const o = await timed(
          node,
          'forgot',
          '/api/auth/password/forgot',
          {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-forwarded-for': `198.18.70.${i}` },
            body: JSON.stringify({ email: `u${i}@example.test` }),
          },
          30_000,
        );
        statuses.push(o.status);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const load = Promise.all([worker(), worker(), worker(), worker()]);
    // Killed while resets are being delivered: after the seed's mail and five resets arrived.
    await waitFor(async () => (smtps[0]?.received.length ?? 0) >= 6, 60_000);
    await kill9(smtps[0]!);
    await new Promise((r) => setTimeout(r, 3_000));
    smtps.push(await startSmtp(smtpPort));
    await load;
    expect(statuses.every((s) => s === 202)).toBe(true);

    // Every reset mail queued (the request answers first, the mail is queued right after)...
    await waitFor(
      async () => (await query(`select 1 from mail_outbox where template = 'password_reset'`)).length === USERS,
      30_000,
    );
    // ...and sent: none pending, sending or dead (a failed send retries after 30 s, then 1 min).
    await waitFor(
      async () => (await query(`select 1 from mail_outbox where status <> 'sent'`)).length === 0,
      150_000,
    ).catch(() => undefined);
    const rows = await query<{ id: string; status: string; attempts: number }>(
      `select id, status, attempts from mail_outbox`,
    );
    expect(rows.filter((r) => r.status !== 'sent')).toEqual([]);
    // The outage was real: some mail failed at least once and was sent on a later attempt.
    expect(rows.some((r) => r.attempts >= 2)).toBe(true);

    const idOf = (messageId: string) => /^<([0-9a-f-]{36})@/.exec(messageId)?.[1] ?? messageId;
    const [killed, restarted] = smtps.map((s) => s.received.map(idOf)) as [string[], string[]];
    const all = [...killed, ...restarted];
    // At least once: every outbox row arrived.
    expect(rows.map((r) => r.id).filter((id) => !all.includes(id))).toEqual([]);
    // Never twice to one server; a duplicate is a mail the killed server took before the kill.
    for (const list of [killed, restarted]) expect(new Set(list).size).toBe(list.length);
    const duplicates = restarted.filter((id) => killed.includes(id));
    // At most what was in flight when the kill came: one connection per node.
    expect(duplicates.length).toBeLessThanOrEqual(nodes.length);
    process.stderr.write(
      `[smtp] ${rows.length} mails, ${killed.length} before the kill, ${restarted.length} after, ${duplicates.length} duplicate(s), ${rows.filter((r) => r.attempts >= 2).length} retried\n`,
    );
  }, 300_000);
});
