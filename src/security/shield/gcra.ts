/**
 * GCRA (the generic cell rate algorithm), the token bucket expressed as one timestamp.
 *
 * A bucket of `limit` units that refills one unit every `interval` ms is stored as its
 * theoretical arrival time (TAT): the instant at which the bucket would be full again. A
 * request costing `cost` units at `now` moves the TAT to `max(TAT, now) + cost * interval`
 * and is admitted when that new TAT is at most `now + limit * interval` (the bucket would not
 * overflow). There are no windows to reset, so there is no boundary at which a client can
 * burst twice: over any span of d ms a bucket admits at most `limit + d / interval` units.
 *
 * All values are integer milliseconds. `interval` is `ceil(window * 1000 / limit)`: rounding
 * up can only make a bucket slightly stricter (never looser) than the configured rate, and it
 * keeps the arithmetic exact in Lua (doubles) and JavaScript alike, so the Redis script and
 * its in-memory twin give identical answers.
 *
 * This file is the JavaScript reference; the Lua in scripts.ts is a line-by-line copy.
 */

/** One window of a policy: `limit` units, one regained every `interval` ms. */
export interface Window {
  /** Milliseconds to regain one unit. */
  interval: number;
  /** Capacity in units: the burst, and the count per `limit * interval` ms. */
  limit: number;
}

/**
 * The buckets of one policy for one client (or user, or account): every window of the policy,
 * stored together under one key ("<tat1>:<tat2>", in window order). A request takes `cost`
 * units from each window.
 */
export interface BucketGroup {
  /** Storage key (logical; the Redis adapter adds KV_PREFIX). */
  key: string;
  /** Units this request takes from every window. */
  cost: number;
  /** 1 to 4 windows. */
  windows: readonly Window[];
}

/** What a client sees of a bucket after the decision, for the RateLimit header. */
export interface BucketState {
  /** Units still available now. */
  remaining: number;
  /** Milliseconds until the bucket is full again. */
  resetMs: number;
}

export interface BlockInfo {
  /** Epoch ms at which the block ends. */
  until: number;
  /** How many times this client has been blocked recently (1 = first block). */
  level: number;
  /** What triggered it, e.g. "rate_limited". */
  reason: string;
}

export type Decision =
  | { outcome: 'allowed'; retryAfterMs: 0; buckets: BucketState[] }
  | { outcome: 'limited'; retryAfterMs: number; buckets: BucketState[] }
  | { outcome: 'blocked'; retryAfterMs: number; block: BlockInfo };

/** interval for `limit` per `windowSeconds`, rounded up (never looser than configured). */
export function intervalFor(limit: number, windowSeconds: number): number {
  return Math.ceil((windowSeconds * 1000) / limit);
}

/**
 * The all-or-nothing decision over several groups. `stored[g][w]` is the stored TAT of window w
 * of group g (missing or 0 when absent or expired). Either every window of every group admits
 * the request and all are charged (`newTats` is what to store), or none is charged. `states`
 * lists every window, group by group, in order.
 */
export function decideGcra(
  stored: readonly (readonly number[] | undefined)[],
  now: number,
  groups: readonly BucketGroup[],
): { allowed: boolean; retryAfterMs: number; newTats: number[][]; states: BucketState[] } {
  let allowed = true;
  let retryAfterMs = 0;
  const tats: number[][] = [];
  const newTats: number[][] = [];
  for (let g = 0; g < groups.length; g++) {
    const group = groups[g] as BucketGroup;
    const old = stored[g];
    const groupTats: number[] = [];
    const groupNew: number[] = [];
    for (let w = 0; w < group.windows.length; w++) {
      const win = group.windows[w] as Window;
      const tat = Math.max(old?.[w] ?? 0, now);
      const newTat = tat + group.cost * win.interval;
      const allowAt = newTat - win.interval * win.limit;
      if (allowAt > now) {
        allowed = false;
        if (allowAt - now > retryAfterMs) retryAfterMs = allowAt - now;
      }
      groupTats.push(tat);
      groupNew.push(newTat);
    }
    tats.push(groupTats);
    newTats.push(groupNew);
  }
  const states: BucketState[] = [];
  for (let g = 0; g < groups.length; g++) {
    const group = groups[g] as BucketGroup;
    const use = (allowed ? newTats[g] : tats[g]) as number[];
    for (let w = 0; w < group.windows.length; w++) {
      const win = group.windows[w] as Window;
      const tat = use[w] as number;
      states.push({ remaining: Math.floor((now + win.interval * win.limit - tat) / win.interval), resetMs: tat - now });
    }
  }
  return { allowed, retryAfterMs, newTats, states };
}

/**
 * Violation counting for automatic blocks: a sliding log of the last violation times (at most
 * `threshold`), so "10 within the window" means any 10 within any window-long span, with no
 * boundary to hide behind. Returns the log to keep, or `block` when the threshold is reached.
 */
export function recordViolationLog(
  log: readonly number[],
  now: number,
  windowMs: number,
  threshold: number,
): { log: number[]; reached: boolean } {
  const kept = log.filter((t) => t > now - windowMs);
  kept.push(now);
  return { log: kept, reached: kept.length >= threshold };
}

/** Block length for the n-th block: base * 2^(n-1), capped. */
export function blockDurationMs(level: number, baseMs: number, maxMs: number): number {
  return Math.min(baseMs * 2 ** Math.min(level - 1, 40), maxMs);
}

/** Storage keys, in one place so the Lua and memory stores agree. */
export const keys = {
  /** `windows` names the policy's windows ("60,3600"), so a changed policy never reads old state. */
  bucket: (policy: string, windows: string, id: string) => `rl:b:${policy}:${windows}:${id}`,
  block: (client: string) => `rl:block:${client}`,
  blockPrefix: 'rl:block:',
  violations: (client: string) => `rl:viol:${client}`,
  level: (client: string) => `rl:level:${client}`,
  channel: 'rl:blocks',
};
