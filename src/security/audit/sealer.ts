/**
 * The sealer: the single writer of the hash chain.
 *
 * Why not chain inside each writer's transaction (the naive design: lock, read the head, insert,
 * commit)? The lock must be held until commit, so every event in the system waits for every other
 * transaction's commit: about 1,800 events/s with 8 clients, and a slow business transaction
 * stalls the whole application's logging.
 *
 * Instead, `record(event, tx)` is one plain INSERT into `audit_inbox` inside the caller's
 * transaction: the event commits or rolls back with the state change, with no lock and no shared
 * row, so writers run in parallel at the speed of ordinary inserts. The sealer then takes the
 * committed inbox rows in batches and, in one transaction per batch:
 *
 *   1. takes a transaction-scoped advisory lock (one sealer at a time across every node);
 *   2. reads the chain head (newest seq and hash);
 *   3. deletes up to BATCH inbox rows (oldest first) and gets them back;
 *   4. assigns seq = head+1, head+2, ... and computes each hash in memory (microseconds each);
 *   5. inserts them into `audit_events` with one statement, and a signed checkpoint when due.
 *
 * Moving and chaining happen in the same transaction, so an event is never lost or chained twice;
 * `seq` is gapless because only committed events are ever numbered (a rolled-back writer leaves no
 * hole). The cost of the lock is paid once per batch instead of once per event. An event reaches
 * the chain a few milliseconds after its transaction commits (`flush()` waits for that).
 */
import type { Clock } from '../../platform/clock.js';
import type { Db, Queryable } from '../../platform/db/index.js';
import { CHAIN_VERSION, chainHash, type ChainedEvent, type EventContent } from './canonical.js';
import type { CheckpointFiles } from './checkpoint-files.js';
import { AuditCheckpointRepository, AuditRepository, SEALER_LOCK_SQL } from './repository.js';
import { signCheckpoint, type Checkpoint, type SigningKey } from './signing.js';

export interface SealerOptions {
  db: Db;
  clock: Clock;
  key: SigningKey | undefined;
  files: CheckpointFiles;
  /** A checkpoint at least every this many events... */
  checkpointEvery: number;
  /** ...and at least every this many seconds while new events arrive. */
  checkpointIntervalS: number;
  batchSize?: number;
  /** How often the background loop looks for committed events it was not told about. */
  pollMs?: number;
  onError?: (err: unknown, what: string) => void;
  /** Encrypts the personal fields of numbered events in place, in the batch's transaction (./pii.ts). */
  protect?: (events: EventContent[], tx: Queryable) => Promise<void>;
}

export class Sealer {
  private readonly repo: AuditRepository;
  private readonly checkpoints: AuditCheckpointRepository;
  private readonly batchSize: number;
  private queue: Promise<unknown> = Promise.resolve();
  private poll: NodeJS.Timeout | undefined;
  private nudgeTimer: NodeJS.Timeout | undefined;
  private running = false;
  private lastCheckpointAt = 0;
  private queuedDrain: Promise<number> | undefined;
  private lastCheckpointSeq: number | undefined;

  constructor(private readonly o: SealerOptions) {
    this.repo = new AuditRepository(o.db);
    this.checkpoints = new AuditCheckpointRepository(o.db);
    this.batchSize = o.batchSize ?? 2000;
  }

  /** Runs fn after every earlier sealer job of this process (the lock covers other processes). */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Runs fn in a transaction holding the sealer lock, after every earlier sealer job of this process. */
  exclusive<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.serial(() =>
      this.o.db.transaction(async (tx) => {
        await tx.query(SEALER_LOCK_SQL);
        return fn(tx);
      }),
    );
  }

  /** Seals one batch; returns how many events were chained. */
  sealOnce(): Promise<number> {
    return this.serial(() => this.sealBatch());
  }

  /** Seals until the inbox is empty (events committed before the call are chained when it resolves). */
  drain(): Promise<number> {
    // A drain that has not started yet will see everything committed so far: share it, so a
    // burst of nudges or a slow database never piles up a queue of drains.
    if (this.queuedDrain) return this.queuedDrain;
    const next = this.serial(async () => {
      this.queuedDrain = undefined;
      let total = 0;
      for (;;) {
        const n = await this.sealBatch();
        total += n;
        if (n < this.batchSize) return total;
      }
    });
    this.queuedDrain = next;
    return next;
  }

  private async sealBatch(): Promise<number> {
    const written: Checkpoint[] = [];
    const n = await this.o.db
      .transaction(async (tx) => {
        const taken = await this.repo.takeInbox(this.batchSize, tx); // also takes the sealer lock
        if (taken.length === 0) return 0;
        const head = await this.repo.head(tx);
        let seq = head.seq;
        const contents: EventContent[] = taken.map((r) => ({
          seq: ++seq,
          v: CHAIN_VERSION,
          time: new Date(r.time).toISOString(),
          action: r.action,
          actor: r.actor,
          outcome: r.outcome,
          ip: r.ip,
          userAgent: r.userAgent,
          targetType: r.targetType,
          targetId: r.targetId,
          requestId: r.requestId,
          metadata: r.metadata,
        }));
        // Personal data is encrypted now that each event has its seq: the hash covers the ciphertext.
        await this.o.protect?.(contents, tx);
        let prev = head.hash;
        const chained: ChainedEvent[] = contents.map((content) => {
          const hash = chainHash(content, prev);
          const event: ChainedEvent = { ...content, prevHash: prev, hash };
          prev = hash;
          return event;
        });
        await this.repo.insertChained(chained, tx);
        const last = chained[chained.length - 1];
        if (last && this.o.key) {
          // Cached between batches; another node's newer checkpoint only makes ours come early.
          this.lastCheckpointSeq ??= (await this.checkpoints.latest(tx))?.seq ?? 0;
          if (last.seq - this.lastCheckpointSeq >= this.o.checkpointEvery) {
            const cp = await this.checkpointAt(last.seq, last.hash, tx);
            if (cp) written.push(cp);
            this.lastCheckpointSeq = last.seq;
          }
        }
        return chained.length;
      })
      .catch((err: unknown) => {
        this.lastCheckpointSeq = undefined; // re-read after a rolled-back batch
        throw err;
      });
    await this.writeFiles(written);
    return n;
  }

  private async checkpointAt(seq: number, hash: string, tx: Queryable): Promise<Checkpoint | undefined> {
    if (!this.o.key) return undefined;
    const cp = signCheckpoint(this.o.key, { seq, hash, time: this.o.clock.now().toISOString() });
    const inserted = await this.checkpoints.insert(cp, tx);
    this.lastCheckpointAt = this.o.clock.now().getTime();
    this.lastCheckpointSeq = Math.max(this.lastCheckpointSeq ?? 0, seq);
    return inserted ? cp : undefined;
  }

  private async writeFiles(cps: readonly Checkpoint[]): Promise<void> {
    for (const cp of cps) {
      try {
        await this.o.files.write(cp);
      } catch (err) {
        // The database copy exists; a missing file weakens only the outside-the-database copy.
        this.o.onError?.(err, `writing checkpoint file for seq ${cp.seq}`);
      }
    }
  }

  /**
   * Signs a checkpoint at the current head (after sealing what is committed) unless one exists
   * there. Returns the checkpoint covering the head, or undefined when the chain is empty.
   */
  checkpoint(): Promise<Checkpoint | undefined> {
    return this.serial(async () => {
      while ((await this.sealBatch()) === this.batchSize);
      return this.checkpointHead();
    });
  }

  /** A signed checkpoint exactly at `seq` (prune and export need one at their range's end). */
  checkpointAtSeq(seq: number): Promise<Checkpoint | undefined> {
    return this.serial(async () => {
      const written: Checkpoint[] = [];
      const cp = await this.o.db.transaction(async (tx) => {
        await tx.query(SEALER_LOCK_SQL);
        const existing = (await this.checkpoints.list(seq, seq, tx))[0];
        if (existing) return existing;
        const row = await this.repo.getBySeq(seq, tx);
        if (!row) return undefined;
        const made = await this.checkpointAt(row.seq, row.hash, tx);
        if (made) written.push(made);
        return made;
      });
      await this.writeFiles(written);
      return cp;
    });
  }

  private async checkpointHead(): Promise<Checkpoint | undefined> {
    const written: Checkpoint[] = [];
    const cp = await this.o.db.transaction(async (tx) => {
      await tx.query(SEALER_LOCK_SQL);
      const head = await this.repo.head(tx);
      if (head.seq === 0) return undefined;
      const latest = await this.checkpoints.latest(tx);
      if (latest && latest.seq >= head.seq) return latest;
      const made = await this.checkpointAt(head.seq, head.hash, tx);
      if (made) written.push(made);
      return made;
    });
    await this.writeFiles(written);
    return cp;
  }

  /** The time-based checkpoint: due when AUDIT_CHECKPOINT_INTERVAL passed and the head moved. */
  async checkpointIfDue(): Promise<void> {
    if (!this.o.key) return;
    const now = this.o.clock.now().getTime();
    if (now - this.lastCheckpointAt < this.o.checkpointIntervalS * 1000) return;
    const latest = await this.checkpoints.latest();
    if (latest) this.lastCheckpointAt = Math.max(this.lastCheckpointAt, new Date(latest.time).getTime());
    if (now - this.lastCheckpointAt < this.o.checkpointIntervalS * 1000) return;
    await this.serial(() => this.checkpointHead());
    this.lastCheckpointAt = now;
  }

  /** Asks for a seal soon: writers call this after inserting, so events are chained within milliseconds. */
  nudge(): void {
    if (!this.running || this.nudgeTimer) return;
    this.nudgeTimer = setTimeout(() => {
      this.nudgeTimer = undefined;
      this.drain().catch((err: unknown) => this.o.onError?.(err, 'sealing audit events'));
    }, 2);
    this.nudgeTimer.unref();
  }

  /** Starts the background loop (also catches events committed by other processes). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.poll = setInterval(() => {
      this.drain()
        .then(() => this.checkpointIfDue())
        .catch((err: unknown) => this.o.onError?.(err, 'sealing audit events'));
    }, this.o.pollMs ?? 250);
    this.poll.unref();
  }

  /** Stops the loop and seals what is committed (best effort: the next start catches up anyway). */
  async stop(): Promise<void> {
    this.running = false;
    clearInterval(this.poll);
    clearTimeout(this.nudgeTimer);
    this.nudgeTimer = undefined;
    await this.drain().catch((err: unknown) => this.o.onError?.(err, 'sealing audit events at shutdown'));
  }
}
