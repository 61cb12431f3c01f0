/**
 * The schedule job's SQL: its leader lock, and the one statement per table that applies every due
 * publish and unpublish time. Table names are constants of this file; values are $n parameters.
 */
import type { Queryable } from '../../platform/db/index.js';

/** A time the job applied: which row, its portfolio, what happened and when it was scheduled. */
export interface AppliedSchedule {
  kind: 'portfolio' | 'project';
  id: string;
  portfolioId: string;
  /** The scheduled times that were due (null when that one was not). */
  publishAt: Date | null;
  unpublishAt: Date | null;
}

/**
 * The leader lock, the audit sealer's pattern (a transaction-scoped advisory lock keyed by
 * schema) in its non-blocking form: while one node's pass holds it, another node's pass skips
 * instead of waiting, and the lock goes with the transaction (a crashed node holds nothing).
 */
const LEADER_LOCK_SQL = `select pg_try_advisory_xact_lock(hashtext('portfolio-backend:content-schedule:' || current_schema())) as ok`;

/**
 * Due rows are locked (skipping any a writer holds: the next pass takes them) and updated in one
 * statement: published becomes false when the unpublish time has come (it is after the publish
 * time), else true; each due time is cleared, so it is never applied again.
 */
const applyDue = (table: 'portfolios' | 'projects', portfolioIdColumn: string) => `
  with due as (
    select id, publish_at, unpublish_at from ${table}
    where publish_at <= $1 or unpublish_at <= $1
    order by id limit $2
    for update skip locked
  )
  update ${table} t set
    published = case when d.unpublish_at <= $1 then false when d.publish_at <= $1 then true else t.published end,
    publish_at = case when d.publish_at <= $1 then null else t.publish_at end,
    unpublish_at = case when d.unpublish_at <= $1 then null else t.unpublish_at end,
    updated_at = $1
  from due d
  where t.id = d.id
  returning t.id, t.${portfolioIdColumn} as "portfolioId",
    case when d.publish_at <= $1 then d.publish_at end as "publishAt",
    case when d.unpublish_at <= $1 then d.unpublish_at end as "unpublishAt"`;

const APPLY_PORTFOLIOS = applyDue('portfolios', 'id');
const APPLY_PROJECTS = applyDue('projects', 'portfolio_id');

export class ScheduleRepository {
  constructor(private readonly db: Queryable) {}

  /** True when this transaction holds the leader lock until it ends. */
  async tryLeaderLock(tx: Queryable): Promise<boolean> {
    const rows = await tx.query<{ ok: boolean }>(LEADER_LOCK_SQL);
    return rows[0]?.ok === true;
  }

  /** Applies up to `limit` due portfolios and up to `limit` due projects; returns what it applied. */
  async applyDue(now: Date, limit: number, tx: Queryable = this.db): Promise<AppliedSchedule[]> {
    const portfolios = await tx.query<Omit<AppliedSchedule, 'kind'>>(APPLY_PORTFOLIOS, [now, limit]);
    const projects = await tx.query<Omit<AppliedSchedule, 'kind'>>(APPLY_PROJECTS, [now, limit]);
    return [
      ...portfolios.map((r) => ({ ...r, kind: 'portfolio' as const })),
      ...projects.map((r) => ({ ...r, kind: 'project' as const })),
    ];
  }
}
