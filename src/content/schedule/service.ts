/**
 * Scheduled publishing: `publishAt` / `unpublishAt` on portfolios and projects. Every node has the
 * job, but only the leader runs its passes: a pass (`tick`) first takes or renews the leader lease
 * in the KV (`content-schedule:leader`, src/platform/kv/lease.ts); a node that does not hold it
 * does nothing else, not even a query. The leader then takes the database's leader lock (a
 * transaction-scoped advisory lock: one pass at a time even if two nodes briefly both think they
 * lead, or the KV is down and every node falls back to trying), applies every due time in the same
 * transaction as its audit events and the public read's invalidation (publicChanges.touch), and
 * clears the time, so each is applied exactly once whatever the number of nodes.
 *
 * The leader runs a pass every CONTENT_SCHEDULE_POLL_MS, so a due time is applied within one
 * interval. The lease lasts two intervals and is renewed by each pass; a leader that stops gives it
 * back, one that dies loses it when it runs out, and another node takes over at its next pass.
 * Time is the injected clock's: tests move a ManualClock and call `tick` themselves.
 */
import type { Clock } from '../../platform/clock.js';
import type { Db, Queryable } from '../../platform/db/index.js';
import type { Kv } from '../../platform/kv/index.js';
import { LeaderJob } from '../../platform/kv/leader-job.js';
import type { AuditEventInput } from '../../security/audit/event.js';
import { AUDIT_ACTIONS } from '../../security/audit/actions.js';
import type { PublicReadChanges } from '../public-read/changes.js';
import { ScheduleRepository, type AppliedSchedule } from './repository.js';

/** The default of CONTENT_SCHEDULE_POLL_MS: how often the leader runs a pass (and others try to lead). */
export const SCHEDULE_POLL_MS = 5000;
/** The leader lease's KV key (KV_PREFIX is added by the store). */
export const SCHEDULE_LEASE_KEY = 'content-schedule:leader';
/** Rows per table per transaction, and transactions per pass: a backlog drains over a few passes. */
const BATCH = 200;
const MAX_BATCHES = 10;

export interface TickResult {
  /** False when another node held the leader lease or lock: this pass did nothing. */
  leader: boolean;
  applied: AppliedSchedule[];
}

export interface ScheduleJobDeps {
  db: Db;
  clock: Clock;
  audit: { record(event: AuditEventInput, tx?: Queryable): Promise<void> };
  changes: PublicReadChanges;
  /** The KV the nodes share: the leader lease lives there. Without it every node tries each pass. */
  kv?: Kv;
  /** CONTENT_SCHEDULE_POLL_MS (default SCHEDULE_POLL_MS); 0 turns the timer off on this node. */
  intervalMs?: number;
  log?: { warn(obj: object, msg: string): void };
}

export class ScheduleJob {
  /** The job's SQL (public so tests can count what a pass does). */
  readonly repo: ScheduleRepository;
  readonly intervalMs: number;
  private readonly job: LeaderJob<TickResult>;

  constructor(private readonly o: ScheduleJobDeps) {
    this.repo = new ScheduleRepository(o.db);
    this.intervalMs = o.intervalMs ?? SCHEDULE_POLL_MS;
    // A KV that cannot answer does not stop publishing: the database lock keeps passes to one at a time.
    this.job = new LeaderJob({
      label: 'content schedule',
      kv: o.kv,
      leaseKey: SCHEDULE_LEASE_KEY,
      intervalMs: this.intervalMs,
      leaseMs: 2 * (this.intervalMs || SCHEDULE_POLL_MS),
      withoutLease: 'falling back to the database lock',
      pass: () => this.pass(),
      log: o.log,
    });
  }

  start(intervalMs = this.intervalMs): void {
    this.job.start(intervalMs);
  }

  /** Stops the timer, waits for a running pass, and gives the lease back to the other nodes. */
  stop(): Promise<void> {
    return this.job.stop();
  }

  /** One pass; a pass already running on this node is joined rather than doubled. */
  tick(): Promise<TickResult> {
    return this.job.tick();
  }

  private async pass(): Promise<TickResult> {
    const applied: AppliedSchedule[] = [];
    if (!(await this.job.leads())) return { leader: false, applied };
    for (let i = 0; i < MAX_BATCHES; i++) {
      const batch = await this.o.db.transaction(async (tx) => {
        if (!(await this.repo.tryLeaderLock(tx))) return null;
        const now = this.o.clock.now();
        const rows = await this.repo.applyDue(now, BATCH, tx);
        for (const row of rows) await this.audit(row, tx);
        const portfolios = [...new Set(rows.map((r) => r.portfolioId))];
        if (portfolios.length > 0) await this.o.changes.touch(tx, portfolios);
        return rows;
      });
      if (batch === null) return { leader: i > 0, applied };
      applied.push(...batch);
      if (batch.length < BATCH) break;
    }
    return { leader: true, applied };
  }

  /** One event per applied time (a row whose publish and unpublish were both due gets two). */
  private async audit(row: AppliedSchedule, tx: Queryable): Promise<void> {
    const events: [string, Date][] = [];
    if (row.publishAt) events.push([AUDIT_ACTIONS.contentScheduledPublish, row.publishAt]);
    if (row.unpublishAt) events.push([AUDIT_ACTIONS.contentScheduledUnpublish, row.unpublishAt]);
    for (const [action, at] of events) {
      await this.o.audit.record(
        {
          action,
          actor: 'system',
          outcome: 'success',
          target: { type: row.kind, id: row.id },
          metadata: { portfolioId: row.portfolioId, scheduledAt: new Date(at).toISOString() },
        },
        tx,
      );
    }
  }
}
