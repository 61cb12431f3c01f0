/**
 * The key-value store the security features share: rate-limit buckets, blocks, revocations,
 * one-time markers. Two implementations answer identically: in-process memory (embedded
 * default, one node) and Redis (every node sees the same state).
 *
 * Keys given to these methods are logical keys; the Redis implementation adds KV_PREFIX.
 */
export interface Kv {
  readonly kind: 'memory' | 'redis';
  get(key: string): Promise<string | null>;
  /**
   * Sets a value. `ttlMs` expires it; `nx` only sets when absent. Returns false when `nx`
   * prevented the write.
   */
  set(key: string, value: string, options?: { ttlMs?: number; nx?: boolean }): Promise<boolean>;
  /** Deletes keys; returns how many existed. */
  del(...keys: string[]): Promise<number>;
  /** Atomically adds `by` (default 1); a new key starts at 0 and gets `ttlMs` when given. */
  incr(key: string, by?: number, ttlMs?: number): Promise<number>;
  /** Remaining time to live in ms; -1 without expiry, -2 when absent (Redis PTTL semantics). */
  pttl(key: string): Promise<number>;
  /** Keys matching a glob-style prefix `prefix*` (admin listings; never on the hot path). */
  keys(prefix: string): Promise<string[]>;
  /**
   * Runs an atomic script: Lua on Redis (one round trip, EVALSHA with EVAL fallback), the
   * script's JavaScript twin in memory (atomic because it runs synchronously).
   */
  run<R>(script: KvScript<R>, keys: readonly string[], args: readonly (string | number)[]): Promise<R>;
  publish(channel: string, message: string): Promise<void>;
  /** Subscribes; the returned function unsubscribes. */
  subscribe(channel: string, handler: (message: string) => void): Promise<() => Promise<void>>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A script with two bodies that must give the same answers for the same inputs:
 * `lua` for Redis and `memory` for the in-process store. The shared test suite runs both.
 *
 * Both bodies may touch only the keys passed in `keys` (KEYS[n] in Lua), never names built
 * from args: the Redis adapter prefixes KEYS with KV_PREFIX, so a key computed inside the
 * script would escape the prefix and could collide with another app sharing the Redis.
 * Like Redis, a body that throws midway does not roll back writes it already made, so
 * validate inputs before the first write.
 */
export interface KvScript<R> {
  readonly name: string;
  readonly lua: string;
  /** Converts what Redis returned (numbers, strings, arrays) into R. */
  readonly parse: (raw: unknown) => R;
  readonly memory: (store: MemoryOps, keys: readonly string[], args: readonly string[], nowMs: number) => R;
}

/** Synchronous operations the memory twin of a script may use (same semantics as Redis). */
export interface MemoryOps {
  get(key: string): string | null;
  set(key: string, value: string, ttlMs?: number): void;
  del(key: string): boolean;
  pttl(key: string): number;
  pexpire(key: string, ttlMs: number): void;
  hget(key: string, field: string): string | null;
  hset(key: string, field: string, value: string): void;
}

/**
 * The store could not be reached or did not answer in time (connection refused, command
 * timeout, not yet connected). Distinct from errors Redis itself returned (WRONGTYPE, Lua
 * errors), so callers such as the rate limiter can fall back to memory on outages only,
 * and never on a bug in their own script.
 */
export class KvUnavailableError extends Error {
  override readonly name = 'KvUnavailableError';
}

/**
 * TTLs must be positive integer milliseconds on both stores (Redis rejects PX 0, fractions
 * and negatives). Checking before any write keeps the two stores identical and stops a
 * computed TTL of 0 from silently creating a key that never expires.
 */
export function assertTtlMs(ttlMs: number): void {
  if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0) {
    throw new RangeError(`ttlMs must be a positive integer number of milliseconds, got ${ttlMs}`);
  }
}
