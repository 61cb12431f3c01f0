/**
 * The per-node cache of prepared public reads (issue 16): the exact bytes of an answer, with
 * their entity tags and compressed forms, keyed by the route's target and the language asked for,
 * and stamped with the portfolio's content version they were built from.
 *
 * When an entry may be served, decided here and only here:
 * - Invalidation: every write that can change a public read raises the portfolio's version in
 *   its transaction and, once committed, evicts the portfolio's entries on this node at once and
 *   on every other node through the KV channel (PublicReadChanges).
 * - Bounded staleness: a message can be missed (a KV outage, a dropped subscriber). So an entry
 *   is trusted for at most `maxStalenessMs` after it was built or last checked; past that, the
 *   next answer asks the database which version is current before serving it (one indexed row),
 *   and rebuilds when it moved. No node serves a copy older than that bound, whatever the KV does.
 * - Signed links: an entry expires when its earliest media link has only half the link lifetime
 *   left (that is when a rebuild would sign new links), so every link it hands out stays valid
 *   for as long as Cache-Control lets anyone keep the answer.
 * - Races: a build that started before an eviction of its portfolio is not stored.
 *
 * Only published, public portfolios ever get here (the one-statement read returns nothing else),
 * and nothing signed-in: the routes are anonymous and answers to signed-in callers never pass
 * through this cache. Not-found answers are not cached.
 */
import type { PreparedBody } from '../../http/http-cache.js';

export interface CacheEntry {
  portfolioId: string;
  version: string;
  body: PreparedBody;
  /** When the version was last known current (built or checked), ms. */
  verifiedAt: number;
  /** After this the entry is not served (its links would be re-signed), ms. */
  expiresAt: number;
  /** When its earliest media link expires (Infinity without media), ms. */
  linksExpireAt: number;
}

export interface PublicReadCacheOptions {
  /** Memory budget in bytes; 0 turns the cache off. */
  maxBytes: number;
  maxStalenessMs: number;
  now: () => number;
}

/** Portfolios whose last eviction is remembered; past that, every build in flight is refused. */
const MAX_TRACKED = 10_000;

/** What an entry costs: its identity bytes plus room for its (smaller) br and gzip forms. */
const costOf = (entry: CacheEntry) => Math.ceil(entry.body.bytes.length * 1.5) + 256;

export class PublicReadCache {
  /** Least recently used first (a hit moves its entry to the end). */
  private readonly entries = new Map<string, CacheEntry>();
  private bytes = 0;
  /** Raised by every eviction; `evictedAt` says when each portfolio was last evicted. */
  private generation = 0;
  private readonly evictedAt = new Map<string, number>();
  /** Builds that began before this generation are not stored (evictedAt was pruned, or all cleared). */
  private floor = 0;
  /**
   * Counters for tests and the benchmark. Of the misses: `stored` were answered from a stored
   * answer (public_snapshots), `renders` ran the one-statement read.
   */
  readonly stats = { hits: 0, misses: 0, checks: 0, evictions: 0, stored: 0, renders: 0 };

  constructor(private readonly options: PublicReadCacheOptions) {}

  get enabled(): boolean {
    return this.options.maxBytes > 0;
  }

  /** The entry for `key` when it has not expired. */
  get(key: string): CacheEntry | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (this.options.now() >= entry.expiresAt) {
      this.remove(key, entry);
      return undefined;
    }
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry;
  }

  /** Past the staleness bound: the database must confirm the version before the entry is served. */
  needsCheck(entry: CacheEntry): boolean {
    return this.options.now() - entry.verifiedAt > this.options.maxStalenessMs;
  }

  confirmed(entry: CacheEntry): void {
    entry.verifiedAt = this.options.now();
  }

  /** Call before reading from the database; pass the result to `store`. */
  begin(): number {
    return this.generation;
  }

  /** Keeps an entry built from a read that began at `generation`, unless its portfolio was evicted since. */
  store(key: string, entry: CacheEntry, generation: number): void {
    if (!this.enabled || generation < this.floor) return;
    if ((this.evictedAt.get(entry.portfolioId) ?? -1) >= generation) return;
    const cost = costOf(entry);
    if (cost > this.options.maxBytes) return;
    const old = this.entries.get(key);
    if (old) this.remove(key, old);
    this.entries.set(key, entry);
    this.bytes += cost;
    for (const [k, e] of this.entries) {
      if (this.bytes <= this.options.maxBytes) break;
      this.remove(k, e);
    }
  }

  /** Drops every entry of these portfolios (their content changed). */
  evict(portfolioIds: Iterable<string>): void {
    const generation = this.generation++;
    const ids = new Set(portfolioIds);
    if (this.evictedAt.size + ids.size > MAX_TRACKED) {
      this.evictedAt.clear();
      this.floor = this.generation;
    }
    for (const id of ids) this.evictedAt.set(id, generation);
    for (const [key, entry] of this.entries) {
      if (ids.has(entry.portfolioId)) {
        this.remove(key, entry);
        this.stats.evictions++;
      }
    }
  }

  /** Drops one entry (its version is no longer current). */
  drop(key: string): void {
    const entry = this.entries.get(key);
    if (entry) this.evict([entry.portfolioId]);
  }

  clear(): void {
    this.floor = ++this.generation;
    this.entries.clear();
    this.bytes = 0;
  }

  get size(): number {
    return this.entries.size;
  }

  private remove(key: string, entry: CacheEntry): void {
    if (this.entries.get(key) !== entry) return;
    this.entries.delete(key);
    this.bytes -= costOf(entry);
  }
}
