/**
 * A new embedded database (issue 16, footprint): the child process that creates it (initdb) also
 * applies the first migrations, in one transaction, so the server that opens it next has none
 * left to run and never holds the memory they leave in PGlite's WASM heap. Embedded only: these
 * are directories on disk, whatever TEST_DATABASE_URL says.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/index.js';
import { openDatabase } from '../bootstrap.js';
import { openDb } from './index.js';
import { currentVersion, freshDatabaseSteps, migrate } from './migrate.js';
import { migrations } from './migrations/index.js';

const latest = Math.max(...migrations.map((m) => m.id));
let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'pf-pglite-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('a new embedded database', () => {
  it('is migrated by the child that creates it: the opening process finds nothing to apply', async () => {
    const dataDir = path.join(root, 'server');
    const db = await openDatabase(loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir }), { migrateNew: true });
    try {
      // Before this process ran a single migration, every one is recorded...
      expect(await currentVersion(db)).toBe(latest);
      const tables = await db.query<{ n: number }>(
        `select count(*)::int as n from information_schema.tables where table_name in ('users', 'portfolios', 'media')`,
      );
      expect(tables[0]?.n).toBe(3);
      // ...so the migrate() every start runs does no work in this process.
      expect(await migrate(db)).toEqual([]);
    } finally {
      await db.close();
    }
  }, 240_000);

  it('rolls the whole first boot back when a step fails, and fails the start with its error', async () => {
    const dir = path.join(root, 'failing', 'pgdata');
    const steps = [...freshDatabaseSteps(), { sql: 'select * from no_such_table_for_first_boot' }];
    await expect(openDb({ dataDir: dir, firstBoot: steps })).rejects.toThrow(/no_such_table_for_first_boot/);
    // initdb's cluster stays; not one migration of the failed transaction does.
    const db = await openDb({ dataDir: dir });
    try {
      const found = await db.query<{ n: number }>(
        `select count(*)::int as n from information_schema.tables where table_name in ('schema_migrations', 'users')`,
      );
      expect(found[0]?.n).toBe(0);
      // The next start applies them in its own process, as any start with pending migrations.
      expect(await migrate(db)).toEqual(migrations.map((m) => m.id).sort((a, b) => a - b));
    } finally {
      await db.close();
    }
  }, 240_000);

  it('is left unmigrated where the caller did not ask (the CLI: `db migrate` reports what it applies)', async () => {
    const db = await openDatabase(loadConfig({ NODE_ENV: 'test', DATA_DIR: path.join(root, 'cli') }));
    try {
      await expect(currentVersion(db)).rejects.toThrow(/schema_migrations/);
      expect(await migrate(db)).toHaveLength(migrations.length);
    } finally {
      await db.close();
    }
  }, 240_000);
});

describe('the embedded database’s memory settings', () => {
  it('runs with 8 MB of shared buffers, shared memory for 5 connections and no WAL senders', async () => {
    const dataDir = path.join(root, 'settings');
    const db = await openDatabase(loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir }), { migrateNew: true });
    try {
      const rows = await db.query<{ name: string; setting: string; unit: string | null }>(
        `select name, setting, unit from pg_settings where name in ('shared_buffers', 'max_connections', 'max_wal_senders') order by name`,
      );
      expect(rows).toEqual([
        { name: 'max_connections', setting: '5', unit: null },
        { name: 'max_wal_senders', setting: '0', unit: null },
        // 1024 pages of 8 kB
        { name: 'shared_buffers', setting: '1024', unit: '8kB' },
      ]);
    } finally {
      await db.close();
    }
  }, 240_000);
});
