/**
 * `npx tsx bench/audit-pii.ts`: what encrypting the audit log's personal data (src/security/audit/pii.ts)
 * costs the sealer, side by side in one run.
 *
 *   BENCH_DATABASE_URL=postgres://... npx tsx bench/audit-pii.ts     # (or TEST_DATABASE_URL) PostgreSQL
 *   npx tsx bench/audit-pii.ts                                      # PGlite when no URL is set
 *   BENCH_PII_EVENTS=4000 BENCH_PII_SUBJECTS=200 BENCH_PII_ROUNDS=4 npx tsx bench/audit-pii.ts
 *
 * Variants, interleaved in rounds (load from other processes skews both alike; read the ratio):
 *   sealer, clear      a sealer without encryption (the code before migration 0020)
 *   sealer, encrypted  the application's sealer: IP, user agent and an email per event encrypted
 *                      under BENCH_PII_SUBJECTS users' monthly keys (created in the first round,
 *                      then read per batch and unwrapped from the LRU cache)
 * Both seal the same inbox rows (inserted before the timer starts): `record()`, the request path
 * (login), is one INSERT in both cases and does no cryptography.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { loadConfig } from '../src/config/index.js';
import { systemClock } from '../src/platform/clock.js';
import { openDb, type Db } from '../src/platform/db/index.js';
import { migrate } from '../src/platform/db/migrate.js';
import { cleanEvent } from '../src/security/audit/event.js';
import { Sealer } from '../src/security/audit/sealer.js';
import { createAuditService } from '../src/security/audit/service.js';

const url = process.env['BENCH_DATABASE_URL'] || process.env['TEST_DATABASE_URL'] || undefined;
const EVENTS = Number(process.env['BENCH_PII_EVENTS'] ?? 4000);
const SUBJECTS = Number(process.env['BENCH_PII_SUBJECTS'] ?? 200);
const ROUNDS = Number(process.env['BENCH_PII_ROUNDS'] ?? 4);

async function openSchema(): Promise<{ db: Db; drop: () => Promise<void>; label: string }> {
  if (!url) {
    const db = await openDb({ dataDir: 'memory://' });
    return { db, drop: () => db.close(), label: 'PGlite (in memory)' };
  }
  const schema = `bench_pii_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  const db = await openDb({ url, dataDir: 'unused', schema, poolSize: 4 });
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

const { db, drop, label } = await openSchema();
const dataDir = await mkdtemp(path.join(os.tmpdir(), 'pf-bench-pii-'));
try {
  await migrate(db);
  // The same sealer settings for both: no checkpoint inside the timed drains.
  const config = loadConfig({
    NODE_ENV: 'test',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    AUDIT_CHECKPOINT_EVERY: '10000000',
    AUDIT_CHECKPOINT_INTERVAL: '86400',
  });
  const audit = await createAuditService({ db, clock: systemClock, config }, { createKey: true });
  const clear = new Sealer({
    db,
    clock: systemClock,
    key: audit.signingKey,
    files: audit.files,
    checkpointEvery: 10_000_000,
    checkpointIntervalS: 86_400,
  });
  const users = Array.from({ length: SUBJECTS }, () => randomUUID());
  const fill = async () => {
    for (let i = 0; i < EVENTS; i++) {
      const user = users[i % users.length]!;
      await audit.repo.insertInbox(
        cleanEvent(
          {
            action: 'auth.login.succeeded',
            actor: user,
            outcome: 'success',
            target: { type: 'user', id: user },
            ip: `203.0.113.${i % 250}`,
            userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
            metadata: { email: `user-${i % users.length}@example.test`, method: 'password' },
          },
          new Date(),
        ),
      );
    }
  };
  const seconds = { clear: 0, encrypted: 0 };
  for (let r = 0; r < ROUNDS; r++) {
    for (const variant of r % 2 === 0 ? (['clear', 'encrypted'] as const) : (['encrypted', 'clear'] as const)) {
      await fill();
      const t0 = performance.now();
      await (variant === 'clear' ? clear.drain() : audit.sealer.drain());
      seconds[variant] += (performance.now() - t0) / 1000;
    }
  }
  const rate = (s: number) => (EVENTS * ROUNDS) / s;
  console.log(`${label}: ${EVENTS} events x ${ROUNDS} rounds, ${SUBJECTS} subjects`);
  console.log(`  sealer, clear      ${rate(seconds.clear).toFixed(0)} events/s`);
  console.log(`  sealer, encrypted  ${rate(seconds.encrypted).toFixed(0)} events/s`);
  console.log(`  ratio              ${(rate(seconds.encrypted) / rate(seconds.clear)).toFixed(2)}x of clear`);
  console.log(`  unwrapped keys cached: ${audit.pii.cached}`);
} finally {
  await drop();
  await rm(dataDir, { recursive: true, force: true });
}
