import type { Db } from './index.js';
import { migrations } from './migrations/index.js';

export interface Migration {
  id: number;
  name: string;
  sql: string;
}

/** One statement of a migration run: a script (no params) or one parameterised statement. */
export interface MigrationStep {
  sql: string;
  params?: unknown[];
}

const CREATE_SCHEMA_MIGRATIONS = `create table if not exists schema_migrations (
      id integer primary key,
      name text not null,
      applied_at timestamptz not null default now()
    )`;

/** The statements that apply `list` minus `done`, in order, each followed by its record. */
function pendingSteps(list: readonly Migration[], done: ReadonlySet<number>): MigrationStep[] {
  return [...list]
    .sort((a, b) => a.id - b.id)
    .filter((m) => !done.has(m.id))
    .flatMap((m) => [
      { sql: m.sql },
      { sql: 'insert into schema_migrations (id, name) values ($1, $2)', params: [m.id, m.name] },
    ]);
}

/**
 * Everything `migrate()` does on a new, empty database, as data: the child process that creates
 * an embedded database applies it in one transaction (src/platform/db/pglite.ts), so the server
 * never holds the memory the migrations leave behind. A later `migrate()` finds nothing to do.
 */
export function freshDatabaseSteps(list: readonly Migration[] = migrations): MigrationStep[] {
  return [{ sql: CREATE_SCHEMA_MIGRATIONS }, ...pendingSteps(list, new Set())];
}

/**
 * Applies every migration not yet recorded, in order, in one transaction. A transaction-scoped
 * advisory lock makes concurrent starts (several nodes booting at once) apply each migration
 * exactly once: the second node waits, then finds nothing left to do.
 */
export async function migrate(db: Db, list: readonly Migration[] = migrations): Promise<number[]> {
  return db.transaction(async (tx) => {
    await tx.query(`select pg_advisory_xact_lock(hashtext('portfolio-backend:migrations'))`);
    await tx.query(CREATE_SCHEMA_MIGRATIONS);
    const done = new Set((await tx.query<{ id: number }>('select id from schema_migrations')).map((r) => r.id));
    for (const step of pendingSteps(list, done)) {
      if (step.params) await tx.query(step.sql, step.params);
      else await tx.exec(step.sql);
    }
    return [...list]
      .map((m) => m.id)
      .filter((id) => !done.has(id))
      .sort((a, b) => a - b);
  });
}

export async function currentVersion(db: Db): Promise<number> {
  const rows = await db.query<{ v: number | null }>('select max(id)::int as v from schema_migrations');
  return rows[0]?.v ?? 0;
}
