/**
 * Scheduled publishing: `publishAt` / `unpublishAt` on portfolios and projects. One pass (`tick`)
 * takes the leader lock (one node at a time; the others skip), applies every due time in the same
 * transaction as its audit events and the public read's invalidation (publicChanges.touch), and
 * clears the time, so each is applied exactly once whatever the number of nodes. Time is the
 * injected clock's: tests move a ManualClock and call `tick` themselves.
 */
import type { Clock } from '../../platform/clock.js';
import type { Db, Queryable } from '../../platform/db/index.js';
import type { AuditEventInput } from '../../security/audit/event.js';
import { AUDIT_ACTIONS } from '../../security/audit/actions.js';
import type { PublicReadChanges } from '../public-read/changes.js';
import { ScheduleRepository, type AppliedSchedule } from './repository.js';

/** How often each node tries a pass: a due time is applied within about this long. */
export const SCHEDULE_POLL_MS = 1000;
/** Rows per table per transaction, and transactions per pass: a backlog drains over a few passes. */
const BATCH = 200;
const MAX_BATCHES = 10;

export interface TickResult {
  /** False when another node held the leader lock: this pass did nothing. */
  leader: boolean;
  applied: AppliedSchedule[];
}

export interface ScheduleJobDeps {
  db: Db;
  clock: Clock;
  audit: { record(event: AuditEventInput, tx?: Queryable): Promise<void> };
  changes: PublicReadChanges;
  log?: { warn(obj: object, msg: string): void };
}

export class ScheduleJob {
  private readonly repo: ScheduleRepository;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<TickResult> | null = null;

  constructor(private readonly o: ScheduleJobDeps) {
    this.repo = new ScheduleRepository(o.db);
  }

  start(intervalMs = SCHEDULE_POLL_MS): void {
    if (intervalMs <= 0 || this.timer) return;
    this.timer = setInterval(() => {
      void this.tick().catch((err: unknown) => this.o.log?.warn({ err }, 'content schedule: pass failed'));
    }, intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  /** One pass; a pass already running on this node is joined rather than doubled. */
  tick(): Promise<TickResult> {
    this.running ??= this.pass().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async pass(): Promise<TickResult> {
    const applied: AppliedSchedule[] = [];
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
