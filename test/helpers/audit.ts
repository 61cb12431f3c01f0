/**
 * Test support for the audit log (src/security/audit/): a bare AuditService on an isolated
 * database of an explicit kind, so one test file can run the same suite on PGlite and PostgreSQL.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/index.js';
import { ManualClock } from '../../src/platform/clock.js';
import type { Db } from '../../src/platform/db/index.js';
import { migrate } from '../../src/platform/db/migrate.js';
import { createAuditService, type AuditService } from '../../src/security/audit/service.js';
import { openTestDb, type DbKind } from './app.js';
import { openMigratedPglite } from './pglite-template.js';
import { TEST_DATABASE_URL } from './services.js';

export type { DbKind } from './app.js';

/** PGlite always; PostgreSQL too when TEST_DATABASE_URL is set. */
export const DB_KINDS: DbKind[] = TEST_DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];

let sharedPglite: Promise<Db> | undefined;

/**
 * A fresh, migrated schema. PGlite takes seconds to boot, so one instance per test file is
 * shared and each call gets its own schema on it (PGlite is a single session: search_path is
 * switched for the whole instance, which is fine because a test file runs its tests one by one).
 */
export async function freshDb(kind: DbKind, poolSize = 10): Promise<{ db: Db; drop: () => Promise<void> }> {
  const schema = `a_${randomBytes(6).toString('hex')}`;
  if (kind === 'pglite') {
    sharedPglite ??= openMigratedPglite();
    const db = await sharedPglite;
    await db.exec(`create schema ${schema}; set search_path to ${schema}`);
    await migrate(db);
    return { db, drop: async () => db.exec(`set search_path to public; drop schema ${schema} cascade`) };
  }
  const opened = await openTestDb('postgres', poolSize);
  await migrate(opened.db);
  return opened;
}

export interface AuditFixture {
  db: Db;
  audit: AuditService;
  clock: ManualClock;
  dataDir: string;
  env: Record<string, string>;
  close(): Promise<void>;
}

export async function auditFixture(
  kind: DbKind,
  env: Record<string, string> = {},
  options: { batchSize?: number; poolSize?: number } = {},
): Promise<AuditFixture> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'pf-audit-'));
  const fullEnv = { NODE_ENV: 'test', LOG_LEVEL: 'silent', DATA_DIR: dataDir, ...env };
  const config = loadConfig(fullEnv);
  const clock = new ManualClock(new Date('2026-03-01T12:00:00Z'));
  const { db, drop } = await freshDb(kind, options.poolSize);
  const audit = await createAuditService(
    { db, clock, config },
    { createKey: true, ...(options.batchSize ? { batchSize: options.batchSize } : {}) },
  );
  return {
    db,
    audit,
    clock,
    dataDir,
    env: fullEnv,
    close: async () => {
      await audit.stop();
      await drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Runs SQL as someone who bypasses the append-only triggers (an attacker with owner rights). */
export async function asAttacker(db: Db, fn: (q: { query: Db['query'] }) => Promise<void>): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query(`set local session_replication_role = replica`);
    await fn(tx);
  });
}
