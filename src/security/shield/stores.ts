/**
 * Where buckets, violation logs and blocks live. Two implementations give the same answers
 * for the same sequence of calls (limiter-contract.test.ts runs one suite on each):
 *
 * - `KvLimiterStore` over any Kv: on Redis every decision is ONE EVALSHA (decideScript), shared
 *   by every node; on MemoryKv the scripts' JavaScript twins run instead.
 * - `MemoryLimiterStore`: plain Maps of numbers for one process, used in embedded mode and as
 *   the fallback while Redis is unreachable. Same GCRA code (gcra.ts), no string parsing, so
 *   the hot path costs a few Map lookups.
 */
import type { Kv } from '../../platform/kv/index.js';
import {
  blockDurationMs,
  decideGcra,
  keys,
  recordViolationLog,
  type BlockInfo,
  type BucketGroup,
  type Decision,
} from './gcra.js';
import {
  decideArgs,
  decideScript,
  decodeBlock,
  encodeBlock,
  putBlockScript,
  violationArgs,
  violationOutcome,
  violationScript,
  type BlockRules,
  type ViolationOutcome,
} from './scripts.js';

export interface BlockRecord extends BlockInfo {
  client: string;
}

export interface LimiterStore {
  readonly kind: 'memory' | 'redis';
  /** One atomic decision over every group (and the client's block), charging all or none. */
  decide(client: string, groups: readonly BucketGroup[], now: number): Promise<Decision>;
  /** Counts a violation; blocks the client when the rules say so. */
  violation(client: string, reason: string, now: number, rules: BlockRules): Promise<ViolationOutcome>;
  getBlock(client: string, now: number): Promise<BlockInfo | null>;
  listBlocks(now: number): Promise<BlockRecord[]>;
  /** Lifts a block and forgets the client's violations and block level; true if it was blocked. */
  unblock(client: string): Promise<boolean>;
  /** Stores a block unless one exists (carrying memory blocks over to Redis after an outage). */
  putBlock(client: string, block: BlockInfo, now: number): Promise<boolean>;
  /** Empties bucket groups (they start full again), e.g. an account's login budget after its owner proved themselves. */
  forget(groupKeys: readonly string[]): Promise<void>;
  ping(): Promise<void>;
}

/** Store over a Kv: Lua on Redis, the JavaScript twins on MemoryKv. */
export class KvLimiterStore implements LimiterStore {
  constructor(readonly kv: Kv) {}

  get kind(): 'memory' | 'redis' {
    return this.kv.kind;
  }

  decide(client: string, groups: readonly BucketGroup[], now: number): Promise<Decision> {
    const keyList = [keys.block(client)];
    for (const g of groups) keyList.push(g.key);
    return this.kv.run(decideScript, keyList, decideArgs(now, groups));
  }

  async violation(client: string, reason: string, now: number, rules: BlockRules): Promise<ViolationOutcome> {
    const reply = await this.kv.run(
      violationScript,
      [keys.block(client), keys.violations(client), keys.level(client)],
      violationArgs(now, rules, reason),
    );
    return violationOutcome(reply, reason);
  }

  async getBlock(client: string, now: number): Promise<BlockInfo | null> {
    const value = await this.kv.get(keys.block(client));
    if (value === null) return null;
    const block = decodeBlock(value);
    return block.until > now ? block : null;
  }

  async listBlocks(now: number): Promise<BlockRecord[]> {
    const found = await this.kv.keys(keys.blockPrefix);
    const records = await Promise.all(
      found.map(async (key) => {
        const value = await this.kv.get(key);
        if (value === null) return null;
        const block = decodeBlock(value);
        return block.until > now ? { client: key.slice(keys.blockPrefix.length), ...block } : null;
      }),
    );
    return records.filter((r): r is BlockRecord => r !== null);
  }

  async unblock(client: string): Promise<boolean> {
    const removed = await this.kv.del(keys.block(client));
    await this.kv.del(keys.violations(client), keys.level(client));
    return removed > 0;
  }

  putBlock(client: string, block: BlockInfo, now: number): Promise<boolean> {
    const ttl = Math.floor(block.until - now);
    if (ttl <= 0) return Promise.resolve(false);
    return this.kv.run(putBlockScript, [keys.block(client)], [encodeBlock(block), ttl]);
  }

  async forget(groupKeys: readonly string[]): Promise<void> {
    if (groupKeys.length > 0) await this.kv.del(...groupKeys);
  }

  ping(): Promise<void> {
    return this.kv.ping();
  }
}

export interface MemoryLimiterStoreOptions {
  /** Clock for the periodic sweep (the limiter passes `now` to every call). */
  now?: () => number;
  /**
   * Most buckets kept. An attacker cycling through addresses creates one bucket per address;
   * past this the expired ones are swept and, if still full, the oldest are dropped (those
   * clients start again with a full bucket: bounded memory beats an exact count here).
   */
  maxBuckets?: number;
  /** How often expired entries are purged (0: never, tests). */
  sweepIntervalMs?: number;
}

/** One process's store: Maps of numbers, the same GCRA and blocking rules as the scripts. */
export class MemoryLimiterStore implements LimiterStore {
  readonly kind = 'memory' as const;
  /** Group key -> the TATs of its windows. */
  private readonly tats = new Map<string, number[]>();
  private readonly blocks = new Map<string, BlockInfo>();
  private readonly logs = new Map<string, { log: number[]; expires: number }>();
  private readonly levels = new Map<string, { level: number; expires: number }>();
  private readonly now: () => number;
  private readonly maxBuckets: number;
  private readonly timer: NodeJS.Timeout | null;

  constructor(options: MemoryLimiterStoreOptions = {}) {
    this.now = options.now ?? Date.now;
    this.maxBuckets = options.maxBuckets ?? 1_000_000;
    const every = options.sweepIntervalMs ?? 60_000;
    this.timer = every > 0 ? setInterval(() => this.sweep(), every) : null;
    // Housekeeping must never keep a process (or a test run) alive.
    this.timer?.unref();
  }

  async decide(client: string, groups: readonly BucketGroup[], now: number): Promise<Decision> {
    const block = this.liveBlock(client, now);
    if (block) return { outcome: 'blocked', retryAfterMs: block.until - now, block };
    const stored: (number[] | undefined)[] = [];
    for (const g of groups) stored.push(this.tats.get(g.key));
    const result = decideGcra(stored, now, groups);
    if (!result.allowed) return { outcome: 'limited', retryAfterMs: result.retryAfterMs, buckets: result.states };
    for (let i = 0; i < groups.length; i++)
      this.tats.set((groups[i] as BucketGroup).key, result.newTats[i] as number[]);
    if (this.tats.size > this.maxBuckets) this.evict(now);
    return { outcome: 'allowed', retryAfterMs: 0, buckets: result.states };
  }

  async violation(client: string, reason: string, now: number, rules: BlockRules): Promise<ViolationOutcome> {
    const existing = this.liveBlock(client, now);
    if (existing) return { kind: 'already-blocked', block: existing };
    const entry = this.logs.get(client);
    const log = entry && entry.expires > now ? entry.log : [];
    const next = recordViolationLog(log, now, rules.windowMs, rules.threshold);
    if (!next.reached) {
      this.logs.set(client, { log: next.log, expires: now + rules.windowMs });
      return { kind: 'counted', count: next.log.length };
    }
    const previous = this.levels.get(client);
    const level = (previous && previous.expires > now ? previous.level : 0) + 1;
    const duration = blockDurationMs(level, rules.baseMs, rules.maxMs);
    const block = { until: now + duration, level, reason };
    this.levels.set(client, { level, expires: now + rules.levelTtlMs });
    this.blocks.set(client, block);
    this.logs.delete(client);
    return { kind: 'blocked', block };
  }

  async getBlock(client: string, now: number): Promise<BlockInfo | null> {
    return this.liveBlock(client, now);
  }

  async listBlocks(now: number): Promise<BlockRecord[]> {
    const out: BlockRecord[] = [];
    for (const [client, block] of this.blocks) if (block.until > now) out.push({ client, ...block });
    return out.sort((a, b) => (a.client < b.client ? -1 : 1));
  }

  async unblock(client: string): Promise<boolean> {
    const had = this.liveBlock(client, this.now()) !== null;
    this.blocks.delete(client);
    this.logs.delete(client);
    this.levels.delete(client);
    return had;
  }

  async putBlock(client: string, block: BlockInfo, now: number): Promise<boolean> {
    if (block.until <= now || this.liveBlock(client, now)) return false;
    this.blocks.set(client, block);
    return true;
  }

  async forget(groupKeys: readonly string[]): Promise<void> {
    for (const key of groupKeys) this.tats.delete(key);
  }

  async ping(): Promise<void> {}

  /**
   * Stops the sweep timer. The state stays usable: requests still in flight while the app
   * drains on shutdown are decided as before.
   */
  close(): void {
    if (this.timer) clearInterval(this.timer);
  }

  clear(): void {
    this.tats.clear();
    this.blocks.clear();
    this.logs.clear();
    this.levels.clear();
  }

  /** Bucket groups held (for tests and diagnostics). */
  get size(): number {
    return this.tats.size;
  }

  /** Drops every entry that no longer changes an answer. */
  sweep(now = this.now()): void {
    for (const [key, tats] of this.tats) if (tats.every((tat) => tat <= now)) this.tats.delete(key);
    for (const [key, block] of this.blocks) if (block.until <= now) this.blocks.delete(key);
    for (const [key, entry] of this.logs) if (entry.expires <= now) this.logs.delete(key);
    for (const [key, entry] of this.levels) if (entry.expires <= now) this.levels.delete(key);
  }

  private liveBlock(client: string, now: number): BlockInfo | null {
    if (this.blocks.size === 0) return null;
    const block = this.blocks.get(client);
    if (!block) return null;
    if (block.until > now) return block;
    this.blocks.delete(client);
    return null;
  }

  private evict(now: number): void {
    this.sweep(now);
    if (this.tats.size <= this.maxBuckets) return;
    // Map iteration is insertion order: drop the oldest tenth.
    let drop = Math.ceil(this.maxBuckets / 10);
    for (const key of this.tats.keys()) {
      if (drop-- <= 0) break;
      this.tats.delete(key);
    }
  }
}
