import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import type { RedisOptions } from 'ioredis';
import { KvUnavailableError, assertTtlMs } from './types.js';
import type { Kv, KvScript } from './types.js';

export interface RedisKvOptions {
  /** redis:// or rediss:// URL; may carry credentials, which never appear in our errors. */
  url: string;
  /** Added to every key and channel (KV_PREFIX) so several apps can share one Redis. */
  keyPrefix?: string;
  /**
   * Per-command deadline in ms. Short on purpose: callers such as the rate limiter sit on
   * the request path and fall back to memory, so a stalled Redis must fail fast rather
   * than hold every request hostage.
   */
  commandTimeout?: number;
  /** How long establishing a TCP connection may take before it counts as failed. */
  connectTimeout?: number;
  /**
   * Receives connection errors (once per outage, not once per reconnect attempt) and errors
   * thrown by subscriber handlers. Errors are sanitised to a message and code. Defaults to
   * console.error.
   */
  onError?: (error: Error) => void;
}

interface Subscription {
  readonly handler: (message: string) => void;
}

interface Channel {
  readonly subscriptions: Set<Subscription>;
  /** Settles when Redis has confirmed SUBSCRIBE; later subscribers wait for it as well. */
  readonly ready: Promise<void>;
}

/** Lua twin of MemoryKv.incr: only a key that did not exist gets the TTL. */
const incrWithTtlScript: KvScript<number> = {
  name: 'kv.incrWithTtl',
  // EXISTS before INCRBY inside one script, so no other client can create or expire the key
  // in between; a separate INCR + PEXPIRE could leave a counter without TTL if we crashed.
  lua: `
local existed = redis.call('EXISTS', KEYS[1])
local value = redis.call('INCRBY', KEYS[1], ARGV[1])
if existed == 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return value`,
  parse: (raw) => Number(raw),
  memory: () => {
    throw new Error('kv.incrWithTtl is Redis-only; MemoryKv.incr implements it natively');
  },
};

/** SHA1 per script text, computed once; the SHA is what EVALSHA sends instead of the body. */
const shaCache = new WeakMap<KvScript<unknown>, string>();

function scriptSha(script: KvScript<unknown>): string {
  let sha = shaCache.get(script);
  if (sha === undefined) {
    sha = createHash('sha1').update(script.lua).digest('hex');
    shaCache.set(script, sha);
  }
  return sha;
}

/** Escapes glob metacharacters so a prefix containing '*', '?', '[' matches only itself. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

/** Errors Redis itself sent back (WRONGTYPE, Lua errors, NOSCRIPT), as opposed to outages. */
function isReplyError(error: unknown): error is Error {
  return error instanceof Error && error.name === 'ReplyError';
}

/** Kv on Redis through ioredis; every node sharing the Redis sees the same state. */
export class RedisKv implements Kv {
  readonly kind = 'redis' as const;

  private readonly prefix: string;
  private readonly password: string;
  private readonly onError: (error: Error) => void;
  private readonly client: Redis;
  private subscriber: Promise<Redis> | null = null;
  private readonly channels = new Map<string, Channel>();
  private connecting: Promise<void> | null = null;
  private lastError: Error | null = null;
  private outageReported = false;
  private closed = false;

  constructor(options: RedisKvOptions) {
    this.prefix = options.keyPrefix ?? 'pf:';
    this.password = passwordOf(options.url);
    this.onError = options.onError ?? ((error) => console.error(`[kv] ${error.message}`));
    const redisOptions: RedisOptions = {
      // Connect explicitly (connect()/openKv) so constructing has no side effects and the
      // first failure surfaces as a clear error instead of an unhandled event.
      lazyConnect: true,
      // Without a live connection, commands fail at once instead of piling up in memory
      // until Redis returns; callers decide what to do (the rate limiter uses memory).
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: options.commandTimeout ?? 500,
      connectTimeout: options.connectTimeout ?? 2_000,
      // Keep reconnecting in the background, but cap the delay so shared state returns
      // within seconds after a Redis restart.
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 10), 2_000),
      // Prefixing is done here rather than with ioredis's keyPrefix, because that option
      // neither applies to SCAN MATCH patterns nor to pub/sub channels, nor strips the
      // prefix from SCAN results: one place keeps all the isolation rules.
      keyPrefix: '',
    };
    this.client = new Redis(options.url, redisOptions);
    this.watch(this.client);
  }

  /**
   * Connects on first use and resolves when Redis is ready; safe to call repeatedly and
   * concurrently. While ioredis is reconnecting after an outage it rejects at once.
   */
  async connect(): Promise<void> {
    if (this.closed) throw new KvUnavailableError('Redis connection is closed');
    if (this.client.status === 'wait') {
      this.connecting = this.client.connect().catch((error: unknown) => {
        // ioredis rejects with a bland "Connection is closed."; the socket error that caused
        // it arrived on the 'error' event and is the useful reason (ECONNREFUSED, WRONGPASS).
        throw this.unavailable(this.lastError ?? error);
      });
    }
    const status = this.client.status;
    if (status === 'ready') return;
    if (this.connecting && (status === 'connecting' || status === 'connect')) {
      await this.connecting;
      return;
    }
    throw this.unavailable(this.lastError ?? new Error(`Redis connection is ${status}`));
  }

  async get(key: string): Promise<string | null> {
    return this.exec(() => this.client.get(this.k(key)));
  }

  async set(key: string, value: string, options: { ttlMs?: number; nx?: boolean } = {}): Promise<boolean> {
    if (options.ttlMs !== undefined) assertTtlMs(options.ttlMs);
    const args: (string | number)[] = [this.k(key), value];
    if (options.ttlMs !== undefined) args.push('PX', options.ttlMs);
    if (options.nx) args.push('NX');
    const reply = await this.exec(() => this.client.call('SET', ...args));
    return reply === 'OK';
  }

  async del(...keys: string[]): Promise<number> {
    // DEL with no keys is a Redis syntax error; "deleted nothing" is the honest answer.
    if (keys.length === 0) return 0;
    return this.exec(() => this.client.del(...keys.map((key) => this.k(key))));
  }

  async incr(key: string, by = 1, ttlMs?: number): Promise<number> {
    if (!Number.isSafeInteger(by)) throw new RangeError(`incr step must be an integer, got ${by}`);
    if (ttlMs === undefined) return this.exec(() => this.client.incrby(this.k(key), by));
    assertTtlMs(ttlMs);
    return this.run(incrWithTtlScript, [key], [by, ttlMs]);
  }

  async pttl(key: string): Promise<number> {
    return this.exec(() => this.client.pttl(this.k(key)));
  }

  async keys(prefix: string): Promise<string[]> {
    // SCAN, never KEYS: KEYS blocks the whole Redis (every node's requests) while it walks
    // the keyspace. Both prefixes are escaped so '*' in a logical key cannot widen the match.
    const pattern = `${escapeGlob(this.prefix + prefix)}*`;
    const found = new Set<string>();
    let cursor = '0';
    do {
      const [next, batch] = await this.exec(() => this.client.scan(cursor, 'MATCH', pattern, 'COUNT', 500));
      cursor = next;
      // SCAN may return a key more than once; the set removes duplicates.
      for (const key of batch) if (key.startsWith(this.prefix)) found.add(key.slice(this.prefix.length));
    } while (cursor !== '0');
    return [...found].sort();
  }

  async run<R>(script: KvScript<R>, keys: readonly string[], args: readonly (string | number)[]): Promise<R> {
    // Only KEYS are prefixed; see KvScript for why scripts must not build key names.
    const params = [...keys.map((key) => this.k(key)), ...args.map(String)];
    const sha = scriptSha(script);
    let raw: unknown;
    try {
      raw = await this.exec(() => this.client.evalsha(sha, keys.length, ...params));
    } catch (error) {
      // Redis's script cache is empty after a restart, failover or SCRIPT FLUSH. EVAL sends
      // the body once and caches it, so the next call is back to the cheap EVALSHA.
      if (!(isReplyError(error) && error.message.startsWith('NOSCRIPT'))) throw error;
      raw = await this.exec(() => this.client.eval(script.lua, keys.length, ...params));
    }
    return script.parse(raw);
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.exec(() => this.client.publish(this.k(channel), message));
  }

  async subscribe(channel: string, handler: (message: string) => void): Promise<() => Promise<void>> {
    // Checked here as well as in exec(): a closed store must not open a subscriber connection.
    if (this.closed) throw new KvUnavailableError('Redis connection is closed');
    const subscription: Subscription = { handler };
    let entry = this.channels.get(channel);
    if (!entry) {
      const subscriptions = new Set<Subscription>();
      const ready = this.subscriberConnection().then(async (subscriber) => {
        await this.exec(() => subscriber.subscribe(this.k(channel)));
      });
      entry = { subscriptions, ready };
      this.channels.set(channel, entry);
      const created = entry;
      // If SUBSCRIBE fails, forget the channel so a later subscribe tries again.
      ready.catch(() => {
        if (this.channels.get(channel) === created) this.channels.delete(channel);
      });
    }
    entry.subscriptions.add(subscription);
    try {
      await entry.ready;
    } catch (error) {
      entry.subscriptions.delete(subscription);
      throw error;
    }

    let active = true;
    const subscribed = entry;
    return async () => {
      if (!active) return;
      active = false;
      subscribed.subscriptions.delete(subscription);
      if (subscribed.subscriptions.size > 0 || this.channels.get(channel) !== subscribed) return;
      this.channels.delete(channel);
      // Never open a subscriber connection (e.g. after close()) just to unsubscribe.
      const pending = this.subscriber;
      if (!pending) return;
      try {
        const subscriber = await pending;
        await subscriber.unsubscribe(this.k(channel));
      } catch {
        // Delivery already stopped locally (no handlers left). If Redis missed UNSUBSCRIBE
        // during an outage it merely keeps sending messages nobody handles.
      }
    };
  }

  async ping(): Promise<void> {
    const reply = await this.exec(() => this.client.ping());
    if (reply !== 'PONG') throw new KvUnavailableError(`unexpected PING reply ${String(reply)}`);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.channels.clear();
    const subscriber = this.subscriber;
    this.subscriber = null;
    const connections = [this.client];
    if (subscriber) {
      try {
        connections.push(await subscriber);
      } catch {
        // The subscriber never connected; nothing to quit.
      }
    }
    await Promise.all(connections.map((connection) => quit(connection)));
  }

  /** Logical key or channel -> Redis name. */
  private k(key: string): string {
    return this.prefix + key;
  }

  /** Connects on first use, then maps outages to KvUnavailableError (reply errors pass). */
  private async exec<T>(command: () => Promise<T>): Promise<T> {
    if (this.closed) throw new KvUnavailableError('Redis connection is closed');
    // With lazyConnect and no offline queue, a command sent before the first connection is
    // ready would fail at once; wait for that one. During an outage connect() fails fast.
    if (this.client.status !== 'ready') await this.connect();
    try {
      return await command();
    } catch (error) {
      if (isReplyError(error)) throw error;
      throw this.unavailable(error);
    }
  }

  /** Pub/sub needs its own connection: a subscribed connection cannot run other commands. */
  private subscriberConnection(): Promise<Redis> {
    if (!this.subscriber) {
      const subscriber = this.client.duplicate();
      this.watch(subscriber);
      subscriber.on('message', (channel: string, message: string) => this.deliver(channel, message));
      const connecting = subscriber.connect().then(
        () => subscriber,
        (error: unknown) => {
          // Drop the failed connection so the next subscribe starts over.
          subscriber.disconnect();
          if (this.subscriber === connecting) this.subscriber = null;
          throw this.unavailable(this.lastError ?? error);
        },
      );
      this.subscriber = connecting;
    }
    return this.subscriber;
  }

  private deliver(redisChannel: string, message: string): void {
    if (!redisChannel.startsWith(this.prefix)) return;
    const entry = this.channels.get(redisChannel.slice(this.prefix.length));
    if (!entry) return;
    for (const subscription of [...entry.subscriptions]) {
      // A throwing handler must not escape into ioredis's parser callback, where it would
      // corrupt the connection state or crash the process.
      try {
        subscription.handler(message);
      } catch (error) {
        this.onError(this.sanitize(error, 'subscriber handler failed'));
      }
    }
  }

  /**
   * Without an 'error' listener, an unreachable Redis would emit an unhandled 'error' event
   * and crash the process; the app keeps running and degrades instead.
   */
  private watch(connection: Redis): void {
    connection.on('error', (error: unknown) => {
      this.lastError = error instanceof Error ? error : new Error(String(error));
      // ioredis emits an error per reconnect attempt; report an outage once, not every 2s.
      if (this.outageReported || this.closed) return;
      this.outageReported = true;
      this.onError(this.sanitize(error, 'Redis connection error'));
    });
    connection.on('ready', () => {
      this.outageReported = false;
      this.lastError = null;
    });
  }

  private unavailable(error: unknown): KvUnavailableError {
    if (error instanceof KvUnavailableError) return error;
    return new KvUnavailableError(this.sanitize(error, 'Redis unavailable').message);
  }

  /**
   * A plain Error with only a message and code. ioredis errors can carry the failed command
   * and its arguments (AUTH carries the password), so the original never leaves this class.
   */
  private sanitize(error: unknown, fallback: string): Error {
    let message = error instanceof Error && error.message ? error.message : fallback;
    if (this.password) message = message.split(this.password).join('***');
    const clean = new Error(message);
    const code = (error as { code?: unknown } | null)?.code;
    if (typeof code === 'string') Object.assign(clean, { code });
    return clean;
  }
}

async function quit(connection: Redis): Promise<void> {
  // QUIT on a never-connected client would first trigger a connection; just drop it.
  if (connection.status === 'wait' || connection.status === 'end') {
    connection.disconnect();
    return;
  }
  try {
    await connection.quit();
  } catch {
    // Not connected (reconnecting): stop the reconnect loop instead.
    connection.disconnect();
  }
}

function passwordOf(url: string): string {
  try {
    return decodeURIComponent(new URL(url).password);
  } catch {
    return '';
  }
}
