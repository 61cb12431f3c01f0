import { createHash } from 'node:crypto';
import type { PGlite } from '@electric-sql/pglite';
import type pg from 'pg';
import { lazyModule } from '../lazy.js';
import type { MigrationStep } from './migrate.js';
import { openPgliteClient } from './pglite.js';
import { classifyDatabaseError, DatabaseUnavailableError } from './unavailable.js';

export { DatabaseUnavailableError, isDatabaseUnavailable } from './unavailable.js';

/** Only the driver the configuration asks for is loaded: PGlite (./pglite.ts) when embedded, pg otherwise. */
const loadPg = lazyModule(async (): Promise<(typeof import('pg'))['default']> => (await import('pg')).default);

export interface QueryOptions {
  /**
   * A hot read whose text never changes (a constant of a repository, never SQL built from a
   * request): the database keeps its plan instead of parsing and planning it on every call. On
   * PostgreSQL a named prepared statement of each pooled connection; on PGlite `PREPARE` once and
   * `EXECUTE` after, when every parameter is a uuid, a safe integer, a boolean or null (anything
   * else runs unprepared). Only outside a transaction: a transaction's queries ignore it. See
   * docs/ARCHITECTURE.md ("Prepared reads").
   */
  prepared?: boolean;
}

/** Anything that runs SQL: the database itself or an open transaction. */
export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[], options?: QueryOptions): Promise<T[]>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

/**
 * Sees every statement the database runs, for tracing (src/security/monitoring/tracing/): gets the
 * statement's text as the caller wrote it (parameterised: values are never passed) and runs it.
 */
export type QueryTracer = <T>(sql: string, run: () => Promise<T>) => Promise<T>;

export interface Db extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /**
   * Puts a tracer around every query and exec of this database and of its transactions, or
   * removes it (undefined). Without one (OTEL_EXPORTER_OTLP_ENDPOINT unset) a statement costs one
   * check. Optional so stand-ins of the Db (tests) need not have it.
   */
  traceQueries?(tracer: QueryTracer | undefined): void;
  /** Runs fn in one transaction; commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  ping(): Promise<void>;
  close(): Promise<void>;
  /** PostgreSQL only: the pool's connections now (for /metrics); PGlite has one in-process connection. */
  poolStats?(): PoolStats;
}

export interface PoolStats {
  /** Connections open, idle among them, and queries waiting for one. */
  total: number;
  idle: number;
  waiting: number;
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
  /** PGlite only: applied by the child that creates a new data directory (src/platform/db/pglite.ts). */
  firstBoot?: readonly MigrationStep[];
}

export async function openDb(options: DbOptions): Promise<Db> {
  return options.url ? openPostgres(options.url, options) : openPglite(options.dataDir, options.firstBoot ?? []);
}

async function openPglite(dataDir: string, firstBoot: readonly MigrationStep[]): Promise<Db> {
  return pgliteDb(await openPgliteClient(dataDir, { firstBoot }));
}

/**
 * A Db over an open PGlite instance (the CLI's backup commands share theirs with the audit log).
 * PGlite is one connection: its transaction() holds an exclusive lock, so queries from other
 * requests wait for the transaction to end instead of interleaving with it.
 */
export function pgliteDb(client: PGlite): Db {
  let tracer: QueryTracer | undefined;
  const traced = <T>(sql: string, fn: () => Promise<T>): Promise<T> => (tracer ? tracer(sql, fn) : fn());
  const run = async <T>(q: Pick<PGlite, 'query'>, sql: string, params?: readonly unknown[]) =>
    (await q.query<T>(sql, params as unknown[] | undefined)).rows;
  const wrap = (q: Pick<PGlite, 'query' | 'exec'>): Queryable => ({
    query: (sql, params) => traced(sql, () => run(q, sql, params)),
    exec: (sql) =>
      traced(sql, async () => {
        await q.exec(sql);
      }),
  });
  const prepared = pglitePrepared(client);
  return {
    kind: 'pglite',
    ...wrap(client),
    // Outside a transaction only: PGlite is one session, so a statement prepared there serves
    // every later call; a transaction's statements run as usual.
    query: (sql, params, options) =>
      traced(sql, () => (options?.prepared ? prepared(sql, params ?? []) : run(client, sql, params))),
    traceQueries: (next) => {
      tracer = next;
    },
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
  const run = async <T>(q: pg.Pool | pg.PoolClient, sql: string, params?: readonly unknown[]): Promise<T[]> => {
    try {
      return (await q.query(sql, params as unknown[] | undefined)).rows as T[];
    } catch (err) {
      throw classifyDatabaseError(err);
    }
  };
  /**
   * Outside a transaction: pg prepares a named statement once per pooled connection and then
   * only binds and executes it. A statement the server no longer accepts (its result type
   * changed under it) is answered unprepared rather than failing.
   */
  const runPrepared = async <T>(sql: string, params?: readonly unknown[]): Promise<T[]> => {
    try {
      return (await pool.query({ name: statementName(sql), text: sql, values: params as unknown[] | undefined }))
        .rows as T[];
    } catch (err) {
      const code = pgErrorCode(err);
      if (code === undefined || !STALE_STATEMENT.has(code)) throw classifyDatabaseError(err);
      return run<T>(pool, sql, params);
    }
  };
  let tracer: QueryTracer | undefined;
  const traced = <T>(sql: string, fn: () => Promise<T>): Promise<T> => (tracer ? tracer(sql, fn) : fn());
  const wrap = (q: pg.Pool | pg.PoolClient): Queryable => ({
    query: (sql, params) => traced(sql, () => run(q, sql, params)),
    exec: (sql) =>
      traced(sql, async () => {
        await run(q, sql);
      }),
  });
  await run(pool, 'select 1');
  return {
    kind: 'postgres',
    ...wrap(pool),
    query: (sql, params, options) =>
      traced(sql, () => (options?.prepared ? runPrepared(sql, params) : run(pool, sql, params))),
    traceQueries: (next) => {
      tracer = next;
    },
    transaction: async (fn) => {
      const client = await pool.connect().catch((err: unknown) => {
        throw classifyDatabaseError(err);
      });
      // A checked-out client has no listener of the pool's: when its connection dies between two
      // statements (a fast shutdown sends FATAL 57P01 to every backend), pg emits 'error' on it,
      // and an 'error' nobody listens to kills the process. Keep it, fail the transaction with it,
      // and hand the client back as broken so the pool opens a new one.
      let broken: unknown;
      const onError = (err: unknown) => {
        broken ??= err;
      };
      client.on('error', onError);
      try {
        const handle = wrap(client);
        const hooks = collectHooks(handle);
        await run(client, 'begin');
        const result = await fn(handle);
        await run(client, 'commit');
        hooks.forEach(runHook);
        return result;
      } catch (err) {
        if (broken === undefined) await client.query('rollback').catch(() => undefined);
        throw classifyDatabaseError(broken !== undefined && !(err instanceof DatabaseUnavailableError) ? broken : err);
      } finally {
        client.removeListener('error', onError);
        client.release(broken instanceof Error ? broken : broken === undefined ? undefined : true);
      }
    },
    ping: async () => {
      await run(pool, 'select 1');
    },
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    close: () => pool.end(),
  };
}

/** The name of a prepared statement: one per statement text, the same on every connection and node. */
export function statementName(sql: string): string {
  return `q_${createHash('sha256').update(sql).digest('hex').slice(0, 24)}`;
}

const UUID_LITERAL = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/**
 * A word: letters, digits, `-` and `_` (slugs, language tags, category codes). Nothing in it can
 * end the quoted literal or escape from it (no quote, no backslash, no `$`, no space).
 */
const WORD_LITERAL = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

/**
 * A parameter as an SQL literal, only when its text cannot be anything but that literal: a uuid
 * or a word (letters, digits, dashes and underscores), a safe integer, a boolean, null.
 * undefined for anything else (the statement then runs with bound parameters): no quoting or
 * escaping rule is relied on.
 */
export function safeLiteral(value: unknown): string | undefined {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return Number.isSafeInteger(value) ? String(value) : undefined;
  if (typeof value === 'string' && (UUID_LITERAL.test(value) || WORD_LITERAL.test(value))) return `'${value}'`;
  return undefined;
}

/** SQLSTATEs after which a prepared statement is dropped and the call runs unprepared. */
const STALE_STATEMENT = new Set([
  '26000', // invalid_sql_statement_name: the session no longer has it
  '0A000', // feature_not_supported: "cached plan must not change result type" after a schema change
]);

/**
 * PGlite's prepared reads: `PREPARE` once per statement text on the one session, then `EXECUTE`
 * with the parameters as literals (PGlite's query API has no named statements). Planning is most
 * of a small read's cost in PGlite; an executed prepared statement reuses its generic plan.
 */
function pglitePrepared(client: PGlite) {
  const statements = new Map<string, Promise<string>>();
  const unprepared = async <T>(sql: string, params: readonly unknown[]) =>
    (await client.query<T>(sql, params as unknown[])).rows;
  return async <T>(sql: string, params: readonly unknown[]): Promise<T[]> => {
    const literals = params.map(safeLiteral);
    if (literals.some((l) => l === undefined)) return unprepared<T>(sql, params);
    let name = statements.get(sql);
    if (!name) {
      const wanted = statementName(sql);
      name = client.exec(`prepare ${wanted} as ${sql}`).then(() => wanted);
      statements.set(sql, name);
      name.catch(() => statements.delete(sql));
    }
    const statement = await name;
    try {
      const [result] = await client.exec(
        literals.length > 0 ? `execute ${statement}(${literals.join(', ')})` : `execute ${statement}`,
      );
      return (result?.rows ?? []) as T[];
    } catch (err) {
      const code = pgErrorCode(err);
      if (code === undefined || !STALE_STATEMENT.has(code)) throw classifyDatabaseError(err);
      statements.delete(sql);
      await client.exec(`deallocate ${statement}`).catch(() => undefined);
      return unprepared<T>(sql, params);
    }
  };
}

/** SQLSTATE of a PostgreSQL error (both drivers expose `code`). */
export function pgErrorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export const UNIQUE_VIOLATION = '23505';
