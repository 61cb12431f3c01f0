/**
 * The block list of the shield: the blocks in the store, this node's cache of them (a blocked
 * client's flood is answered without Redis), and the Redis pub/sub channel that keeps every
 * node's cache current.
 */
import type { Kv } from '../../platform/kv/index.js';
import { keys, type BlockInfo } from './gcra.js';
import type { FailoverStore } from './failover.js';
import type { BlockRecord, LimiterStore } from './stores.js';

export interface BlockListOptions {
  kv: Kv;
  store: LimiterStore;
  /** The failover store when the store is shared through Redis, else null. */
  failover: FailoverStore | null;
  clock: () => number;
  log: { warn(obj: object, msg: string): void };
}

/** Message on the blocks channel: every node updates its cache at once. */
type BlockMessage = { op: 'block'; client: string; until: number } | { op: 'unblock'; client: string };

const MAX_CACHED_BLOCKS = 100_000;

export class BlockList {
  /** clientKey -> block end (epoch ms). */
  private readonly cache = new Map<string, number>();
  private unsubscribe: (() => Promise<void>) | null = null;

  constructor(private readonly options: BlockListOptions) {}

  /** The end of a cached block for this client, or null. */
  cached(client: string, now: number): number | null {
    if (this.cache.size === 0) return null;
    const until = this.cache.get(client);
    if (until === undefined) return null;
    if (until > now) return until;
    this.cache.delete(client);
    return null;
  }

  /** Remembers a block this node learnt of (from a decision or a violation). */
  remember(client: string, until: number): void {
    if (this.cache.size >= MAX_CACHED_BLOCKS && !this.cache.has(client)) {
      // Oldest first (insertion order); the store still has them, the cache only saves trips.
      const oldest = this.cache.keys().next();
      if (!oldest.done) this.cache.delete(oldest.value);
    }
    this.cache.set(client, until);
  }

  /** Tells every other node of a new block. */
  async announce(client: string, until: number): Promise<void> {
    await this.publish({ op: 'block', client, until });
  }

  async list(): Promise<BlockRecord[]> {
    return this.options.store.listBlocks(this.options.clock());
  }

  async get(client: string): Promise<BlockInfo | null> {
    return this.options.store.getBlock(client, this.options.clock());
  }

  /** Lifts a block everywhere: the store, this node's cache, and (pub/sub) every other node's. */
  async unblock(client: string): Promise<boolean> {
    const had = await this.options.store.unblock(client);
    const cached = this.cache.delete(client);
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
    await this.sync();
  }

  async stop(): Promise<void> {
    const unsubscribe = this.unsubscribe;
    this.unsubscribe = null;
    if (unsubscribe) await unsubscribe().catch(() => undefined);
  }

  /** Redis is back: reload the shared blocks and announce what this node learnt while cut off. */
  async resync(): Promise<void> {
    await this.sync();
    const now = this.options.clock();
    for (const [client, until] of this.cache) if (until > now) await this.publish({ op: 'block', client, until });
  }

  private async sync(): Promise<void> {
    try {
      for (const record of await this.options.store.listBlocks(this.options.clock()))
        this.remember(record.client, record.until);
    } catch (err) {
      this.options.log.warn({ err }, 'could not load current blocks');
    }
  }

  private async publish(message: BlockMessage): Promise<void> {
    if (this.options.kv.kind !== 'redis' || (this.options.failover?.degraded ?? false)) return;
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
    if (message.op === 'block' && typeof message.until === 'number') this.remember(message.client, message.until);
    else if (message.op === 'unblock') {
      this.cache.delete(message.client);
      // A block held in this node's memory fallback must go as well.
      if (this.options.failover) void this.options.failover.fallback.unblock(message.client);
    }
  }
}
