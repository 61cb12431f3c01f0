/**
 * Fixtures for the backup tests (not used by the application): a database of each kind with
 * some data, settings pointing at a temporary folder, and a row-by-row fingerprint of a whole
 * database to compare before and after.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { loadConfig } from '../../../src/config/index.js';
import { ManualClock } from '../../../src/platform/clock.js';
import { openDb, type Db } from '../../../src/platform/db/index.js';
import { migrate } from '../../../src/platform/db/migrate.js';
import type { BackupAudit, BackupContext } from '../../../src/backup/create.js';
import type { DbTarget } from '../../../src/backup/db.js';
import { backupSettings } from '../../../src/backup/settings.js';

export const PASSPHRASE = 'test passphrase, long enough 1234';

export type Kind = 'pglite' | 'postgres';

export interface Fixture {
  kind: Kind;
  target: DbTarget;
  /** Runs SQL against the database. */
  sql(text: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  url?: string;
  close(): Promise<void>;
}

export async function scratchPostgres(baseUrl: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `bk_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const u = new URL(baseUrl);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: baseUrl });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

/** A migrated database of the given kind (PGlite in memory, or a scratch PostgreSQL database). */
export async function fixture(kind: Kind, baseUrl: string | undefined): Promise<Fixture> {
  if (kind === 'pglite') {
    const pgl = await PGlite.create();
    const db = pgliteAsDb(pgl);
    await migrate(db);
    return {
      kind,
      target: { kind: 'pglite', pg: pgl, label: 'memory' },
      sql: async (text, params) => (await pgl.query<Record<string, unknown>>(text, params)).rows,
      close: () => pgl.close(),
    };
  }
  if (!baseUrl) throw new Error('TEST_DATABASE_URL is not set');
  const scratch = await scratchPostgres(baseUrl);
  const db = await openDb({ url: scratch.url, dataDir: 'unused', poolSize: 2 });
  await migrate(db);
  return {
    kind,
    target: { kind: 'postgres', url: scratch.url },
    url: scratch.url,
    sql: (text, params) => db.query(text, params),
    close: async () => {
      await db.close();
      await scratch.drop();
    },
  };
}

export function pgliteAsDb(pgl: PGlite): Db {
  return {
    kind: 'pglite',
    query: async <T>(sql: string, params?: readonly unknown[]) =>
      (await pgl.query<T>(sql, params as unknown[] | undefined)).rows,
    exec: async (sql) => {
      await pgl.exec(sql);
    },
    transaction: (fn) =>
      pgl.transaction((tx) =>
        fn({
          query: async <T>(sql: string, params?: readonly unknown[]) =>
            (await tx.query<T>(sql, params as unknown[] | undefined)).rows,
          exec: async (sql) => {
            await tx.exec(sql);
          },
        }),
      ),
    ping: async () => undefined,
    close: () => pgl.close(),
  };
}

/** Users and a few rows of every kind of value the dump must carry (quotes, newlines, json, bytes, NULL). */
export async function seed(f: Fixture, n = 5): Promise<void> {
  await f.sql(`create table if not exists bk_values (
    id integer generated always as identity primary key,
    label text not null,
    payload jsonb,
    blob bytea,
    amount numeric(12, 3),
    at timestamptz not null default now(),
    tags text[],
    ratio double precision,
    span interval,
    flag boolean,
    day date,
    doubled numeric generated always as (amount * 2) stored
  )`);
  for (let i = 0; i < n; i++) {
    await f.sql(
      `insert into bk_values (label, payload, blob, amount, tags, ratio, span, flag, day) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [
        `row ${i}; it's "quoted"\nwith a newline and $$dollars$$ \\ backslash`,
        JSON.stringify({ i, nested: { ok: true, s: 'ünïcødé' } }),
        Buffer.from([0, 1, 2, 255, i]),
        i * 1.5,
        [`t${i}`, 'x,y'],
        i === 0 ? null : 1 / (i * 3),
        `${i} days 03:04:05.5`,
        i % 2 === 0,
        `2026-0${(i % 9) + 1}-1${i % 10}`,
      ],
    );
  }
  await f.sql(`insert into users (id, email, name, password_hash) values ($1, $2, 'Seed', 'x')`, [
    randomUUID(),
    `seed-${randomUUID()}@example.test`,
  ]);
}

/** Every row of every user table, as text, sorted: equal fingerprints mean equal data. */
export async function fingerprint(f: Fixture): Promise<Record<string, string[]>> {
  const tables = (await f.sql(
    `select n.nspname as s, c.relname as t from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.relkind = 'r' and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_%' order by 1, 2`,
  )) as { s: string; t: string }[];
  const out: Record<string, string[]> = {};
  for (const { s, t } of tables) {
    const rows = (await f.sql(`select md5(r::text) as h from "${s}"."${t}" r order by 1`)) as { h: string }[];
    out[`${s}.${t}`] = rows.map((r) => r.h);
  }
  return out;
}

export interface Env {
  dir: string;
  ctx: BackupContext;
  clock: ManualClock;
  events: { action: string; target: string }[];
  passphraseFile: string;
  env: Record<string, string>;
  close(): Promise<void>;
}

/** Settings on a temporary folder, a manual clock, and audit events collected in memory. */
export async function backupEnv(extra: Record<string, string> = {}): Promise<Env> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pf-backup-'));
  const passphraseFile = path.join(dir, 'passphrase');
  await writeFile(passphraseFile, `${PASSPHRASE}\n`, { mode: 0o600 });
  const env = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATA_DIR: path.join(dir, 'data'),
    BACKUP_PASSPHRASE_FILE: passphraseFile,
    ...extra,
  };
  const config = loadConfig(env);
  const clock = new ManualClock(new Date('2026-03-01T02:00:00Z'));
  const events: { action: string; target: string }[] = [];
  const audit: BackupAudit = async (e) => {
    events.push({ action: e.action, target: e.target });
  };
  return {
    dir,
    ctx: { settings: backupSettings(config), clock, audit },
    clock,
    events,
    passphraseFile,
    env,
    close: () => rm(dir, { recursive: true, force: true }),
  };
}
