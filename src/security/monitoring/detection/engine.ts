/**
 * The detection engine: sliding-window state in memory, fed sealed audit events in seq order.
 * `observe(event)` returns the signals the event raises (a rule's threshold reached); the consumer
 * (./consumer.ts) turns them into alerts in the transaction that advances its cursor.
 *
 * Window state lives only here, on the leader. On a takeover (or after a failed batch) it is
 * rebuilt by replaying the events of the longest window with `raise: false`: state is updated,
 * nothing is raised twice. Memory is bounded: groups idle past their window are swept, and each
 * rule keeps at most MAX_GROUPS groups (the oldest go first).
 *
 * Never a password, never an email as typed: failed sign-ins are counted by the account's id
 * (`target`); a failure on an email without an account has no target and counts as its own
 * unknown account (docs/MONITORING.md).
 */
import net from 'node:net';
import { clientKeyOf } from '../../../http/client-ip.js';
import type { ChainedEvent } from '../../audit/canonical.js';
import type { Field, MatchSpec } from './rule-spec.js';
import type { Rule } from './rules.js';

export type EngineEvent = Pick<
  ChainedEvent,
  'seq' | 'time' | 'action' | 'actor' | 'outcome' | 'ip' | 'targetType' | 'targetId' | 'metadata'
>;

/** A rule's threshold reached for one group: what becomes (or bumps) an alert. */
export interface Signal {
  rule: Rule;
  /** The group (client, network, account...), hashed into nothing: ids and addresses only. */
  key: string;
  /** The measure that reached the threshold (events, or distinct values). */
  count: number;
  summary: string;
  /** Event time in ms. */
  at: number;
  seq: number | null;
}

const MAX_GROUPS = 50_000;
const USER_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The /24 of an IPv4 address, the /64 of an IPv6 one. */
export function networkOf(ip: string): string {
  if (net.isIPv4(ip)) return `${ip.split('.').slice(0, 3).join('.')}.0/24`;
  return clientKeyOf(ip);
}

function fieldOf(event: EngineEvent, field: Field): string | null {
  switch (field) {
    case 'ip':
      return event.ip;
    case 'network':
      return event.ip ? networkOf(event.ip) : null;
    case 'actor':
      return event.actor;
    case 'target':
      // A failure on an unknown email has no target: its own unknown account (never the email).
      return event.targetId ? `${event.targetType ?? ''}:${event.targetId}` : `unknown#${event.seq}`;
    case 'site':
      return 'site';
  }
}

function permissionsOf(value: unknown): string[] {
  if (typeof value !== 'object' || value === null) return [];
  const list = (value as { permissions?: unknown }).permissions;
  return Array.isArray(list) ? list.filter((p): p is string => typeof p === 'string') : [];
}

export function matches(spec: MatchSpec, event: EngineEvent): boolean {
  if (!spec.actions.some((a) => (a.endsWith('.') ? event.action.startsWith(a) : event.action === a))) return false;
  if (spec.outcome && event.outcome !== spec.outcome) return false;
  if (spec.userActor && !USER_ID.test(event.actor)) return false;
  if (spec.grants) {
    const m = event.metadata;
    const after = permissionsOf('after' in m ? m['after'] : m);
    const before = permissionsOf(m['before']);
    if (!spec.grants.some((p) => after.includes(p) && !before.includes(p))) return false;
  }
  return true;
}

/** Timestamps of one group, oldest first, with a count per distinct value. */
class Group {
  times: number[] = [];
  values: string[] = [];
  head = 0;
  readonly counts = new Map<string, number>();
  readonly networks = new Map<string, number>();
  /** Failures before a success (`after-failures`). */

  add(t: number, value: string, network: string | null): void {
    this.times.push(t);
    this.values.push(value);
    this.counts.set(value, (this.counts.get(value) ?? 0) + 1);
    if (network !== null) this.networks.set(network, (this.networks.get(network) ?? 0) + 1);
    this.nets.push(network);
  }

  private nets: (string | null)[] = [];

  expire(before: number): void {
    while (this.head < this.times.length && (this.times[this.head] as number) <= before) {
      const value = this.values[this.head] as string;
      const n = (this.counts.get(value) ?? 1) - 1;
      if (n <= 0) this.counts.delete(value);
      else this.counts.set(value, n);
      const network = this.nets[this.head];
      if (network !== null && network !== undefined) {
        const k = (this.networks.get(network) ?? 1) - 1;
        if (k <= 0) this.networks.delete(network);
        else this.networks.set(network, k);
      }
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.times.length) {
      this.times = this.times.slice(this.head);
      this.values = this.values.slice(this.head);
      this.nets = this.nets.slice(this.head);
      this.head = 0;
    }
  }

  get size(): number {
    return this.times.length - this.head;
  }

  get last(): number {
    return this.times[this.times.length - 1] ?? 0;
  }

  clear(): void {
    this.times = [];
    this.values = [];
    this.nets = [];
    this.head = 0;
    this.counts.clear();
    this.networks.clear();
  }
}

class RuleState {
  readonly groups = new Map<string, Group>();

  group(key: string): Group {
    let g = this.groups.get(key);
    if (g) {
      // Most recently used last: the first entries are the ones to evict.
      this.groups.delete(key);
      this.groups.set(key, g);
      return g;
    }
    g = new Group();
    this.groups.set(key, g);
    if (this.groups.size > MAX_GROUPS) {
      const oldest = this.groups.keys().next().value;
      if (oldest !== undefined) this.groups.delete(oldest);
    }
    return g;
  }

  sweep(before: number): void {
    for (const [key, g] of this.groups) {
      if (g.last <= before) this.groups.delete(key);
    }
  }
}

/** The rules over the event stream (checks and `new-network` are handled by the consumer). */
export const STREAM_KINDS = new Set(['event', 'distinct', 'after-failures']);

export class DetectionEngine {
  private readonly states = new Map<string, RuleState>();
  /** The seq of the last event this state has seen (the consumer compares it with the cursor). */
  lastSeq = 0;
  private lastSweep = 0;
  readonly longestWindowS: number;

  constructor(readonly rules: readonly Rule[]) {
    for (const rule of rules) if (STREAM_KINDS.has(rule.kind)) this.states.set(rule.name, new RuleState());
    this.longestWindowS = Math.max(0, ...rules.filter((r) => STREAM_KINDS.has(r.kind)).map((r) => r.window));
  }

  reset(): void {
    for (const s of this.states.values()) s.groups.clear();
    this.lastSeq = 0;
  }

  /** Feeds one event; returns the signals it raises (none with `raise: false`, the replay). */
  observe(event: EngineEvent, options: { raise: boolean } = { raise: true }): Signal[] {
    this.lastSeq = event.seq;
    const t = Date.parse(event.time);
    const out: Signal[] = [];
    for (const rule of this.rules) {
      const state = this.states.get(rule.name);
      if (!state) continue;
      const signal = this.step(rule, state, event, t);
      if (signal && options.raise) out.push(signal);
    }
    if (t - this.lastSweep > 60_000) {
      this.lastSweep = t;
      for (const rule of this.rules) this.states.get(rule.name)?.sweep(t - rule.window * 1000);
    }
    return out;
  }

  private step(rule: Rule, state: RuleState, event: EngineEvent, t: number): Signal | undefined {
    const windowStart = t - rule.window * 1000;
    if (rule.kind === 'after-failures') {
      const key = fieldOf(event, rule.groupBy);
      if (key === null) return undefined;
      if (rule.failures && matches(rule.failures, event)) {
        state.group(key).add(t, '', null);
        return undefined;
      }
      if (!rule.match || !matches(rule.match, event)) return undefined;
      const g = state.groups.get(key);
      if (!g) return undefined;
      g.expire(windowStart);
      const failures = g.size;
      // The burst is spent: the next success needs a new one.
      g.clear();
      if (failures < rule.threshold) return undefined;
      return this.signal(rule, key, failures, event, t, `${failures} failed sign-ins then a success`);
    }
    if (!rule.match || !matches(rule.match, event)) return undefined;
    const key = fieldOf(event, rule.groupBy);
    if (key === null) return undefined;
    const g = state.group(key);
    if (rule.kind === 'event') {
      if (rule.threshold <= 1) return this.signal(rule, key, 1, event, t, event.action);
      g.expire(windowStart);
      g.add(t, '', null);
      if (g.size < rule.threshold) return undefined;
      return this.signal(rule, key, g.size, event, t, `${g.size} × ${event.action}`);
    }
    // distinct
    const value = rule.distinct ? fieldOf(event, rule.distinct) : null;
    if (value === null) return undefined;
    g.expire(windowStart);
    g.add(t, value, rule.minNetworks && event.ip ? networkOf(event.ip) : null);
    let distinct = g.counts.size;
    if (rule.maxPerValue !== undefined) {
      const max = rule.maxPerValue;
      distinct = 0;
      for (const n of g.counts.values()) if (n <= max) distinct++;
    }
    if (distinct < rule.threshold) return undefined;
    if (rule.minNetworks !== undefined && g.networks.size < rule.minNetworks) return undefined;
    return this.signal(
      rule,
      key,
      distinct,
      event,
      t,
      `${distinct} distinct ${rule.distinct ?? 'values'} in ${rule.window}s`,
    );
  }

  private signal(rule: Rule, key: string, count: number, event: EngineEvent, t: number, what: string): Signal {
    return {
      rule,
      key,
      count,
      summary: `${rule.description} (${rule.groupBy} ${key}: ${what})`,
      at: t,
      seq: event.seq,
    };
  }
}
