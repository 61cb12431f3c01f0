import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import pg from 'pg';
import { buildApp, type AppDeps } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config/index.js';
import { ManualClock } from '../../src/platform/clock.js';
import { openDb, type Db } from '../../src/platform/db/index.js';
import { migrate } from '../../src/platform/db/migrate.js';
import { openKv } from '../../src/platform/kv/index.js';
import { openMigratedPglite } from './pglite-template.js';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from './services.js';

export interface TestApp {
  app: FastifyInstance;
  deps: AppDeps;
  clock: ManualClock;
  config: Config;
  close(): Promise<void>;
}

export type DbKind = 'pglite' | 'postgres';

/**
 * Opens an isolated database: in-memory PGlite, or a fresh schema of TEST_DATABASE_URL, so test
 * files can run in parallel against one PostgreSQL without seeing each other's rows. `kind`
 * defaults to PostgreSQL when the run has one. Unmigrated (tests of the migrations start from
 * zero) unless `migrated`: then every migration is applied (PGlite: a copy of the run's migrated
 * template, test/helpers/pglite-template.ts).
 */
export async function openTestDb(
  kind: DbKind = TEST_DATABASE_URL ? 'postgres' : 'pglite',
  poolSize = 5,
  options: { migrated?: boolean } = {},
): Promise<{ db: Db; drop: () => Promise<void> }> {
  if (kind === 'pglite') {
    const db = options.migrated ? await openMigratedPglite() : await openDb({ dataDir: 'memory://' });
    return { db, drop: () => db.close() };
  }
  if (!TEST_DATABASE_URL) throw new Error('TEST_DATABASE_URL is not set');
  const url = TEST_DATABASE_URL;
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  const db = await openDb({ url, dataDir: 'unused', schema, poolSize });
  if (options.migrated) await migrate(db);
  return {
    db,
    drop: async () => {
      await db.close();
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query(`drop schema ${schema} cascade`);
      await c.end();
    },
  };
}

export async function buildTestApp(
  env: Record<string, string> = {},
  /** A logger for this app (test/support/logs/capture.ts captures one); none by default. */
  options: {
    logger?: FastifyServerOptions['logger'];
    features?: NonNullable<Parameters<typeof buildApp>[1]>['features'];
  } = {},
): Promise<TestApp> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'pf-test-'));
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATA_DIR: dataDir,
    PASSWORD_MIN_SCORE: '3',
    KV_PREFIX: `test:${randomBytes(4).toString('hex')}:`,
    ...(TEST_REDIS_URL ? { REDIS_URL: TEST_REDIS_URL } : {}),
    // The shield is off unless a test opts in: many tests log in and register over and over
    // from the one inject address, and a busy test machine must not shed their requests.
    RATE_LIMIT_ENABLED: 'false',
    AUTO_BLOCK_ENABLED: 'false',
    LOAD_SHED_MAX_EVENT_LOOP_DELAY: '0',
    ...env,
  });
  const clock = new ManualClock(new Date());
  const { db, drop } = await openTestDb(undefined, undefined, { migrated: true });
  const kv = await openKv({ url: config.REDIS_URL, prefix: config.KV_PREFIX, now: () => clock.now().getTime() });
  const deps: AppDeps = { config, db, kv, clock, secrets: { jwt: randomBytes(32).toString('hex') } };
  const app = await buildApp(deps, {
    logger: options.logger ?? false,
    ...(options.features ? { features: options.features } : {}),
  });
  await app.ready();
  return {
    app,
    deps,
    clock,
    config,
    close: async () => {
      await app.close();
      await kv.close();
      await drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
