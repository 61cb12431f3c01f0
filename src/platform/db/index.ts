import type { PGlite } from '@electric-sql/pglite';
import type pg from 'pg';
import { lazyModule } from '../lazy.js';
import { openPgliteClient } from './pglite.js';

/** Only the driver the configuration asks for is loaded: PGlite (./pglite.ts) when embedded, pg otherwise. */
const loadPg = lazyModule(async (): Promise<(typeof import('pg'))['default']> => (await import('pg')).default);

/** Anything that runs SQL: the database itself or an open transaction. */
export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface Db extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /** Runs fn in one transaction; commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Work to do once the transaction `q` has committed (announcing a change to other nodes, say):
 * dropped when it rolls back. Outside a transaction (`q` is the Db itself) the statement already
 * committed, so `fn` runs at once. Hooks run in order before `transaction()` resolves; one that
 * throws does not stop the others, and never turns a committed transaction into an error.
 */
export function afterCommit(q: Queryable, fn: () => void): void {
  const hooks = commitHooks.get(q);
  if (hooks) hooks.push(fn);
  else runHook(fn);
}

const commitHooks = new WeakMap<Queryable, (() => void)[]>();

function runHook(fn: () => void): void {
  try {
    fn();
  } catch {
    // The data is committed; a hook's failure is the hook's to report (see afterCommit).
  }
}

/** Makes `tx` (a fresh transaction handle) collect afterCommit hooks; returns the list. */
function collectHooks(tx: Queryable): (() => void)[] {
  const hooks: (() => void)[] = [];
  commitHooks.set(tx, hooks);
  return hooks;
}

export interface DbOptions {
  /** PostgreSQL URL; absent means the embedded PGlite database. */
  url?: string | undefined;
  /** Folder for PGlite's files; `memory://` keeps it in memory (tests). */
  dataDir: string;
  poolSize?: number;
  /** PostgreSQL schema to use as search_path (tests isolate each file in its own schema). */
  schema?: string;
}

export async function openDb(options: DbOptions): Promise<Db> {
  return options.url ? openPostgres(options.url, options) : openPglite(options.dataDir);
}

async function openPglite(dataDir: string): Promise<Db> {
  return pgliteDb(await openPgliteClient(dataDir));
}

/**
 * A Db over an open PGlite instance (the CLI's backup commands share theirs with the audit log).
 * PGlite is one connection: its transaction() holds an exclusive lock, so queries from other
 * requests wait for the transaction to end instead of interleaving with it.
 */
export function pgliteDb(client: PGlite): Db {
  const run = async <T>(q: Pick<PGlite, 'query'>, sql: string, params?: readonly unknown[]) =>
    (await q.query<T>(sql, params as unknown[] | undefined)).rows;
  const wrap = (q: Pick<PGlite, 'query' | 'exec'>): Queryable => ({
    query: (sql, params) => run(q, sql, params),
    exec: async (sql) => {
      await q.exec(sql);
    },
  });
  return {
    kind: 'pglite',
    ...wrap(client),
    transaction: async (fn) => {
      let hooks: (() => void)[] = [];
      const result = await client.transaction((tx) => {
        const handle = wrap(tx);
        hooks = collectHooks(handle);
        return fn(handle);
      });
      hooks.forEach(runHook);
      return result;
    },
    ping: async () => {
      await client.query('select 1');
    },
    close: () => client.close(),
  };
}

async function openPostgres(url: string, options: DbOptions): Promise<Db> {
  const { Pool } = await loadPg();
  const pool = new Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: 5_000,
    // Identifiers cannot be bound as parameters; the schema name is checked before it gets here.
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
  });
  // An idle client that dies (server restart) must not crash the process.
  pool.on('error', () => undefined);
  const run = async <T>(q: pg.Pool | pg.PoolClient, sql: string, params?: readonly unknown[]) =>
    (await q.query(sql, params as unknown[] | undefined)).rows as T[];
  const wrap = (q: pg.Pool | pg.PoolClient): Queryable => ({
    query: (sql, params) => run(q, sql, params),
    exec: async (sql) => {
      await q.query(sql);
    },
  });
  await run(pool, 'select 1');
  return {
    kind: 'postgres',
    ...wrap(pool),
    transaction: async (fn) => {
      const client = await pool.connect();
      try {
        const handle = wrap(client);
        const hooks = collectHooks(handle);
        await client.query('begin');
        const result = await fn(handle);
        await client.query('commit');
        hooks.forEach(runHook);
        return result;
      } catch (err) {
        await client.query('rollback').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    ping: async () => {
      await pool.query('select 1');
    },
    close: () => pool.end(),
  };
}

/** SQLSTATE of a PostgreSQL error (both drivers expose `code`). */
export function pgErrorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export const UNIQUE_VIOLATION = '23505';
