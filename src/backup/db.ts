/**
 * The databases a backup reads from and restores into: PostgreSQL (through pg_dump and psql, as
 * an operator would) or an embedded PGlite instance (through @electric-sql/pglite-tools' pg_dump
 * and statement-by-statement execution). Also the per-table checksums that let a drill prove a
 * restore gave back exactly the data the backup saw.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { PGlite } from '@electric-sql/pglite';
import type pg from 'pg';
import { lazyModule } from '../platform/lazy.js';
import { backupErrors, messageOf } from './errors.js';
import type { TableChecksum } from './metadata.js';
import { pgliteDumpStream } from './pglite-dump.js';
import {
  queryOf,
  schemaVersionOf,
  serverVersion,
  snapshotInfo,
  tableDigest,
  userTables,
  useStableText,
  type Query,
} from './repository.js';

export type DbTarget =
  { kind: 'postgres'; url: string } | { kind: 'pglite'; pg: PGlite; /** where it lives, for messages */ label: string };

export function describeTarget(target: DbTarget): string {
  if (target.kind === 'pglite') return `the embedded database (${target.label})`;
  const u = new URL(target.url);
  return `PostgreSQL database "${decodeURIComponent(u.pathname.slice(1))}" on ${u.hostname}${u.port ? `:${u.port}` : ''}`;
}

/**
 * pg_dump and psql get the URL without its password (command lines are visible to every user
 * of the machine through ps) and the password through PGPASSWORD.
 */
export function connInfo(url: string): { arg: string; env: Record<string, string> } {
  const u = new URL(url);
  const password = decodeURIComponent(u.password);
  u.password = '';
  return { arg: u.toString(), env: password ? { PGPASSWORD: password } : {} };
}

export function pgBinary(binDir: string | undefined, name: 'pg_dump' | 'psql'): string {
  return binDir ? path.join(binDir, name) : name;
}

/**
 * Per table: the row count and an order-independent digest of every row's text form (the sum,
 * as numeric, of the two halves of each row's md5). One streaming aggregate per table: no
 * sorting and no memory that grows with the table. Must run inside a transaction (SET LOCAL).
 */
export async function tableChecksums(query: Query): Promise<TableChecksum[]> {
  await useStableText(query);
  const tables = await userTables(query);
  const out: TableChecksum[] = [];
  for (const t of tables) {
    const row = await tableDigest(query, t);
    const rows = Number(row?.rows ?? 0);
    const checksum = createHash('sha256')
      .update(`${rows}:${row?.a ?? 0}:${row?.b ?? 0}`)
      .digest('hex')
      .slice(0, 32);
    out.push({ schema: t.schema, name: t.name, rows, checksum });
  }
  return out;
}

/** A connected client, or DUMP_FAILED naming the target (never its password). */
/** pg loads for a PostgreSQL backup only: the embedded database and `backup list` never need it. */
const loadPg = lazyModule(async (): Promise<(typeof import('pg'))['default']> => (await import('pg')).default);

async function connectPg(url: string): Promise<pg.Client> {
  const { Client } = await loadPg();
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    throw backupErrors.dumpFailed(
      `Cannot connect to ${describeTarget({ kind: 'postgres', url })}: ${messageOf(err)}`,
      err,
    );
  }
  return client;
}

export async function withPgClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = await connectPg(url);
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Checksums of a whole database, in one read-only snapshot. */
export async function checksumsOf(target: DbTarget): Promise<TableChecksum[]> {
  if (target.kind === 'pglite') return target.pg.transaction((tx) => tableChecksums(queryOf(tx)));
  return withPgClient(target.url, async (client) => {
    await client.query('begin isolation level repeatable read read only');
    try {
      return await tableChecksums(queryOf(client));
    } finally {
      await client.query('rollback');
    }
  });
}

export interface Dump {
  engine: 'postgres' | 'pglite';
  database: string;
  postgresVersion: string;
  schemaVersion: number;
  dumper: string;
  /** Computed beside the dump (same snapshot on PostgreSQL). */
  tables: Promise<TableChecksum[]>;
  /** The plain SQL dump. */
  stream: Readable;
  /** Resolves when the dumper finished successfully; rejects with its error message. */
  done: Promise<void>;
  /** Stops the dumper (interrupted backup). */
  abort(): void;
}

/**
 * Starts a dump. On PostgreSQL the checksums and pg_dump share one snapshot
 * (pg_export_snapshot + pg_dump --snapshot), so the recorded checksums describe exactly the rows
 * in the dump even while the application keeps writing.
 */
export async function startDump(target: DbTarget, binDir: string | undefined): Promise<Dump> {
  return target.kind === 'pglite' ? startPgliteDump(target.pg) : startPgDump(target.url, binDir);
}

async function startPgDump(url: string, binDir: string | undefined): Promise<Dump> {
  const client = await connectPg(url);
  try {
    await client.query('begin isolation level repeatable read read only');
    const q = queryOf(client);
    const info = await snapshotInfo(q);
    if (!info) throw new Error('no answer from the server');
    const schemaVersion = await schemaVersionOf(q);
    const bin = pgBinary(binDir, 'pg_dump');
    const dumper = await toolVersion(bin);
    const { arg, env } = connInfo(url);
    const child = spawn(bin, ['--format=plain', '--no-owner', `--snapshot=${info.snapshot}`, '--dbname', arg], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 4000) stderr += d.toString();
    });
    const exited = new Promise<void>((resolve, reject) => {
      child.on('error', (err) => reject(backupErrors.dumpFailed(`Cannot run ${bin}: ${messageOf(err)}`, err)));
      child.on('close', (code, signal) => {
        if (code === 0) resolve();
        else
          reject(
            backupErrors.dumpFailed(
              `pg_dump failed (${signal ?? `exit ${code}`}): ${stderr.trim().split('\n')[0] ?? ''}`,
            ),
          );
      });
    });
    exited.catch(() => undefined);
    // The checksums run beside pg_dump, in the exported snapshot, on another backend.
    const tables = tableChecksums(q);
    tables.catch(() => undefined);
    const done = Promise.allSettled([exited, tables]).then(async () => {
      await client.query('rollback').catch(() => undefined);
      await client.end().catch(() => undefined);
      await exited;
    });
    done.catch(() => undefined);
    return {
      engine: 'postgres',
      database: info.db,
      postgresVersion: info.version,
      schemaVersion,
      dumper,
      tables,
      stream: child.stdout,
      done,
      abort: () => child.kill('SIGKILL'),
    };
  } catch (err) {
    await client.end().catch(() => undefined);
    throw err instanceof Error && err.name === 'BackupError'
      ? err
      : backupErrors.dumpFailed(`Cannot start the dump: ${messageOf(err)}`, err);
  }
}

/**
 * PGlite: the schema from pglite-tools' pg_dump, the rows streamed through a cursor
 * (pglite-dump.ts). The CLI owns the embedded database while it runs, so checksums taken just
 * before describe the dump.
 */
async function startPgliteDump(pglite: PGlite): Promise<Dump> {
  const version = await serverVersion(queryOf(pglite));
  const schemaVersion = await schemaVersionOf(queryOf(pglite));
  const tables = await pglite.transaction((tx) => tableChecksums(queryOf(tx)));
  const stream = await pgliteDumpStream(pglite);
  return {
    engine: 'pglite',
    database: 'pglite',
    postgresVersion: version ?? 'unknown',
    schemaVersion,
    dumper: `@electric-sql/pglite-tools pg_dump (schema) + streamed INSERTs (PGlite ${pgliteVersion(version)})`,
    tables: Promise.resolve(tables),
    stream,
    done: Promise.resolve(),
    abort: () => stream.destroy(),
  };
}

function pgliteVersion(v: string | undefined): string {
  return v ?? 'unknown';
}

export function toolVersion(bin: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', (err) =>
      reject(
        backupErrors.dumpFailed(
          `Cannot run ${bin} (install the PostgreSQL client or set BACKUP_PG_BIN_DIR): ${messageOf(err)}`,
          err,
        ),
      ),
    );
    child.on('close', (code) =>
      code === 0 ? resolve(out.trim()) : reject(backupErrors.dumpFailed(`${bin} --version failed`)),
    );
  });
}
