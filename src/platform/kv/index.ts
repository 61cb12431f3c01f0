import { MemoryKv } from './memory.js';
import type { Kv, KvScript } from './types.js';

export * from './types.js';
export { MemoryKv } from './memory.js';
export type { MemoryKvOptions } from './memory.js';
export type { RedisKvOptions } from './redis.js';

export interface OpenKvOptions {
  /** REDIS_URL; without it the store is in-process memory (one node only). */
  url?: string;
  /** KV_PREFIX, applied to every Redis key and channel. */
  prefix: string;
  /** Clock for the memory store (tests); Redis keeps its own time. */
  now?: () => number;
  /** Connection and subscriber-handler errors once running (default: console.error). */
  onError?: (error: Error) => void;
}

/**
 * Opens the configured store. With a URL it connects and pings once, so a wrong or
 * unreachable REDIS_URL stops startup with a clear message instead of surfacing later as
 * every request failing over to per-node limits.
 */
export async function openKv(options: OpenKvOptions): Promise<Kv> {
  const report = options.onError ?? ((error: Error) => console.error(`[kv] ${error.message}`));
  if (!options.url) return new MemoryKv({ ...(options.now ? { now: options.now } : {}), onError: report });

  const where = describeRedisUrl(options.url);
  // ioredis loads only when Redis is configured: the embedded default never pays for it.
  const { RedisKv } = await import('./redis.js');
  let started = false;
  const kv = new RedisKv({
    url: options.url,
    keyPrefix: options.prefix,
    // A failure while starting is reported once, by the error thrown below.
    onError: (error) => {
      if (started) report(error);
    },
  });
  try {
    await kv.connect();
    await kv.ping();
    started = true;
    return kv;
  } catch (error) {
    await kv.close();
    // No `cause`: ioredis errors may carry the AUTH command with the password as argument,
    // and startup errors get logged. RedisKv already scrubbed the message itself.
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`Redis at ${where} is not reachable: ${reason}`);
  }
}

/** host:port for messages, never the credentials that REDIS_URL may contain. */
function describeRedisUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Node's invalid-URL error carries the input (and so the password): do not rethrow it.
    throw new Error('REDIS_URL is not a valid URL');
  }
  return `${parsed.hostname}:${parsed.port || '6379'}`;
}

/**
 * Compare-and-set: KEYS[1] is set to ARGV[2] only if it currently holds ARGV[1]; returns
 * true when it was swapped. Optional ARGV[3] is a new TTL in ms; without it the key keeps
 * its remaining TTL, so rotating a one-time marker can never make it permanent by accident.
 * A missing key never matches. It is also the model for further scripts: a Lua body and a
 * memory twin with the same semantics, checked against each other by the contract tests.
 */
export const compareAndSetScript: KvScript<boolean> = {
  name: 'kv.compareAndSet',
  // An invalid ARGV[3] (0, negative, not an integer) makes SET fail before writing, just
  // as the memory twin throws before writing.
  lua: `
if ARGV[2] == nil then return redis.error_reply('compareAndSet needs expected and new value') end
local current = redis.call('GET', KEYS[1])
if current ~= ARGV[1] then return 0 end
if ARGV[3] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
else
  redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
end
return 1`,
  parse: (raw) => raw === 1,
  memory: (store, keys, args) => {
    const [key] = keys;
    const [expected, next, ttl] = args;
    if (key === undefined || expected === undefined || next === undefined) {
      throw new Error('compareAndSet needs expected and new value');
    }
    if (store.get(key) !== expected) return false;
    if (ttl !== undefined) {
      // Same strictness as Redis parsing PX: decimal digits only ('1e3' or '1.5' fail).
      if (!/^-?[0-9]+$/.test(ttl)) throw new Error('ERR value is not an integer or out of range');
      store.set(key, next, Number(ttl));
    } else {
      const remaining = store.pttl(key);
      store.set(key, next, remaining > 0 ? remaining : undefined);
    }
    return true;
  },
};

/** Convenience wrapper around compareAndSetScript. */
export function compareAndSet(kv: Kv, key: string, expected: string, next: string, ttlMs?: number): Promise<boolean> {
  return kv.run(compareAndSetScript, [key], ttlMs === undefined ? [expected, next] : [expected, next, ttlMs]);
}
