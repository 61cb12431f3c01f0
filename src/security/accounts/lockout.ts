/**
 * Progressive account lockout (OWASP Authentication Cheat Sheet, NIST SP 800-63B 5.2.2 "limit
 * failed attempts"): failed credentials (password, TOTP, backup code) are counted per normalised
 * identifier — whether or not an account has it, so the answer never tells which emails exist.
 * LOCKOUT_THRESHOLD failures lock it for the first of LOCKOUT_DURATIONS, the next THRESHOLD for
 * the second, and so on (default 5 → 5 min, 10 min, then 30 min); a success starts afresh, and so
 * does a quiet LOCKOUT_RESET_AFTER.
 *
 * Parallel guessing: checking "locked?" and later counting the failure would let 50 requests sent
 * at once all pass the check before the first failure is counted. So a login first *reserves* an
 * attempt (`begin`): the reservation and the check are one atomic KV script, and reservations plus
 * counted failures never exceed the threshold. The reservation is settled by the failure or
 * success, or runs out after `attemptLeaseMs` if the request dies. However many requests arrive
 * together, at most THRESHOLD credentials per stage are ever verified.
 *
 * State lives in the KV (Redis across nodes) as one key per identifier:
 * "<failures>|<level>|<lockedUntil>|<lastFailureAt>|<reservation ends, comma-separated>".
 * `now` is always an argument (the injected clock), so Lua and memory agree and tests move time.
 */
import { createHash } from 'node:crypto';
import type { Clock } from '../../platform/clock.js';
import type { Kv, KvScript } from '../../platform/kv/index.js';
import { AppError } from '../../http/errors.js';
import { canonicalEmail } from '../../users/email.js';

export interface LockoutPolicy {
  threshold: number;
  /** Lock durations in ms for the 1st, 2nd, ... lock; the last repeats. */
  durationsMs: number[];
  /** A quiet period after which failures and level start from zero. */
  resetAfterMs: number;
  /** How long a reservation from `begin` holds a slot if never settled. */
  attemptLeaseMs: number;
}

export interface LockState {
  locked: boolean;
  retryAfterSeconds: number;
}

export interface FailureResult extends LockState {
  /** This failure locked the identifier (mail the unlock link, record the event). */
  lockedNow: boolean;
  /** Locks so far in this streak (1 = first lock). */
  level: number;
}

/**
 * The identifier as one account sees it: its canonical email (src/users/email.ts, the same
 * function the database lookup and the per-account login limit use), so "Alice@X.com " and
 * "alice@x.com" share a counter and no spelling that reaches the account gets a counter of its
 * own. Requests never get here with anything else (the login answers 400 first); an address
 * stored before the rule existed is counted as stored. Hashed: no email address is ever a KV key.
 */
export function normaliseIdentifier(identifier: string): string {
  return canonicalEmail(identifier) ?? identifier.trim();
}

export function lockoutKey(identifier: string, scope?: string): string {
  const base = normaliseIdentifier(identifier) + (scope ? `\u0000${scope}` : '');
  return `acct:lock:${createHash('sha256').update(base).digest('base64url').slice(0, 32)}`;
}

/** Reply codes of the script. */
const OPEN = 0;
const LOCKED = 1;
const BUSY = 2;
const LOCKED_NOW = 3;

interface StepReply {
  code: number;
  ms: number;
  level: number;
}

interface State {
  failures: number;
  level: number;
  lockedUntil: number;
  lastAt: number;
  pending: number[];
}

function parseState(value: string | null, now: number): State {
  const m = value === null ? null : /^(\d+)\|(\d+)\|(\d+)\|(\d+)\|(.*)$/.exec(value);
  if (!m) return { failures: 0, level: 0, lockedUntil: 0, lastAt: 0, pending: [] };
  return {
    failures: Number(m[1]),
    level: Number(m[2]),
    lockedUntil: Number(m[3]),
    lastAt: Number(m[4]),
    pending: (m[5] ?? '')
      .split(',')
      .filter((t) => /^\d+$/.test(t))
      .map(Number)
      .filter((t) => t > now),
  };
}

/**
 * One step of the lockout state machine. KEYS[1] = the identifier's key. ARGV = op, now,
 * threshold, resetAfterMs, leaseMs, durations (comma-separated ms).
 * op: check | begin | fail | release. Reply {code, ms, level}: OPEN (ms = failures left for
 * fail), LOCKED (ms until unlock), BUSY (every slot reserved; ms until the first frees),
 * LOCKED_NOW (ms of the new lock).
 */
export const lockoutScript: KvScript<StepReply> = {
  name: 'accounts.lockout',
  lua: `
local op = ARGV[1]
local now = tonumber(ARGV[2])
local threshold = tonumber(ARGV[3])
local resetAfter = tonumber(ARGV[4])
local lease = tonumber(ARGV[5])
local durations = {}
for d in string.gmatch(ARGV[6], '%d+') do durations[#durations + 1] = tonumber(d) end
local failures, level, lockedUntil, lastAt = 0, 0, 0, 0
local pending = {}
local v = redis.call('GET', KEYS[1])
if v then
  local f, l, u, la, p = string.match(v, '^(%d+)|(%d+)|(%d+)|(%d+)|(.*)$')
  if f then
    failures, level, lockedUntil, lastAt = tonumber(f), tonumber(l), tonumber(u), tonumber(la)
    for t in string.gmatch(p, '%d+') do
      if tonumber(t) > now then pending[#pending + 1] = tonumber(t) end
    end
  end
end
if lockedUntil > now then
  if op == 'fail' or op == 'release' then
    if #pending > 0 then table.remove(pending, 1) end
  else
    return {1, lockedUntil - now, level}
  end
elseif lastAt > 0 and now - lastAt >= resetAfter then
  failures, level = 0, 0
end
local function save()
  local keep = resetAfter
  if lockedUntil - now > keep then keep = lockedUntil - now end
  for i = 1, #pending do
    if pending[i] - now > keep then keep = pending[i] - now end
  end
  local parts = {}
  for i = 1, #pending do parts[i] = string.format('%.0f', pending[i]) end
  redis.call('SET', KEYS[1], failures .. '|' .. level .. '|' .. string.format('%.0f', lockedUntil) .. '|' ..
    string.format('%.0f', lastAt) .. '|' .. table.concat(parts, ','), 'PX', string.format('%.0f', keep + 1000))
end
if lockedUntil > now then
  save()
  return {1, lockedUntil - now, level}
end
if op == 'check' then
  return {0, threshold - failures, level}
elseif op == 'begin' then
  if failures + #pending >= threshold then
    local first = pending[1]
    for i = 2, #pending do if pending[i] < first then first = pending[i] end end
    return {2, (first or now + 1000) - now, level}
  end
  pending[#pending + 1] = now + lease
  save()
  return {0, threshold - failures - #pending, level}
elseif op == 'release' then
  if #pending > 0 then table.remove(pending, 1) end
  save()
  return {0, threshold - failures, level}
elseif op == 'fail' then
  if #pending > 0 then table.remove(pending, 1) end
  failures = failures + 1
  lastAt = now
  if failures >= threshold then
    level = level + 1
    local idx = level
    if idx > #durations then idx = #durations end
    local duration = durations[idx]
    lockedUntil = now + duration
    failures = 0
    pending = {}
    save()
    return {3, duration, level}
  end
  save()
  return {0, threshold - failures, level}
end
return redis.error_reply('unknown lockout op')`,
  parse: (raw) => {
    const [code, ms, level] = raw as [number, number, number];
    return { code: Number(code), ms: Number(ms), level: Number(level) };
  },
  memory: (store, keys, args, _nowMs) => {
    const [key = ''] = keys;
    const [op = '', nowRaw = '0', thresholdRaw = '0', resetRaw = '0', leaseRaw = '0', durationsRaw = ''] = args;
    if (!['check', 'begin', 'fail', 'release'].includes(op)) throw new Error('unknown lockout op');
    const now = Number(nowRaw);
    const threshold = Number(thresholdRaw);
    const resetAfter = Number(resetRaw);
    const lease = Number(leaseRaw);
    const durations = (durationsRaw.match(/\d+/g) ?? []).map(Number);
    const s = parseState(store.get(key), now);
    const save = () => {
      let keep = resetAfter;
      keep = Math.max(keep, s.lockedUntil - now, ...s.pending.map((p) => p - now));
      store.set(key, `${s.failures}|${s.level}|${s.lockedUntil}|${s.lastAt}|${s.pending.join(',')}`, keep + 1000);
    };
    if (s.lockedUntil > now) {
      if (op !== 'fail' && op !== 'release') return { code: LOCKED, ms: s.lockedUntil - now, level: s.level };
      s.pending.shift();
      save();
      return { code: LOCKED, ms: s.lockedUntil - now, level: s.level };
    }
    if (s.lastAt > 0 && now - s.lastAt >= resetAfter) {
      s.failures = 0;
      s.level = 0;
    }
    if (op === 'check') return { code: OPEN, ms: threshold - s.failures, level: s.level };
    if (op === 'begin') {
      if (s.failures + s.pending.length >= threshold) {
        const first = s.pending.length > 0 ? Math.min(...s.pending) : now + 1000;
        return { code: BUSY, ms: first - now, level: s.level };
      }
      s.pending.push(now + lease);
      save();
      return { code: OPEN, ms: threshold - s.failures - s.pending.length, level: s.level };
    }
    if (op === 'release') {
      s.pending.shift();
      save();
      return { code: OPEN, ms: threshold - s.failures, level: s.level };
    }
    s.pending.shift();
    s.failures += 1;
    s.lastAt = now;
    if (s.failures >= threshold) {
      s.level += 1;
      const duration = durations[Math.min(s.level, durations.length) - 1] ?? 0;
      s.lockedUntil = now + duration;
      s.failures = 0;
      s.pending = [];
      save();
      return { code: LOCKED_NOW, ms: duration, level: s.level };
    }
    save();
    return { code: OPEN, ms: threshold - s.failures, level: s.level };
  },
};

/** 429 ACCOUNT_LOCKED, the same body for every identifier, known or not. */
export class LockoutError extends AppError {
  constructor(readonly retryAfterSeconds: number) {
    super(
      429,
      'ACCOUNT_LOCKED',
      'Account temporarily locked',
      'Too many failed sign-ins for this account. Try again later, or use the unlock link we sent to its owner.',
      {
        headers: { 'retry-after': String(retryAfterSeconds) },
      },
    );
  }
}

const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

export class Lockout {
  constructor(
    private readonly kv: Kv,
    private readonly clock: Clock,
    readonly policy: LockoutPolicy,
  ) {
    if (policy.threshold < 1 || policy.durationsMs.length === 0 || policy.durationsMs.some((d) => !(d > 0))) {
      throw new Error('lockout policy needs a threshold >= 1 and positive durations');
    }
  }

  private step(op: 'check' | 'begin' | 'fail' | 'release', identifier: string, scope?: string): Promise<StepReply> {
    const p = this.policy;
    return this.kv.run(
      lockoutScript,
      [lockoutKey(identifier, scope)],
      [op, this.clock.now().getTime(), p.threshold, p.resetAfterMs, p.attemptLeaseMs, p.durationsMs.join(',')],
    );
  }

  /** Is the identifier locked right now? (Read only.) */
  async check(identifier: string, scope?: string): Promise<LockState> {
    const r = await this.step('check', identifier, scope);
    return r.code === LOCKED
      ? { locked: true, retryAfterSeconds: seconds(r.ms) }
      : { locked: false, retryAfterSeconds: 0 };
  }

  /**
   * The current streak of an identifier (read only): failures counted since the last lock or
   * success, and how many locks it has had. Suspicious-login detection reads it before a success
   * resets it ("a burst of failures, then the right password").
   */
  async state(identifier: string, scope?: string): Promise<{ failures: number; level: number; locked: boolean }> {
    const r = await this.step('check', identifier, scope);
    if (r.code === LOCKED) return { failures: 0, level: r.level, locked: true };
    return { failures: Math.max(0, this.policy.threshold - r.ms), level: r.level, locked: false };
  }

  /**
   * Reserves one attempt. Not admitted when locked, or when every remaining attempt of this
   * stage is already reserved by requests in flight (parallel guessing).
   */
  async begin(identifier: string, scope?: string): Promise<{ admitted: boolean; retryAfterSeconds: number }> {
    const r = await this.step('begin', identifier, scope);
    return r.code === OPEN
      ? { admitted: true, retryAfterSeconds: 0 }
      : { admitted: false, retryAfterSeconds: seconds(r.ms) };
  }

  /** Counts a failure (settling one reservation if any); says whether it locked the identifier. */
  async recordFailure(identifier: string, scope?: string): Promise<FailureResult> {
    const r = await this.step('fail', identifier, scope);
    if (r.code === LOCKED_NOW)
      return { locked: true, lockedNow: true, retryAfterSeconds: seconds(r.ms), level: r.level };
    if (r.code === LOCKED) return { locked: true, lockedNow: false, retryAfterSeconds: seconds(r.ms), level: r.level };
    return { locked: false, lockedNow: false, retryAfterSeconds: 0, level: r.level };
  }

  /** Gives a reservation back without a verdict (the request failed for another reason). */
  async release(identifier: string, scope?: string): Promise<void> {
    await this.step('release', identifier, scope);
  }

  /** A success, or the owner's unlock link: the identifier starts afresh. */
  async reset(identifier: string, scope?: string): Promise<void> {
    await this.kv.del(lockoutKey(identifier, scope));
  }
}
