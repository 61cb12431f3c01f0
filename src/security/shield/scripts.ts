/**
 * The limiter's atomic KV scripts. Each has a Lua body (Redis: one round trip, atomic because
 * Redis runs one script at a time) and a JavaScript twin on the MemoryKv (atomic because it
 * runs synchronously). `limiter-contract.test.ts` runs the same sequences against both.
 *
 * `now` is always an argument, never Redis TIME: every node passes its injected clock, so
 * tests move time instead of sleeping, and Lua and memory see the same instant.
 */
import type { KvScript, MemoryOps } from '../../platform/kv/index.js';
import {
  blockDurationMs,
  decideGcra,
  recordViolationLog,
  type BlockInfo,
  type BucketGroup,
  type Decision,
  type Window,
} from './gcra.js';

/**
 * Keys outlive their meaning by this much. A bucket whose TAT has passed is the same as an
 * absent one, so the slack changes no answer; it only keeps a key from vanishing in Redis
 * (real time) before a test's injected clock has reached its TAT.
 */
export const TTL_SLACK_MS = 1_000;

/** Block value: "<untilMs>|<level>|<reason>". */
export function encodeBlock(block: BlockInfo): string {
  return `${block.until}|${block.level}|${block.reason}`;
}

export function decodeBlock(value: string): BlockInfo {
  const [until = '0', level = '1', ...reason] = value.split('|');
  return { until: Number(until), level: Number(level), reason: reason.join('|') || 'unknown' };
}

/**
 * How long a group's key is kept: the longest any of its TATs can lie ahead of now (a full
 * bucket's worth), plus the slack. Computed here rather than in Lua, where formatting a number
 * for a command argument is one of the dearest steps of the whole script.
 */
export function groupTtlMs(group: BucketGroup): number {
  let longest = 0;
  for (const w of group.windows) longest = Math.max(longest, w.interval * w.limit);
  return longest + TTL_SLACK_MS;
}

/** ARGV for decideScript: now, then per group: window count, cost, key TTL, (interval, limit) per window. */
export function decideArgs(now: number, groups: readonly BucketGroup[]): number[] {
  const args = [now];
  for (const g of groups) {
    args.push(g.windows.length, g.cost, groupTtlMs(g));
    for (const w of g.windows) args.push(w.interval, w.limit);
  }
  return args;
}

/** A stored group value "<tat1>:<tat2>" as numbers (garbage reads as absent). */
export function parseTats(value: string | null): number[] | undefined {
  if (value === null) return undefined;
  return value.split(':').map((t) => (/^\d+$/.test(t) ? Number(t) : 0));
}

/**
 * One decision for every group of buckets that matches a request. KEYS[1] is the client's block
 * key, KEYS[2..] one key per group; ARGV = now, then per group: window count m, cost, key TTL,
 * and (interval, limit) for each of its m windows.
 * A blocked client (block key present, its end still ahead of `now`) is answered from the block
 * key without touching any bucket. Otherwise every window of every group is checked first and
 * written only when all admit the request: a request refused by the hourly window consumes
 * nothing from the minute window, nor from any other policy.
 * Reply: {2, retryMs, blockValue} when blocked, else {allowed 0|1, retryMs, remaining, reset, ...}
 * with one (remaining, reset) pair per window, group by group.
 */
export const decideScript: KvScript<Decision> = {
  name: 'ratelimit.decide',
  lua: `
local now = tonumber(ARGV[1])
-- One MGET reads the block and every group.
local values = redis.call('MGET', unpack(KEYS))
local block = values[1]
if block then
  local untilMs = tonumber(string.match(block, '^(%d+)|')) or 0
  if untilMs > now then return {2, untilMs - now, block} end
end
local allowed, retry = 1, 0
local a = 2
local groups = {}
for g = 2, #KEYS do
  local m, cost = tonumber(ARGV[a]), tonumber(ARGV[a + 1])
  local group = {m = m, ttl = ARGV[a + 2], iv = {}, lim = {}, tat = {}, new = {}}
  a = a + 3
  local old = {}
  if values[g] then
    local k = 0
    for t in string.gmatch(values[g], '[^:]+') do
      k = k + 1
      old[k] = tonumber(t) or 0
    end
  end
  for w = 1, m do
    local interval, limit = tonumber(ARGV[a]), tonumber(ARGV[a + 1])
    a = a + 2
    local tat = old[w] or 0
    if tat < now then tat = now end
    local newTat = tat + cost * interval
    local allowAt = newTat - interval * limit
    if allowAt > now then
      allowed = 0
      if allowAt - now > retry then retry = allowAt - now end
    end
    group.iv[w], group.lim[w], group.tat[w], group.new[w] = interval, limit, tat, newTat
  end
  groups[g - 1] = group
end
local out = {allowed, retry}
for g = 1, #groups do
  local group = groups[g]
  local use = group.tat
  if allowed == 1 then
    use = group.new
    -- %d: integer milliseconds, formatted without the cost of a float conversion.
    local text = string.format('%d', use[1])
    for w = 2, group.m do text = text .. ':' .. string.format('%d', use[w]) end
    redis.call('SET', KEYS[g + 1], text, 'PX', group.ttl)
  end
  for w = 1, group.m do
    out[#out + 1] = math.floor((now + group.iv[w] * group.lim[w] - use[w]) / group.iv[w])
    out[#out + 1] = use[w] - now
  end
end
return out`,
  parse: (raw) => {
    const reply = raw as unknown[];
    if (reply[0] === 2)
      return { outcome: 'blocked', retryAfterMs: Number(reply[1]), block: decodeBlock(String(reply[2])) };
    const buckets = [];
    for (let i = 2; i + 1 < reply.length; i += 2) {
      buckets.push({ remaining: Number(reply[i]), resetMs: Number(reply[i + 1]) });
    }
    return reply[0] === 1
      ? { outcome: 'allowed', retryAfterMs: 0, buckets }
      : { outcome: 'limited', retryAfterMs: Number(reply[1]), buckets };
  },
  memory: (store, keys, args) => {
    const now = Number(args[0]);
    const [blockKey = '', ...groupKeys] = keys;
    const value = store.get(blockKey);
    const block = value === null ? null : decodeBlock(value);
    if (block && block.until > now) return { outcome: 'blocked', retryAfterMs: block.until - now, block };
    const { groups, ttls } = groupsFromArgs(groupKeys, args);
    const stored = groupKeys.map((key) => parseTats(store.get(key)));
    const result = decideGcra(stored, now, groups);
    if (!result.allowed) return { outcome: 'limited', retryAfterMs: result.retryAfterMs, buckets: result.states };
    groupKeys.forEach((key, g) => store.set(key, (result.newTats[g] as number[]).join(':'), ttls[g]));
    return { outcome: 'allowed', retryAfterMs: 0, buckets: result.states };
  },
};

function groupsFromArgs(
  groupKeys: readonly string[],
  args: readonly string[],
): { groups: BucketGroup[]; ttls: number[] } {
  const groups: BucketGroup[] = [];
  const ttls: number[] = [];
  let a = 1;
  for (const key of groupKeys) {
    const m = Number(args[a]);
    const cost = Number(args[a + 1]);
    ttls.push(Number(args[a + 2]));
    a += 3;
    const windows: Window[] = [];
    for (let w = 0; w < m; w++) {
      windows.push({ interval: Number(args[a]), limit: Number(args[a + 1]) });
      a += 2;
    }
    groups.push({ key, cost, windows });
  }
  return { groups, ttls };
}

/** What recording one violation did. */
export type ViolationOutcome =
  | { kind: 'counted'; count: number }
  | { kind: 'already-blocked'; block: BlockInfo }
  | { kind: 'blocked'; block: BlockInfo };

/** Parameters of automatic blocking, in ms. */
export interface BlockRules {
  windowMs: number;
  threshold: number;
  baseMs: number;
  maxMs: number;
  /** How long a past block still counts as "repeated" for the doubling. */
  levelTtlMs: number;
}

export function violationArgs(now: number, rules: BlockRules, reason: string): (string | number)[] {
  return [now, rules.windowMs, rules.threshold, rules.baseMs, rules.maxMs, rules.levelTtlMs, reason];
}

/**
 * Records one violation (429, 413, 408) for a client and blocks it when the threshold is
 * reached within the window. KEYS = block, violation log, block level; ARGV = now, windowMs,
 * threshold, baseMs, maxMs, levelTtlMs, reason. The block level survives the block itself
 * (levelTtlMs), so a client that comes back and offends again is blocked twice as long.
 * Reply: {0, count, 0} counted, {1, until, level} already blocked, {2, until, level} blocked now.
 */
export const violationScript: KvScript<{ code: number; a: number; b: number }> = {
  name: 'ratelimit.violation',
  lua: `
local now = tonumber(ARGV[1])
local windowMs = tonumber(ARGV[2])
local threshold = tonumber(ARGV[3])
local base = tonumber(ARGV[4])
local max = tonumber(ARGV[5])
local levelTtl = tonumber(ARGV[6])
local existing = redis.call('GET', KEYS[1])
if existing then
  local untilMs, level = string.match(existing, '^(%d+)|(%d+)|')
  untilMs = tonumber(untilMs) or 0
  if untilMs > now then return {1, untilMs, tonumber(level) or 1} end
end
local kept = {}
local log = redis.call('GET', KEYS[2])
if log then
  for t in string.gmatch(log, '%d+') do
    if tonumber(t) > now - windowMs then kept[#kept + 1] = t end
  end
end
kept[#kept + 1] = string.format('%.0f', now)
if #kept < threshold then
  redis.call('SET', KEYS[2], table.concat(kept, ','), 'PX', windowMs)
  return {0, #kept, 0}
end
local level = (tonumber(redis.call('GET', KEYS[3]) or '0') or 0) + 1
local duration = math.min(base * 2 ^ math.min(level - 1, 40), max)
local untilMs = now + duration
redis.call('SET', KEYS[3], level, 'PX', levelTtl)
redis.call('SET', KEYS[1], string.format('%.0f', untilMs) .. '|' .. level .. '|' .. ARGV[7], 'PX', string.format('%.0f', duration))
redis.call('DEL', KEYS[2])
return {2, untilMs, level}`,
  parse: (raw) => {
    const [code, a, b] = raw as [number, number, number];
    return { code: Number(code), a: Number(a), b: Number(b) };
  },
  memory: (store: MemoryOps, keys, args) => {
    const [blockKey = '', logKey = '', levelKey = ''] = keys;
    const [now, windowMs, threshold, base, max, levelTtl] = args.slice(0, 6).map(Number) as [
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    const reason = args[6] ?? 'unknown';
    const existing = store.get(blockKey);
    const current = existing === null ? null : decodeBlock(existing);
    if (current && current.until > now) return { code: 1, a: current.until, b: current.level };
    const log = (store.get(logKey) ?? '')
      .split(',')
      .filter((t) => t !== '')
      .map(Number);
    const next = recordViolationLog(log, now, windowMs, threshold);
    if (!next.reached) {
      store.set(logKey, next.log.join(','), windowMs);
      return { code: 0, a: next.log.length, b: 0 };
    }
    const level = (Number(store.get(levelKey) ?? '0') || 0) + 1;
    const duration = blockDurationMs(level, base, max);
    const until = now + duration;
    store.set(levelKey, String(level), levelTtl);
    store.set(blockKey, encodeBlock({ until, level, reason }), duration);
    store.del(logKey);
    return { code: 2, a: until, b: level };
  },
};

/** Turns the violation script's reply into an outcome. */
export function violationOutcome(reply: { code: number; a: number; b: number }, reason: string): ViolationOutcome {
  if (reply.code === 0) return { kind: 'counted', count: reply.a };
  const block = { until: reply.a, level: reply.b, reason };
  return reply.code === 1 ? { kind: 'already-blocked', block } : { kind: 'blocked', block };
}

/**
 * Writes a block unless one exists (used to carry blocks raised in memory during a Redis outage
 * over to Redis). KEYS[1] = block; ARGV = value, ttlMs. Reply 1 when written.
 */
export const putBlockScript: KvScript<boolean> = {
  name: 'ratelimit.putBlock',
  lua: `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`,
  parse: (raw) => raw === 1,
  memory: (store, keys, args) => {
    const [key = ''] = keys;
    if (store.get(key) !== null) return false;
    store.set(key, args[0] ?? '', Number(args[1]));
    return true;
  },
};
