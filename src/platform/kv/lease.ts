/**
 * A leader lease in the KV: at most one holder per key at a time, for `ttlMs` unless the holder
 * renews it. A node that dies holds nothing once the TTL runs out; a node that stops gives it back
 * (`release`) so another takes over at its next try. Both steps are one atomic script (Lua on
 * Redis, its JavaScript twin in memory), so two nodes trying at the same moment cannot both win.
 *
 * The lease says who *should* do a job, not that the job is safe to run twice: a holder paused past
 * its TTL (a long GC, a slow pass) may overlap with the next holder, so jobs keep their own
 * exactly-once guarantee in the database (the schedule job's advisory lock and row locks).
 */
import { randomUUID } from 'node:crypto';
import { assertTtlMs, type Kv, type KvScript } from './types.js';

/**
 * KEYS[1] the lease, ARGV[1] the caller's holder id, ARGV[2] the TTL in ms. Takes the lease when
 * nobody holds it, renews it (a fresh TTL) when the caller does; 1 when the caller holds it now.
 */
export const acquireLeaseScript: KvScript<boolean> = {
  name: 'kv.acquireLease',
  lua: `
if ARGV[2] == nil then return redis.error_reply('acquireLease needs a holder and a ttl') end
local current = redis.call('GET', KEYS[1])
if current and current ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`,
  parse: (raw) => raw === 1,
  memory: (store, keys, args) => {
    const [key] = keys;
    const [holder, ttl] = args;
    if (key === undefined || holder === undefined || ttl === undefined) {
      throw new Error('acquireLease needs a holder and a ttl');
    }
    const current = store.get(key);
    if (current !== null && current !== holder) return false;
    store.set(key, holder, Number(ttl));
    return true;
  },
};

/** KEYS[1] the lease, ARGV[1] the holder id: deletes the lease only if that holder has it. */
export const releaseLeaseScript: KvScript<boolean> = {
  name: 'kv.releaseLease',
  lua: `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0`,
  parse: (raw) => raw === 1,
  memory: (store, keys, args) => {
    const [key] = keys;
    const [holder] = args;
    if (key === undefined || holder === undefined || store.get(key) !== holder) return false;
    return store.del(key);
  },
};

export class KvLease {
  /** This holder's id: one per lease object (so per node and job). */
  readonly holder = randomUUID();

  constructor(
    private readonly kv: Kv,
    private readonly key: string,
    private readonly ttlMs: number,
  ) {
    assertTtlMs(ttlMs);
  }

  /** Takes or renews the lease: true when this holder has it for the next `ttlMs`. */
  acquire(): Promise<boolean> {
    return this.kv.run(acquireLeaseScript, [this.key], [this.holder, this.ttlMs]);
  }

  /** Gives the lease back if this holder has it (another node may take it at once). */
  release(): Promise<boolean> {
    return this.kv.run(releaseLeaseScript, [this.key], [this.holder]);
  }
}
