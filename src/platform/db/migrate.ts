import type { Db } from './index.js';
import { migrations } from './migrations/index.js';

export interface Migration {
  id: number;
  name: string;
  sql: string;
}

/**
 * Applies every migration not yet recorded, in order, in one transaction. A transaction-scoped
 * advisory lock makes concurrent starts (several nodes booting at once) apply each migration
 * exactly once: the second node waits, then finds nothing left to do.
 */
export async function migrate(db: Db, list: readonly Migration[] = migrations): Promise<number[]> {
  return db.transaction(async (tx) => {
    await tx.query(`select pg_advisory_xact_lock(hashtext('portfolio-backend:migrations'))`);
    await tx.query(`create table if not exists schema_migrations (
      id integer primary key,
      name text not null,
      applied_at timestamptz not null default now()
    )`);
    const done = new Set(
      (await tx.query<{ id: number }>('select id from schema_migrations')).map((r) => r.id),
    );
    const applied: number[] = [];
    for (const m of [...list].sort((a, b) => a.id - b.id)) {
      if (done.has(m.id)) continue;
      await tx.exec(m.sql);
      await tx.query('insert into schema_migrations (id, name) values ($1, $2)', [m.id, m.name]);
      applied.push(m.id);
    }
    return applied;
  });
}

export async function currentVersion(db: Db): Promise<number> {
  const rows = await db.query<{ v: number | null }>('select max(id)::int as v from schema_migrations');
  return rows[0]?.v ?? 0;
}
