import { assertTtlMs } from './types.js';
import type { Kv, KvScript, MemoryOps } from './types.js';

/** A stored value: a string, or a hash (field -> value) for scripts that use HGET/HSET. */
type Value = { readonly type: 'string'; value: string } | { readonly type: 'hash'; fields: Map<string, string> };

interface Entry {
  value: Value;
  /** Absolute expiry in ms on the injected clock; null keeps the key until deleted. */
  expiresAt: number | null;
}

interface Subscription {
  readonly handler: (message: string) => void;
}

export interface MemoryKvOptions {
  /** Clock in ms; tests inject one so TTLs can be checked without sleeping. */
  now?: () => number;
  /**
   * How often expired keys are purged even if nobody reads them again (0 disables). Lazy
   * expiry alone would let keys written once per attacker IP (rate-limit buckets) pile up.
   */
  sweepIntervalMs?: number;
  /** Called when a subscriber's handler throws; defaults to console.error. */
  onError?: (error: Error) => void;
}

// Same wording as Redis, so callers and tests can match errors from either store alike.
const WRONGTYPE = 'WRONGTYPE Operation against a key holding the wrong kind of value';
const NOT_INTEGER = 'ERR value is not an integer or out of range';

/** In-process Kv for one node (embedded mode). Same semantics as the Redis adapter. */
export class MemoryKv implements Kv {
  readonly kind = 'memory' as const;

  private readonly now: () => number;
  private readonly onError: (error: Error) => void;
  private readonly entries = new Map<string, Entry>();
  private readonly channels = new Map<string, Set<Subscription>>();
  private readonly sweepTimer: NodeJS.Timeout | null;
  private closed = false;

  /** The synchronous view a script's memory body gets; every call sees lazy expiry. */
  private readonly ops: MemoryOps = {
    get: (key) => this.getString(key),
    set: (key, value, ttlMs) => {
      if (ttlMs !== undefined) assertTtlMs(ttlMs);
      this.write(key, { type: 'string', value }, ttlMs);
    },
    del: (key) => this.live(key) !== undefined && this.entries.delete(key),
    pttl: (key) => this.pttlOf(key),
    pexpire: (key, ttlMs) => {
      if (!Number.isSafeInteger(ttlMs)) throw new RangeError(`pexpire ttlMs must be an integer, got ${ttlMs}`);
      const entry = this.live(key);
      if (!entry) return;
      // Redis deletes the key right away when given a non-positive expiry; do the same.
      if (ttlMs <= 0) this.entries.delete(key);
      else entry.expiresAt = this.now() + ttlMs;
    },
    hget: (key, field) => {
      const entry = this.live(key);
      if (!entry) return null;
      if (entry.value.type !== 'hash') throw new Error(WRONGTYPE);
      return entry.value.fields.get(field) ?? null;
    },
    hset: (key, field, value) => {
      const entry = this.live(key);
      if (!entry) {
        this.entries.set(key, { value: { type: 'hash', fields: new Map([[field, value]]) }, expiresAt: null });
        return;
      }
      if (entry.value.type !== 'hash') throw new Error(WRONGTYPE);
      // Like Redis HSET, updating a field keeps the key's TTL.
      entry.value.fields.set(field, value);
    },
  };

  constructor(options: MemoryKvOptions = {}) {
    this.now = options.now ?? Date.now;
    this.onError = options.onError ?? ((error) => console.error('[kv] subscriber handler failed:', error));
    const sweepMs = options.sweepIntervalMs ?? 60_000;
    if (sweepMs > 0) {
      this.sweepTimer = setInterval(() => this.sweep(), sweepMs);
      // The sweep is housekeeping; it must never keep a finished process (or test run) alive.
      this.sweepTimer.unref();
    } else {
      this.sweepTimer = null;
    }
  }

  async get(key: string): Promise<string | null> {
    this.assertOpen();
    return this.getString(key);
  }

  async set(key: string, value: string, options: { ttlMs?: number; nx?: boolean } = {}): Promise<boolean> {
    this.assertOpen();
    if (options.ttlMs !== undefined) assertTtlMs(options.ttlMs);
    if (options.nx && this.live(key)) return false;
    this.write(key, { type: 'string', value }, options.ttlMs);
    return true;
  }

  async del(...keys: string[]): Promise<number> {
    this.assertOpen();
    let removed = 0;
    for (const key of keys) if (this.ops.del(key)) removed++;
    return removed;
  }

  async incr(key: string, by = 1, ttlMs?: number): Promise<number> {
    this.assertOpen();
    if (!Number.isSafeInteger(by)) throw new RangeError(`incr step must be an integer, got ${by}`);
    if (ttlMs !== undefined) assertTtlMs(ttlMs);
    const entry = this.live(key);
    if (!entry) {
      this.write(key, { type: 'string', value: String(by) }, ttlMs);
      return by;
    }
    if (entry.value.type !== 'string') throw new Error(WRONGTYPE);
    const current = parseInteger(entry.value.value);
    const next = current + by;
    if (!Number.isSafeInteger(next)) throw new Error('ERR increment or decrement would overflow');
    // An existing counter keeps its TTL: a fixed window must end when it started + window,
    // however many hits arrive, or a steady attacker would keep the window open forever.
    entry.value.value = String(next);
    return next;
  }

  async pttl(key: string): Promise<number> {
    this.assertOpen();
    return this.pttlOf(key);
  }

  async keys(prefix: string): Promise<string[]> {
    this.assertOpen();
    const found: string[] = [];
    for (const key of [...this.entries.keys()]) {
      // Plain startsWith: the prefix is literal, so '*' or '?' in it match only themselves.
      if (key.startsWith(prefix) && this.live(key)) found.push(key);
    }
    return found.sort();
  }

  async run<R>(script: KvScript<R>, keys: readonly string[], args: readonly (string | number)[]): Promise<R> {
    this.assertOpen();
    // Synchronous on purpose: nothing else can touch the map until the body returns, which
    // is the in-process equivalent of Redis running a Lua script atomically.
    return script.memory(this.ops, keys, args.map(String), this.now());
  }

  async publish(channel: string, message: string): Promise<void> {
    this.assertOpen();
    const subscriptions = this.channels.get(channel);
    if (!subscriptions) return;
    for (const subscription of [...subscriptions]) {
      // Delivered later, as Redis would: a handler must never run inside the publisher's
      // call stack (it could re-enter the store mid-operation or throw into the publisher).
      queueMicrotask(() => {
        // Skip handlers that unsubscribed after the publish but before delivery.
        if (!this.channels.get(channel)?.has(subscription)) return;
        try {
          subscription.handler(message);
        } catch (error) {
          this.onError(error instanceof Error ? error : new Error(String(error)));
        }
      });
    }
  }

  async subscribe(channel: string, handler: (message: string) => void): Promise<() => Promise<void>> {
    this.assertOpen();
    // A fresh object per call, so subscribing the same function twice gives two independent
    // subscriptions and each unsubscribe removes only its own.
    const subscription: Subscription = { handler };
    let subscriptions = this.channels.get(channel);
    if (!subscriptions) {
      subscriptions = new Set();
      this.channels.set(channel, subscriptions);
    }
    subscriptions.add(subscription);
    return async () => {
      const current = this.channels.get(channel);
      if (!current) return;
      current.delete(subscription);
      if (current.size === 0) this.channels.delete(channel);
    };
  }

  async ping(): Promise<void> {
    this.assertOpen();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.entries.clear();
    this.channels.clear();
  }

  /** Purges every expired key; exposed so tests can check the sweep without timers. */
  sweep(): void {
    for (const key of [...this.entries.keys()]) this.live(key);
  }

  /** Number of keys held, expired or not (for tests and diagnostics). */
  get size(): number {
    return this.entries.size;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('MemoryKv is closed');
  }

  /** The entry if present and unexpired; deletes it when expired (lazy expiry). */
  private live(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt !== null && this.now() >= entry.expiresAt) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  private getString(key: string): string | null {
    const entry = this.live(key);
    if (!entry) return null;
    if (entry.value.type !== 'string') throw new Error(WRONGTYPE);
    return entry.value.value;
  }

  /** Replaces the key like Redis SET: any previous type and TTL are discarded. */
  private write(key: string, value: Value, ttlMs: number | undefined): void {
    this.entries.set(key, { value, expiresAt: ttlMs === undefined ? null : this.now() + ttlMs });
  }

  private pttlOf(key: string): number {
    const entry = this.live(key);
    if (!entry) return -2;
    if (entry.expiresAt === null) return -1;
    return Math.ceil(entry.expiresAt - this.now());
  }
}

/** Parses a stored counter exactly as strictly as Redis INCRBY does. */
function parseInteger(value: string): number {
  if (!/^-?(0|[1-9][0-9]*)$/.test(value)) throw new Error(NOT_INTEGER);
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed)) throw new Error(NOT_INTEGER);
  return parsed;
}
