/**
 * Redis first, memory when Redis is gone, Redis again when it is back.
 *
 * Every call to the primary (Redis) store runs under a short budget (RATE_LIMIT_STORE_TIMEOUT_MS).
 * An outage (KvUnavailableError: refused, reset, command timeout, not connected) or a blown
 * budget switches this node to its in-memory store at once: that request is decided in memory
 * and so is every later one, without trying Redis first, so an outage costs no request any
 * latency. Nothing is queued for later. A probe pings Redis once a second and switches back
 * when it answers; blocks raised in memory meanwhile are copied to Redis on the way back.
 *
 * Errors Redis itself returns (a Lua error: a bug in our script) are not outages and are
 * thrown, never hidden behind the fallback.
 */
import { KvUnavailableError } from '../../platform/kv/index.js';
import type { BlockInfo, BucketGroup, Decision } from './gcra.js';
import type { BlockRules, ViolationOutcome } from './scripts.js';
import type { BlockRecord, LimiterStore, MemoryLimiterStore } from './stores.js';

export class StoreBudgetExceededError extends Error {
  override readonly name = 'StoreBudgetExceededError';
}

export type StoreMode = 'primary' | 'fallback';

export interface FailoverOptions {
  /** Longest a call may wait for the primary before this node falls back (ms). */
  budgetMs: number;
  /** How often to ping the primary while in fallback (ms). */
  probeIntervalMs?: number;
  clock: () => number;
  /** Told on every switch, with the error that caused a fallback. */
  onModeChange?: (mode: StoreMode, reason?: Error) => void;
}

function withBudget<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      // Timers run before I/O in each turn of the event loop: after a stall (a CPU-heavy
      // request, GC) this timer would fire before the reply that arrived meanwhile is read, and
      // a healthy Redis would look slow. Give the poll phase one turn before giving up.
      setImmediate(() => reject(new StoreBudgetExceededError(`no answer within ${ms} ms`)));
    }, ms);
  });
  // The late answer, if any, is dropped; its rejection must not become unhandled.
  promise.catch(() => undefined);
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

function isOutage(error: unknown): error is Error {
  return error instanceof KvUnavailableError || error instanceof StoreBudgetExceededError;
}

export class FailoverStore implements LimiterStore {
  private current: StoreMode = 'primary';
  private probeTimer: NodeJS.Timeout | null = null;
  private probing = false;
  private closed = false;

  constructor(
    readonly primary: LimiterStore,
    readonly fallback: MemoryLimiterStore,
    private readonly options: FailoverOptions,
  ) {}

  get kind(): 'memory' | 'redis' {
    return this.current === 'primary' ? this.primary.kind : 'memory';
  }

  get mode(): StoreMode {
    return this.current;
  }

  get degraded(): boolean {
    return this.current === 'fallback';
  }

  decide(client: string, groups: readonly BucketGroup[], now: number): Promise<Decision> {
    return this.call((store) => store.decide(client, groups, now));
  }

  violation(client: string, reason: string, now: number, rules: BlockRules): Promise<ViolationOutcome> {
    return this.call((store) => store.violation(client, reason, now, rules));
  }

  getBlock(client: string, now: number): Promise<BlockInfo | null> {
    return this.call((store) => store.getBlock(client, now));
  }

  listBlocks(now: number): Promise<BlockRecord[]> {
    return this.call((store) => store.listBlocks(now));
  }

  async unblock(client: string): Promise<boolean> {
    // An admin's unblock must also reach the memory store, whichever mode we are in.
    const inMemory = await this.fallback.unblock(client);
    const shared = this.current === 'primary' ? await this.call((store) => store.unblock(client)) : false;
    return inMemory || shared;
  }

  putBlock(client: string, block: BlockInfo, now: number): Promise<boolean> {
    return this.call((store) => store.putBlock(client, block, now));
  }

  async forget(groupKeys: readonly string[]): Promise<void> {
    // Like unblock: the memory store too, whichever mode we are in.
    await this.fallback.forget(groupKeys);
    if (this.current === 'primary') await this.call((store) => store.forget(groupKeys));
  }

  ping(): Promise<void> {
    return this.call((store) => store.ping());
  }

  /** Switches to memory now (an outage seen elsewhere, or tests). */
  enterFallback(reason: Error): void {
    if (this.current === 'fallback' || this.closed) return;
    this.current = 'fallback';
    this.options.onModeChange?.('fallback', reason);
    this.probeTimer = setInterval(() => void this.probe(), this.options.probeIntervalMs ?? 1_000);
    this.probeTimer.unref();
  }

  /** One recovery attempt; resolves true when the primary is back in use. */
  async probe(): Promise<boolean> {
    if (this.current === 'primary') return true;
    if (this.probing || this.closed) return false;
    this.probing = true;
    try {
      await withBudget(this.primary.ping(), Math.max(this.options.budgetMs, 500));
      // Blocks raised while Redis was away become shared; the rest of the memory state (bucket
      // levels) is per node and is dropped: Redis's own buckets are the truth again.
      const now = this.options.clock();
      for (const record of await this.fallback.listBlocks(now)) {
        const { client, ...block } = record;
        await withBudget(this.primary.putBlock(client, block, now), Math.max(this.options.budgetMs, 500));
      }
      this.fallback.clear();
      this.current = 'primary';
      if (this.probeTimer) clearInterval(this.probeTimer);
      this.probeTimer = null;
      this.options.onModeChange?.('primary');
      return true;
    } catch {
      return false;
    } finally {
      this.probing = false;
    }
  }

  close(): void {
    this.closed = true;
    if (this.probeTimer) clearInterval(this.probeTimer);
    this.probeTimer = null;
    this.fallback.close();
  }

  private async call<T>(fn: (store: LimiterStore) => Promise<T>): Promise<T> {
    if (this.current === 'fallback') return fn(this.fallback);
    try {
      return await withBudget(fn(this.primary), this.options.budgetMs);
    } catch (error) {
      if (!isOutage(error)) throw error;
      this.enterFallback(error);
      return fn(this.fallback);
    }
  }
}
