/**
 * The shield's state and decisions, independent of Fastify (plugin.ts wires it into hooks):
 * policies per route, one store decision per request, the per-node block cache fed by Redis
 * pub/sub, and violation counting for automatic blocks.
 */
import type { Kv } from '../../platform/kv/index.js';
import { keys, type BlockInfo, type Decision } from './gcra.js';
import { FailoverStore, type StoreMode } from './failover.js';
import type { ShieldMetrics } from './metrics.js';
import { bodyKeyId, matchPolicies, needsBody, type PlannedGroup, type Policy } from './policies.js';
import type { BlockRules } from './scripts.js';
import { KvLimiterStore, MemoryLimiterStore, type BlockRecord, type LimiterStore } from './stores.js';

export interface Logger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface RateLimiterOptions {
  kv: Kv;
  policies: Policy[];
  clock: () => number;
  /** null: automatic blocking off. */
  blockRules: BlockRules | null;
  storeTimeoutMs: number;
  metrics: ShieldMetrics;
  log: Logger;
  /** How often the failover store pings Redis while degraded (ms). */
  probeIntervalMs?: number;
}

/** The routes' matched policies, computed once per route. */
interface RoutePlan {
  policies: Policy[];
  needsBody: boolean;
}

/** Message on the blocks channel: every node updates its cache at once. */
type BlockMessage = { op: 'block'; client: string; until: number } | { op: 'unblock'; client: string };

const MAX_CACHED_BLOCKS = 100_000;

export class RateLimiter {
  readonly store: LimiterStore;
  private readonly failover: FailoverStore | null;
  private readonly routes = new Map<string, RoutePlan>();
  /** clientKey -> block end (epoch ms): a blocked client's flood is answered without Redis. */
  private readonly blockCache = new Map<string, number>();
  private readonly pending = new Set<Promise<unknown>>();
  private unsubscribe: (() => Promise<void>) | null = null;

  constructor(private readonly options: RateLimiterOptions) {
    const { kv, clock, metrics } = options;
    if (kv.kind === 'redis') {
      this.failover = new FailoverStore(new KvLimiterStore(kv), new MemoryLimiterStore({ now: clock }), {
        budgetMs: options.storeTimeoutMs,
        probeIntervalMs: options.probeIntervalMs ?? 1_000,
        clock,
        onModeChange: (mode, reason) => this.onModeChange(mode, reason),
      });
      this.store = this.failover;
    } else {
      // One process: the fast in-memory store (the MemoryKv is for contract tests of the twins).
      this.failover = null;
      this.store = new MemoryLimiterStore({ now: clock });
    }
    metrics.fallbackMode.set(0);
  }

  /** "redis" or "memory"; while Redis is unreachable, "memory" with `degraded` true. */
  get mode(): 'redis' | 'memory' {
    return this.store.kind;
  }

  get degraded(): boolean {
    return this.failover?.degraded ?? false;
  }

  get failoverStore(): FailoverStore | null {
    return this.failover;
  }

  get policies(): readonly Policy[] {
    return this.options.policies;
  }

  /** Policies for a route (method + the router's pattern; null when no route matched). */
  plan(method: string, routeUrl: string | null): RoutePlan {
    const id = `${method} ${routeUrl ?? '\u0000'}`;
    let plan = this.routes.get(id);
    if (!plan) {
      const policies = matchPolicies(this.options.policies, method, routeUrl);
      plan = { policies, needsBody: needsBody(policies) };
      this.routes.set(id, plan);
    }
    return plan;
  }

  /** One decision over every bucket group (and the client's shared block). */
  async decide(client: string, groups: readonly PlannedGroup[]): Promise<Decision> {
    const now = this.options.clock();
    const decision = await this.store.decide(client, groups, now);
    if (decision.outcome === 'blocked') this.cacheBlock(client, decision.block.until);
    return decision;
  }

  /** The end of a cached block for this client, or null. */
  cachedBlock(client: string, now: number): number | null {
    if (this.blockCache.size === 0) return null;
    const until = this.blockCache.get(client);
    if (until === undefined) return null;
    if (until > now) return until;
    this.blockCache.delete(client);
    return null;
  }

  /**
   * Counts a violation (429, 413, 408) and blocks the client when the rules say so. Runs after
   * the response; `settled()` waits for these (tests).
   */
  recordViolation(client: string, status: number): void {
    const rules = this.options.blockRules;
    if (!rules) return;
    this.options.metrics.violations.inc({ status: String(status) });
    const reason = status === 429 ? 'rate_limited' : status === 413 ? 'payload_too_large' : 'request_timeout';
    const task = this.store
      .violation(client, reason, this.options.clock(), rules)
      .then(async (outcome) => {
        if (outcome.kind === 'counted') return;
        this.cacheBlock(client, outcome.block.until);
        if (outcome.kind === 'blocked') {
          this.options.metrics.blocksCreated.inc();
          this.options.log.warn(
            { client, blockLevel: outcome.block.level, until: new Date(outcome.block.until).toISOString(), reason },
            'client blocked after repeated violations',
          );
          await this.publish({ op: 'block', client, until: outcome.block.until });
        }
      })
      .catch((err: unknown) => this.options.log.error({ err }, 'could not record a violation'));
    this.track(task);
  }

  /**
   * Empties the buckets of every policy keyed by the body field `field` for this value (keyed
   * the way requests are: `bodyKeyId`). Used when an account's owner proved themselves: the
   * per-account login budget an attacker spent is given back.
   */
  async forgetBodyKey(field: string, value: string): Promise<void> {
    const id = bodyKeyId(field, value);
    if (id === null) return;
    const groupKeys = this.options.policies
      .filter((p) => p.key === `body:${field}`)
      .map((p) => keys.bucket(p.name, p.windowsTag, id));
    await this.store.forget(groupKeys);
  }

  async listBlocks(): Promise<BlockRecord[]> {
    return this.store.listBlocks(this.options.clock());
  }

  async getBlock(client: string): Promise<BlockInfo | null> {
    return this.store.getBlock(client, this.options.clock());
  }

  /** Lifts a block everywhere: the store, this node's cache, and (pub/sub) every other node's. */
  async unblock(client: string): Promise<boolean> {
    const had = await this.store.unblock(client);
    const cached = this.blockCache.delete(client);
    await this.publish({ op: 'unblock', client });
    return had || cached;
  }

  /** Subscribes to block announcements and loads current blocks into the cache. */
  async start(): Promise<void> {
    if (this.options.kv.kind !== 'redis') return;
    try {
      this.unsubscribe = await this.options.kv.subscribe(keys.channel, (message) => this.onMessage(message));
    } catch (err) {
      // The decision script checks the shared block key anyway; the cache only saves round trips.
      this.options.log.warn({ err }, 'could not subscribe to block announcements');
    }
    await this.syncBlocks();
  }

  /** Resolves when every violation write started so far has finished. */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  async close(): Promise<void> {
    await this.settled();
    const unsubscribe = this.unsubscribe;
    this.unsubscribe = null;
    if (unsubscribe) await unsubscribe().catch(() => undefined);
    this.failover?.close();
    if (this.store instanceof MemoryLimiterStore) this.store.close();
  }

  private track(task: Promise<unknown>): void {
    this.pending.add(task);
    void task.finally(() => this.pending.delete(task));
  }

  private cacheBlock(client: string, until: number): void {
    if (this.blockCache.size >= MAX_CACHED_BLOCKS && !this.blockCache.has(client)) {
      // Oldest first (insertion order); the store still has them, the cache only saves trips.
      const oldest = this.blockCache.keys().next();
      if (!oldest.done) this.blockCache.delete(oldest.value);
    }
    this.blockCache.set(client, until);
  }

  private async syncBlocks(): Promise<void> {
    try {
      for (const record of await this.store.listBlocks(this.options.clock()))
        this.cacheBlock(record.client, record.until);
    } catch (err) {
      this.options.log.warn({ err }, 'could not load current blocks');
    }
  }

  private async publish(message: BlockMessage): Promise<void> {
    if (this.options.kv.kind !== 'redis' || this.degraded) return;
    try {
      await this.options.kv.publish(keys.channel, JSON.stringify(message));
    } catch (err) {
      this.options.log.warn({ err }, 'could not announce a block change');
    }
  }

  private onMessage(raw: string): void {
    let message: BlockMessage;
    try {
      message = JSON.parse(raw) as BlockMessage;
    } catch {
      return;
    }
    if (typeof message.client !== 'string') return;
    if (message.op === 'block' && typeof message.until === 'number') this.cacheBlock(message.client, message.until);
    else if (message.op === 'unblock') {
      this.blockCache.delete(message.client);
      // A block held in this node's memory fallback must go as well.
      if (this.failover) void this.failover.fallback.unblock(message.client);
    }
  }

  private onModeChange(mode: StoreMode, reason?: Error): void {
    const { metrics, log } = this.options;
    metrics.fallbackSwitches.inc({ mode: mode === 'fallback' ? 'memory' : 'redis' });
    if (mode === 'fallback') {
      metrics.fallbackMode.set(1);
      // Logged once per outage: every request after this one is decided in memory silently.
      log.warn({ err: reason }, 'rate limiter: Redis unreachable, limiting per node in memory until it returns');
      return;
    }
    metrics.fallbackMode.set(0);
    log.info({}, 'rate limiter: Redis is back, shared limiting resumed');
    this.track(
      (async () => {
        await this.syncBlocks();
        // Announce what this node learnt while cut off, so every cache has it.
        const now = this.options.clock();
        for (const [client, until] of this.blockCache)
          if (until > now) await this.publish({ op: 'block', client, until });
      })(),
    );
  }
}
