/**
 * The detection consumer: reads SEALED audit events (`audit_events`, by seq) in order from its
 * durable cursor (`monitoring_cursor`), on one node at a time (a KV leader lease), and evaluates
 * the rules off the request path.
 *
 * Exactly once, per batch, in ONE transaction:
 *   1. lock the cursor row (`for update`: a second leader, paused past its lease, waits here);
 *   2. read the next events after it;
 *   3. evaluate them (the engine's windows, the admins' known networks);
 *   4. write the alerts they raise (and their mails and webhook rows);
 *   5. move the cursor to the last event read.
 * A crash anywhere before the commit leaves cursor and alerts as they were: the batch is read again
 * and raises the same alerts once. A crash after it has nothing to redo.
 *
 * The window state is in memory on the leader. When the state is not that of the cursor (a new
 * leader, a restart, a failed batch, another node having moved the cursor), it is rebuilt first by
 * replaying the events of the longest window up to the cursor with `raise: false`.
 */
import type { Clock } from '../../../platform/clock.js';
import type { Db, Queryable } from '../../../platform/db/index.js';
import { KvLease } from '../../../platform/kv/lease.js';
import type { Kv } from '../../../platform/kv/types.js';
import type { ChainedEvent } from '../../audit/canonical.js';
import type { AlertsService } from '../alerts/service.js';
import { runCheck, type CheckDeps } from './checks.js';
import { DetectionEngine, matches, networkOf, type EngineEvent, type Signal } from './engine.js';
import { CHECK_KINDS } from './rule-spec.js';
import type { Rule } from './rules.js';

export interface ConsumerOptions {
  db: Db;
  kv: Kv;
  clock: Clock;
  rules: readonly Rule[];
  alerts: AlertsService;
  checks: CheckDeps;
  /** Events per transaction. */
  batchSize?: number;
  leaseMs?: number;
  log?: { warn(obj: object, msg: string): void };
  /** Tests: runs inside the batch's transaction just before it commits (throw to simulate a crash). */
  beforeCommit?: (tx: Queryable) => Promise<void>;
}

export interface PassResult {
  leader: boolean;
  events: number;
  raised: number;
  repeats: number;
}

export const DETECTION_LEASE_KEY = 'monitoring:detection:leader';

export class DetectionConsumer {
  readonly engine: DetectionEngine;
  private readonly lease: KvLease;
  private readonly batchSize: number;
  private synced = false;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly lastCheck = new Map<string, number>();
  private readonly networkRules: Rule[];
  private readonly checkRules: Rule[];
  private readonly startedAt: number;

  constructor(private readonly o: ConsumerOptions) {
    this.engine = new DetectionEngine(o.rules);
    this.batchSize = o.batchSize ?? 500;
    this.lease = new KvLease(o.kv, DETECTION_LEASE_KEY, o.leaseMs ?? 30_000);
    this.networkRules = o.rules.filter((r) => r.kind === 'new-network');
    this.checkRules = o.rules.filter((r) => CHECK_KINDS.includes(r.kind));
    this.startedAt = o.clock.now().getTime();
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** One pass: if this node leads, reads every sealed event after the cursor (batch by batch). */
  runOnce(): Promise<PassResult> {
    return this.serial(async () => {
      const result: PassResult = { leader: false, events: 0, raised: 0, repeats: 0 };
      if (!(await this.lease.acquire())) {
        this.synced = false; // another node leads: our windows go stale
        return result;
      }
      result.leader = true;
      for (;;) {
        const batch = await this.batch();
        result.events += batch.events;
        result.raised += batch.raised;
        result.repeats += batch.repeats;
        if (batch.events < this.batchSize) return result;
      }
    });
  }

  /** Runs the scheduled checks that are due (all of them with `force`); the leader only. */
  runChecks(options: { force?: boolean } = {}): Promise<number> {
    return this.serial(async () => {
      if (!(await this.lease.acquire())) return 0;
      const now = this.o.clock.now();
      let raised = 0;
      for (const rule of this.checkRules) {
        const last = this.lastCheck.get(rule.name) ?? this.startedAt;
        if (!options.force && now.getTime() - last < rule.interval * 1000) continue;
        this.lastCheck.set(rule.name, now.getTime());
        const finding = await runCheck(rule, this.o.checks, now);
        if (!finding) continue;
        const created = await this.o.db.transaction(async (tx) => {
          await this.o.alerts.repo.lockCursor(tx, undefined, now);
          const r = await this.o.alerts.raise({ rule, ...finding, at: now.getTime(), seq: null }, tx);
          return r.created;
        });
        if (created) raised++;
      }
      return raised;
    });
  }

  /** Gives the lease back (another node takes over at its next pass). */
  async stop(): Promise<void> {
    await this.serial(async () => {
      await this.lease.release().catch(() => false);
      this.synced = false;
    });
  }

  private async batch(): Promise<{ events: number; raised: number; repeats: number }> {
    try {
      return await this.o.db.transaction(async (tx) => {
        const now = this.o.clock.now();
        const cursor = await this.o.alerts.repo.lockCursor(tx, undefined, now);
        if (!this.synced || this.engine.lastSeq !== cursor) await this.replay(cursor, tx);
        const events = await this.readable(await this.o.alerts.repo.eventsAfter(cursor, this.batchSize, tx), tx);
        const last = events[events.length - 1];
        if (!last) return { events: 0, raised: 0, repeats: 0 };
        let raised = 0;
        let repeats = 0;
        for (const event of events) {
          const signals = [...this.engine.observe(event), ...(await this.newNetworks(event, tx))];
          for (const signal of signals) {
            const r = await this.o.alerts.raise(signal, tx);
            if (r.created) raised++;
            else repeats++;
          }
        }
        await this.o.alerts.repo.advanceCursor(last.seq, now, tx);
        await this.o.beforeCommit?.(tx);
        return { events: events.length, raised, repeats };
      });
    } catch (err) {
      // The windows saw events whose batch did not commit: rebuild them from the cursor next time.
      this.synced = false;
      throw err;
    }
  }

  /** Rules read what the events say, not their ciphertext: decrypted by the audit log, in one place. */
  private readable(events: ChainedEvent[], tx: Queryable): Promise<ChainedEvent[]> {
    return this.o.checks.audit.reveal(events, tx);
  }

  /** Rebuilds the windows from the events of the longest window up to `cursor`, raising nothing. */
  private async replay(cursor: number, tx: Queryable): Promise<void> {
    this.engine.reset();
    const repo = this.o.alerts.repo;
    const lastTime = cursor > 0 ? await repo.eventTime(cursor, tx) : undefined;
    if (lastTime && this.engine.longestWindowS > 0) {
      const since = new Date(lastTime.getTime() - this.engine.longestWindowS * 1000);
      let after = 0;
      for (;;) {
        const page = await repo.eventsForReplay(after, cursor, since, 2_000, tx);
        for (const event of await this.readable(page, tx)) this.engine.observe(event, { raise: false });
        const end = page[page.length - 1];
        if (!end || page.length < 2_000) break;
        after = end.seq;
      }
    }
    this.engine.lastSeq = cursor;
    this.synced = true;
  }

  /** `new-network` rules: an admin action from a network never seen for that admin (durable, in tx). */
  private async newNetworks(event: EngineEvent, tx: Queryable): Promise<Signal[]> {
    const out: Signal[] = [];
    for (const rule of this.networkRules) {
      if (!rule.match || !event.ip || !matches(rule.match, event)) continue;
      const network = networkOf(event.ip);
      const at = new Date(event.time);
      const seen = await this.o.alerts.repo.noteAdminNetwork(event.actor, network, at, tx);
      // The first network an admin is seen from is the baseline, not an alert.
      if (!seen.isNew || !seen.hadAny) continue;
      out.push({
        rule,
        key: `${event.actor}|${network}`,
        count: 1,
        summary: `${rule.description} (admin ${event.actor}, network ${network}, action ${event.action})`,
        at: at.getTime(),
        seq: event.seq,
      });
    }
    return out;
  }
}
