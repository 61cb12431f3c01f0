/**
 * `npm run bench:audit`: the audit log's write path and verifier, side by side in one run.
 *
 *   BENCH_DATABASE_URL=postgres://... npm run bench:audit          # (or TEST_DATABASE_URL) PostgreSQL
 *   npm run bench:audit                                             # PGlite when no URL is set
 *   BENCH_AUDIT_EVENTS=40000 BENCH_AUDIT_CLIENTS=8 npm run bench:audit
 *
 * Variants (each with BENCH_AUDIT_CLIENTS concurrent clients writing the same event rows):
 *   plain insert             single-row INSERT per event into a table without chaining (the baseline)
 *   naive chain              one transaction per event: advisory lock, read the head, hash, insert
 *   chained (inbox+sealer)   app.audit.record(): INSERT into the inbox; the sealer chains in batches.
 *                            Timed until the last event is chained (flush), not just written.
 *   plain insert in tx       BEGIN; INSERT; COMMIT per event (a state change's own transaction)
 *   chained in caller tx     BEGIN; record(event, tx); COMMIT, timed until chained
 *   audit verify             the verifier over the chain written above (events/s)
 * Each variant runs in BENCH_AUDIT_ROUNDS rounds (default 4) interleaved with the others, so load
 * from other processes on a shared machine skews all of them alike; the ratios are what to read.
 * Goals (issue): chained >= 5,000 events/s and >= 0.5x plain inserts; verify >= 100,000 events/s.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { loadConfig } from '../src/config/index.js';
import { systemClock } from '../src/platform/clock.js';
import { openDb, type Db } from '../src/platform/db/index.js';
import { migrate } from '../src/platform/db/migrate.js';
import { GENESIS_HASH, chainHash } from '../src/security/audit/canonical.js';
import { createAuditService, type AuditService } from '../src/security/audit/service.js';

const url = process.env['BENCH_DATABASE_URL'] || process.env['TEST_DATABASE_URL'] || undefined;
const TOTAL = Number(process.env['BENCH_AUDIT_EVENTS'] ?? 40_000);
const CLIENTS = Number(process.env['BENCH_AUDIT_CLIENTS'] ?? 8);
const PER_CLIENT = Math.ceil(TOTAL / CLIENTS);
const ROUNDS = Number(process.env['BENCH_AUDIT_ROUNDS'] ?? 4);

interface Row {
  name: string;
  baseline?: string;
  events: number;
  seconds: number;
  latencies: number[];
  errors: number;
}

const event = (client: number, i: number) => ({
  action: 'bench.audit.write',
  actor: '0195f3a0-0000-7000-8000-00000000000' + String(client % 10),
  outcome: 'success' as const,
  target: { type: 'portfolio', id: `p-${client}-${i}` },
  ip: '203.0.113.9',
  userAgent: 'Mozilla/5.0 (X11; Linux x86_64) bench',
  requestId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
  metadata: { client, i, route: '/api/portfolios/:id', status: 200 },
});

async function openSchema(): Promise<{ db: Db; drop: () => Promise<void>; label: string }> {
  if (!url) {
    const db = await openDb({ dataDir: 'memory://' });
    return { db, drop: () => db.close(), label: 'PGlite (in memory)' };
  }
  const schema = `bench_audit_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  const db = await openDb({ url, dataDir: 'unused', schema, poolSize: CLIENTS + 2 });
  return {
    db,
    label: 'PostgreSQL',
    drop: async () => {
      await db.close();
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query(`drop schema ${schema} cascade`);
      await c.end();
    },
  };
}

interface Variant {
  name: string;
  baseline?: string;
  op: (client: number, i: number) => Promise<void>;
  /** Runs after the clients finish and is timed too (the chained variants wait until chained). */
  after?: () => Promise<void>;
}

/** One round of one variant: CLIENTS clients, `perClient` events each; adds into the variant's row. */
async function round(v: Variant, row: Row, perClient: number, offset: number): Promise<void> {
  let errors = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, client) => {
      for (let i = offset; i < offset + perClient; i++) {
        const t0 = performance.now();
        try {
          await v.op(client, i);
        } catch {
          errors++;
        }
        row.latencies.push(performance.now() - t0);
      }
    }),
  );
  if (v.after) await v.after();
  row.seconds += (performance.now() - started) / 1000;
  row.events += CLIENTS * perClient;
  row.errors += errors;
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0;
}

function table(rows: Row[]): string {
  const rate = (r: Row) => r.events / r.seconds;
  const header = ['variant', 'events/s', 'p50 ms', 'p99 ms', 'errors', 'ratio'];
  const body = rows.map((r) => {
    const sorted = [...r.latencies].sort((a, b) => a - b);
    const base = rows.find((x) => x.name === r.baseline);
    return [
      r.name,
      rate(r).toFixed(0),
      sorted.length ? pct(sorted, 50).toFixed(2) : '-',
      sorted.length ? pct(sorted, 99).toFixed(2) : '-',
      String(r.errors),
      base ? `${(rate(r) / rate(base)).toFixed(2)}x of ${base.name}` : 'baseline',
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]?.length ?? 0)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

const { db, drop, label } = await openSchema();
const dataDir = await mkdtemp(path.join(os.tmpdir(), 'pf-bench-audit-'));
let audit: AuditService | undefined;
try {
  await migrate(db);
  // Same columns as the inbox, no triggers: what "just insert the row" costs.
  await db.exec(`create table bench_plain (like audit_inbox including defaults including identity);
                 create table bench_naive (like audit_events)`);
  await db.exec(`create unique index on bench_naive (seq)`);
  const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', DATA_DIR: dataDir });
  audit = await createAuditService({ db, clock: systemClock, config }, { createKey: true });
  audit.start();
  const a = audit;

  const insertPlain = (q: Pick<Db, 'query'>, client: number, i: number) => {
    const e = event(client, i);
    return q.query(
      `insert into bench_plain (time, action, actor, outcome, ip, user_agent, target_type, target_id, request_id, metadata)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [new Date(), e.action, e.actor, e.outcome, e.ip, e.userAgent, e.target.type, e.target.id, e.requestId, JSON.stringify(e.metadata)],
    );
  };

  // Warm-up (connections, plans, JIT) so the first variant measured is not the one that pays for it.
  await Promise.all(Array.from({ length: CLIENTS }, (_, c) => (async () => {
    for (let i = 0; i < 200; i++) {
      await insertPlain(db, c, i);
      await a.record(event(c, i));
    }
  })()));
  await a.flush();
  await db.exec('truncate bench_plain');

  process.stderr.write(`audit bench on ${label}: ${CLIENTS} clients x ${PER_CLIENT} events per variant in ${ROUNDS} rounds\n`);
  const naive = async (c: number, i: number) => {
    await db.transaction(async (tx) => {
      await tx.query(`select pg_advisory_xact_lock(hashtext('bench-naive:' || current_schema()))`);
      const head = (await tx.query<{ seq: string; hash: string }>(`select seq, hash from bench_naive order by seq desc limit 1`))[0];
      const e = event(c, i);
      const content = {
        seq: Number(head?.seq ?? 0) + 1,
        v: 1,
        time: new Date().toISOString(),
        action: e.action,
        actor: e.actor,
        outcome: e.outcome,
        ip: e.ip,
        userAgent: e.userAgent,
        targetType: e.target.type,
        targetId: e.target.id,
        requestId: e.requestId,
        metadata: e.metadata,
      };
      const prev = head?.hash ?? GENESIS_HASH;
      await tx.query(
        `insert into bench_naive (seq, v, time, action, actor, outcome, ip, user_agent, target_type, target_id, request_id, metadata, prev_hash, hash)
         values ($1, 1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
        [content.seq, content.time, e.action, e.actor, e.outcome, e.ip, e.userAgent, e.target.type, e.target.id, e.requestId, JSON.stringify(e.metadata), prev, chainHash(content, prev)],
      );
    });
  };

  const variants: Variant[] = [
    { name: 'plain insert', op: async (c, i) => void (await insertPlain(db, c, i)) },
    { name: 'naive chain (lock per event)', baseline: 'plain insert', op: naive },
    { name: 'chained (inbox+sealer)', baseline: 'plain insert', op: (c, i) => a.record(event(c, i)), after: () => a.flush() },
    { name: 'plain insert in tx', op: (c, i) => db.transaction(async (tx) => void (await insertPlain(tx, c, i))) },
    { name: 'chained in caller tx', baseline: 'plain insert in tx', op: (c, i) => db.transaction((tx) => a.record(event(c, i), tx)), after: () => a.flush() },
  ];
  const rows: Row[] = variants.map((v) => ({ name: v.name, ...(v.baseline ? { baseline: v.baseline } : {}), events: 0, seconds: 0, latencies: [], errors: 0 }));
  // Rounds interleave the variants, so a load change on a shared machine hits all of them alike.
  const perRound = Math.max(1, Math.floor(PER_CLIENT / ROUNDS));
  for (let r = 0; r < ROUNDS; r++) {
    for (const [k, v] of variants.entries()) await round(v, rows[k]!, perRound, r * perRound);
    process.stderr.write(`  round ${r + 1}/${ROUNDS}: ${rows.map((x) => `${x.name} ${Math.round(x.events / x.seconds)}/s`).join(', ')}\n`);
  }

  const verified = await a.verify();
  if (!verified.ok) throw new Error(`the chain does not verify: ${JSON.stringify(verified.damage)}`);
  rows.push({ name: 'audit verify', events: verified.events, seconds: verified.ms / 1000, latencies: [], errors: 0 });
  process.stderr.write(`  audit verify: ${Math.round(verified.events / (verified.ms / 1000))} events/s\n`);

  process.stdout.write(`\nAudit log benchmark on ${label}: ${CLIENTS} concurrent clients, ${CLIENTS * PER_CLIENT} events per variant, node ${process.version}\n\n`);
  process.stdout.write(`${table(rows)}\n\n`);
  const rate = (n: string) => {
    const r = rows.find((x) => x.name === n);
    return r ? r.events / r.seconds : 0;
  };
  const goals = [
    ['chained >= 5,000 events/s', rate('chained (inbox+sealer)') >= 5000],
    ['chained >= 0.5x plain inserts', rate('chained (inbox+sealer)') / rate('plain insert') >= 0.5],
    ['verify >= 100,000 events/s', rate('audit verify') >= 100_000],
  ] as const;
  if (!url) process.stdout.write('(the goals are set for PostgreSQL; set BENCH_DATABASE_URL to measure them)\n');
  for (const [goal, met] of goals) process.stdout.write(`${met ? 'met   ' : 'MISSED'}  ${goal}\n`);
  if (rows.some((r) => r.errors > 0)) process.exitCode = 1;
} finally {
  await audit?.stop();
  await drop();
  await rm(dataDir, { recursive: true, force: true });
}
