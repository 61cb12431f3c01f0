/**
 * The shield's state and decisions, independent of Fastify (plugin.ts wires it into hooks):
 * policies per route, one store decision per request, and violation counting for automatic
 * blocks. The block list (store, per-node cache, Redis pub/sub) is blocks.ts.
 */
import type { Kv } from '../../platform/kv/index.js';
import { BlockList } from './blocks.js';
import { keys, type Decision } from './gcra.js';
import { FailoverStore, type StoreMode } from './failover.js';
import type { ShieldMetrics } from './metrics.js';
import { bodyKeyId, matchPolicies, needsBody, type PlannedGroup, type Policy } from './policies.js';
import type { BlockRules } from './scripts.js';
import { KvLimiterStore, MemoryLimiterStore, type LimiterStore } from './stores.js';

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
  /**
   * Called once per automatic block, by the node whose violation placed it (the audit event
   * `ratelimit.blocked`, which the `client-blocked` detection rule reads). Awaited within the
   * violation's task (`settled()` waits for it); a failure is logged, the block stands.
   */
  onBlocked?: (block: { client: string; level: number; until: number; reason: string }) => Promise<void>;
}

/** The routes' matched policies, computed once per route. */
interface RoutePlan {
  policies: Policy[];
  needsBody: boolean;
}

export class RateLimiter {
  readonly store: LimiterStore;
  private readonly failover: FailoverStore | null;
  /** Blocks: listed and lifted by the admin routes, cached per node to answer a blocked flood without Redis. */
  readonly blocks: BlockList;
  private readonly routes = new Map<string, RoutePlan>();
  private readonly pending = new Set<Promise<unknown>>();

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
    this.blocks = new BlockList({ kv, store: this.store, failover: this.failover, clock, log: options.log });
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
    if (decision.outcome === 'blocked') this.blocks.remember(client, decision.block.until);
    return decision;
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
        this.blocks.remember(client, outcome.block.until);
        if (outcome.kind === 'blocked') {
          this.options.metrics.blocksCreated.inc();
          this.options.log.warn(
            { client, blockLevel: outcome.block.level, until: new Date(outcome.block.until).toISOString(), reason },
            'client blocked after repeated violations',
          );
          await this.blocks.announce(client, outcome.block.until);
          await this.options
            .onBlocked?.({ client, level: outcome.block.level, until: outcome.block.until, reason })
            .catch((err: unknown) => this.options.log.error({ err }, 'could not record an automatic block'));
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

  /** Subscribes to block announcements and loads current blocks into the cache. */
  async start(): Promise<void> {
    await this.blocks.start();
  }

  /** Resolves when every violation write started so far has finished. */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  async close(): Promise<void> {
    await this.settled();
    await this.blocks.stop();
    this.failover?.close();
    if (this.store instanceof MemoryLimiterStore) this.store.close();
  }

  private track(task: Promise<unknown>): void {
    this.pending.add(task);
    void task.finally(() => this.pending.delete(task));
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
    // Reload the shared blocks and announce what this node learnt while cut off, so every cache has it.
    this.track(this.blocks.resync());
  }
}
