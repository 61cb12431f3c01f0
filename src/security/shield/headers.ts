/**
 * RateLimit-Policy and RateLimit fields, draft-ietf-httpapi-ratelimit-headers-10 (RFC 8941
 * structured field lists, one item per bucket the request was checked against):
 *
 *   RateLimit-Policy: "global-minute";q=60;w=60, "global-hour";q=1000;w=3600
 *   RateLimit: "global-minute";r=59;t=1, "global-hour";r=999;t=4
 *
 * q = quota (units per window), w = window in seconds, r = units remaining now, t = seconds
 * until the bucket is full again. With a token bucket the quota comes back continuously, so t
 * is the time until all of it is back; Retry-After on a 429 says when the next request fits.
 */
import type { BucketState } from './gcra.js';
import type { PlannedGroup } from './policies.js';

export function policyHeader(groups: readonly PlannedGroup[]): string {
  let out = '';
  for (const g of groups) {
    for (const l of g.policy.limits) {
      if (out !== '') out += ', ';
      out += `"${l.label}";q=${l.limit};w=${l.window}`;
    }
  }
  return out;
}

/** `states` lists every window, group by group (as the stores return them). */
export function rateLimitHeader(groups: readonly PlannedGroup[], states: readonly BucketState[]): string {
  let out = '';
  let i = 0;
  for (const g of groups) {
    for (const l of g.policy.limits) {
      const s = states[i++];
      if (!s) continue;
      if (out !== '') out += ', ';
      out += `"${l.label}";r=${Math.max(0, s.remaining)};t=${Math.max(0, Math.ceil(s.resetMs / 1000))}`;
    }
  }
  return out;
}
