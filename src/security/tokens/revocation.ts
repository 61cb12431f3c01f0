/**
 * Revocation state without a network round trip per request.
 *
 * The truth is in PostgreSQL (users.token_version, auth_sessions.revoked_at, revoked_tokens).
 * Each node keeps a local copy of what it has looked up, kept current by messages on one KV
 * channel: every revocation is written durably first, then published; every node applies it at
 * once. The copy is only trusted while the channel is known to work: each node publishes a
 * heartbeat every HEARTBEAT_MS and hears its own; if it has not heard one for STALE_MS (Redis down,
 * subscriber reconnecting), the cache is bypassed and every check reads the database, and when the
 * heartbeat returns the cache starts empty (messages may have been missed meanwhile). A node that
 * restarts starts empty too, so it cannot accept a token revoked while it was down.
 *
 * Written here rather than taken from a library: the caching is tied to our three kinds of
 * revocation and to the KV abstraction (memory or Redis) the rest of the app already uses.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../../platform/clock.js';
import type { Kv } from '../../platform/kv/index.js';
import type { TokenRepository, UserTokenState } from './repository.js';

export const REVOCATION_CHANNEL = 'auth:revocation';

type Message =
  | { t: 'hb'; node: string }
  | { t: 'user'; id: string }
  | { t: 'session'; id: string }
  | { t: 'jti'; id: string; exp: number };

/**
 * A bounded Map that drops its oldest insertions first. Reads do not reorder (this runs on every
 * request, and entries are reinserted anyway when they are reread after maxAge), so it is an
 * insertion-ordered cache rather than a strict LRU.
 */
class BoundedMap<K, V> {
  private readonly map = new Map<K, V>();
  constructor(private readonly max: number) {}
  get(key: K): V | undefined {
    return this.map.get(key);
  }
  set(key: K, value: V): void {
    if (this.max <= 0) return;
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value as K);
  }
  delete(key: K): void {
    this.map.delete(key);
  }
  clear(): void {
    this.map.clear();
  }
  get size(): number {
    return this.map.size;
  }
}

export interface RevocationOptions {
  /** Entries are reread after this long even without a message (a safety net, ms). */
  maxAgeMs?: number;
  heartbeatMs?: number;
  staleMs?: number;
  maxEntries?: number;
  onError?: (err: unknown) => void;
}

interface Cached<T> {
  value: T;
  at: number;
}

export class RevocationCache {
  static readonly HEARTBEAT_MS = 200;
  static readonly STALE_MS = 600;

  private readonly node = randomUUID();
  private readonly users: BoundedMap<string, Cached<UserTokenState | null>>;
  private readonly sessions: BoundedMap<string, Cached<boolean>>;
  private readonly jtis = new Map<string, number>();
  private lastBeat = 0;
  private live = false;
  /** Bumped by every invalidation: a lookup that raced with one does not store its stale answer. */
  private generation = 0;
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => Promise<void>) | null = null;
  private readonly maxAgeMs: number;
  private readonly heartbeatMs: number;
  private readonly staleMs: number;
  private readonly onError: (err: unknown) => void;
  /** Counters for the benchmark and tests: how often the database was asked. */
  readonly stats = { dbReads: 0, cacheHits: 0 };

  constructor(
    private readonly repo: TokenRepository,
    private readonly kv: Kv,
    private readonly clock: Clock,
    options: RevocationOptions = {},
  ) {
    this.maxAgeMs = options.maxAgeMs ?? 60_000;
    this.heartbeatMs = options.heartbeatMs ?? RevocationCache.HEARTBEAT_MS;
    this.staleMs = options.staleMs ?? RevocationCache.STALE_MS;
    this.users = new BoundedMap(options.maxEntries ?? 50_000);
    this.sessions = new BoundedMap(options.maxEntries ?? 50_000);
    this.onError = options.onError ?? (() => undefined);
  }

  async start(): Promise<void> {
    try {
      this.unsubscribe = await this.kv.subscribe(REVOCATION_CHANNEL, (raw) => this.onMessage(raw));
    } catch (err) {
      // Redis down at boot: run on the database until it returns (start() is retried by the beat).
      this.onError(err);
    }
    this.timer = setInterval(() => void this.beat(), this.heartbeatMs);
    this.timer.unref();
    await this.beat();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.unsubscribe?.().catch(() => undefined);
    this.unsubscribe = null;
  }

  private async beat(): Promise<void> {
    try {
      if (!this.unsubscribe)
        this.unsubscribe = await this.kv.subscribe(REVOCATION_CHANNEL, (raw) => this.onMessage(raw));
      await this.kv.publish(REVOCATION_CHANNEL, JSON.stringify({ t: 'hb', node: this.node } satisfies Message));
    } catch {
      // Publishing failed: the staleness check below notices the missing heartbeat.
    }
    if (this.live && Date.now() - this.lastBeat > this.staleMs) this.live = false;
    if (++this.beats % 50 === 0) {
      const now = this.clock.now().getTime();
      for (const [jti, exp] of this.jtis) if (exp <= now) this.jtis.delete(jti);
    }
  }
  private beats = 0;

  /** True while cached answers may be used. */
  isLive(): boolean {
    if (this.live && Date.now() - this.lastBeat > this.staleMs) this.live = false;
    return this.live;
  }

  private onMessage(raw: string): void {
    let msg: Message;
    try {
      msg = JSON.parse(raw) as Message;
    } catch {
      return;
    }
    switch (msg.t) {
      case 'hb':
        if (msg.node !== this.node) return;
        this.lastBeat = Date.now();
        if (!this.live) void this.becomeLive();
        return;
      case 'user':
        this.generation++;
        this.users.delete(msg.id);
        return;
      case 'session':
        this.generation++;
        this.sessions.set(msg.id, { value: true, at: Date.now() });
        return;
      case 'jti':
        this.generation++;
        this.jtis.set(msg.id, msg.exp);
        return;
    }
  }

  /** After a gap the local copy may have missed messages: start over from the database. */
  private becoming: Promise<void> | null = null;
  private becomeLive(): Promise<void> {
    this.becoming ??= (async () => {
      try {
        this.generation++;
        this.users.clear();
        this.sessions.clear();
        const rows = await this.repo.liveDenylist(this.clock.now());
        this.jtis.clear();
        for (const r of rows) this.jtis.set(r.jti, new Date(r.expiresAt).getTime());
        this.live = Date.now() - this.lastBeat <= this.staleMs;
      } catch (err) {
        this.onError(err);
      } finally {
        this.becoming = null;
      }
    })();
    return this.becoming;
  }

  private fresh<T>(entry: Cached<T> | undefined): entry is Cached<T> {
    return entry !== undefined && Date.now() - entry.at < this.maxAgeMs;
  }

  /**
   * All three answers from the local copy, synchronously, when the copy is current and holds
   * them all; undefined otherwise (the caller then awaits the lookups).
   */
  cached(userId: string, sessionId: string, jti: string): [UserTokenState | null, boolean, boolean] | undefined {
    if (!this.isLive() || this.becoming) return undefined;
    const user = this.users.get(userId);
    const session = this.sessions.get(sessionId);
    if (!this.fresh(user) || !session || !(session.value || this.fresh(session))) return undefined;
    const exp = this.jtis.get(jti);
    this.stats.cacheHits++;
    return [user.value, session.value, exp !== undefined && exp > this.clock.now().getTime()];
  }

  /** The user's token version, roles and status; null when the user no longer exists. */
  async user(id: string): Promise<UserTokenState | null> {
    const live = this.isLive();
    if (live) {
      const hit = this.users.get(id);
      if (this.fresh(hit)) {
        this.stats.cacheHits++;
        return hit.value;
      }
    }
    const generation = this.generation;
    this.stats.dbReads++;
    const value = (await this.repo.userState(id)) ?? null;
    if (live && generation === this.generation) this.users.set(id, { value, at: Date.now() });
    return value;
  }

  async sessionRevoked(id: string): Promise<boolean> {
    const live = this.isLive();
    if (live) {
      const hit = this.sessions.get(id);
      // A revoked session never comes back, so a cached "revoked" is final whatever its age.
      if (hit && (hit.value || this.fresh(hit))) {
        this.stats.cacheHits++;
        return hit.value;
      }
    }
    const generation = this.generation;
    this.stats.dbReads++;
    const value = await this.repo.sessionRevoked(id);
    if (live && generation === this.generation) this.sessions.set(id, { value, at: Date.now() });
    return value;
  }

  async jtiRevoked(jti: string): Promise<boolean> {
    if (this.isLive() && !this.becoming) {
      const exp = this.jtis.get(jti);
      if (exp !== undefined && exp <= this.clock.now().getTime()) this.jtis.delete(jti);
      return exp !== undefined;
    }
    this.stats.dbReads++;
    return this.repo.jtiRevoked(jti);
  }

  /** Publishes a revocation already written to the database; applied locally at once as well. */
  async announce(msg: Exclude<Message, { t: 'hb' }>): Promise<void> {
    this.onMessage(JSON.stringify(msg));
    // If the publish fails, Redis is most likely down for every node, so their heartbeats stop
    // and they read the database; a few retries cover a failure of this node's connection alone.
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await this.kv.publish(REVOCATION_CHANNEL, JSON.stringify(msg));
        return;
      } catch (err) {
        if (attempt === 4) this.onError(err);
        else await new Promise((resolve) => setTimeout(resolve, 100 * (attempt + 1)));
      }
    }
  }
}
