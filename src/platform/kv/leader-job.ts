/**
 * A periodic job that every node runs but only the holder of a KV leader lease (./lease.ts) does
 * the work of: the timer, "join a pass already running on this node", the stop that waits for the
 * pass and gives the lease back, and the one answer to "does this node lead now?". A KV that does
 * not answer never stops the job: the node goes ahead (warned once per outage) and the job's own
 * exactly-once guarantee in the database (a lock, a row claim, idempotent steps) holds.
 *
 * The job's pass calls `leads()` itself, so it decides what a non-leader's pass returns.
 */
import type { Kv } from './types.js';
import { KvLease } from './lease.js';

export interface LeaderJobOptions<T> {
  /** Names the job in log lines ("content schedule", "erasure", ...). */
  label: string;
  /** Without a KV every node runs each pass. */
  kv?: Kv | undefined;
  leaseKey: string;
  /** The timer's period (0: no timer on this node, passes only by `tick()`). */
  intervalMs: number;
  /** How long the lease lasts unrenewed: two intervals (a late pass keeps it, a dead leader loses it). */
  leaseMs: number;
  /** Said in the log when the KV does not answer: what keeps the job safe meanwhile. */
  withoutLease: string;
  pass: () => Promise<T>;
  log?: { warn: (obj: object, msg: string) => void } | undefined;
}

export class LeaderJob<T> {
  private readonly lease: KvLease | null;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<T> | null = null;
  private kvDown = false;

  constructor(private readonly o: LeaderJobOptions<T>) {
    this.lease = o.kv ? new KvLease(o.kv, o.leaseKey, o.leaseMs) : null;
  }

  start(intervalMs = this.o.intervalMs): void {
    if (intervalMs <= 0 || this.timer) return;
    this.timer = setInterval(() => {
      void this.tick().catch((err: unknown) => this.o.log?.warn({ err }, `${this.o.label}: pass failed`));
    }, intervalMs);
    this.timer.unref();
  }

  /** Stops the timer, waits for a running pass, and gives the lease back to the other nodes. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
    await this.lease?.release().catch(() => undefined);
  }

  /** One pass; a pass already running on this node is joined rather than doubled. */
  tick(): Promise<T> {
    this.running ??= this.o.pass().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** Whether this node leads now (takes or renews the lease). */
  async leads(): Promise<boolean> {
    if (!this.lease) return true;
    try {
      const held = await this.lease.acquire();
      this.kvDown = false;
      return held;
    } catch (err) {
      if (!this.kvDown) this.o.log?.warn({ err }, `${this.o.label}: leader lease unavailable, ${this.o.withoutLease}`);
      this.kvDown = true;
      return true;
    }
  }
}
