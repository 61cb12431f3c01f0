/**
 * The shape of a detection rule as operators write it (MONITORING_RULES_FILE), and its
 * validation. Like the rate-limit policies (src/security/shield/policy-spec.ts): built-in rules
 * (./rules.ts), and a JSON file whose entries change a built-in rule by name (only the fields
 * given), add a new one, or turn one off with `"enabled": false`. Free of other imports so the
 * configuration schema can check the file at boot and name the variable in its error.
 *
 * ```json
 * [
 *   { "name": "credential-stuffing-network", "threshold": 40, "window": 300 },
 *   { "name": "mfa-removed", "severity": "critical" },
 *   { "name": "audit-export", "kind": "event", "match": { "actions": ["audit.export"] }, "severity": "info" },
 *   { "name": "password-spraying", "enabled": false }
 * ]
 * ```
 */
import { readFileSync } from 'node:fs';

export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/**
 * - `event`: `threshold` matching events of one group within `window` seconds (1: every one).
 * - `distinct`: `threshold` distinct `distinct` values of one group within `window`.
 * - `after-failures`: a matching event (a success) after at least `threshold` `failures` of the
 *   same group within `window`.
 * - `new-network`: an admin action from a network (/24, /64) never seen for that admin.
 * - `audit-verify`, `backup`, `security-txt`: checks run on a schedule (every `interval` s).
 */
export const KINDS = [
  'event',
  'distinct',
  'after-failures',
  'new-network',
  'audit-verify',
  'backup',
  'security-txt',
] as const;
export type RuleKind = (typeof KINDS)[number];
export const CHECK_KINDS: readonly RuleKind[] = ['audit-verify', 'backup', 'security-txt'];

/** What an event's group or counted value is: its client (`ip`), the /24 or /64 of it (`network`), ... */
export const FIELDS = ['ip', 'network', 'actor', 'target', 'site'] as const;
export type Field = (typeof FIELDS)[number];

export interface MatchSpec {
  /** Actions; one ending in "." is a prefix (`role.` matches `role.created`). */
  actions: string[];
  outcome?: 'success' | 'failure' | 'denied';
  /** Role events only: the role gains one of these permissions (created with it, or updated to have it). */
  grants?: string[];
  /** Only events whose actor is a user id (not `anonymous` or `system`). */
  userActor?: boolean;
}

export interface RuleSpec {
  name: string;
  enabled?: boolean;
  kind?: RuleKind;
  severity?: Severity;
  /** Matches (events or distinct values) that raise; see the kinds. */
  threshold?: number;
  /** Sliding window in seconds. */
  window?: number;
  /** A repeat with the same dedup key inside this many seconds is the same alert (not delivered again). */
  dedupWindow?: number;
  match?: MatchSpec;
  /** `after-failures`: the failures that must come first. */
  failures?: MatchSpec;
  groupBy?: Field;
  /** `distinct`: what is counted. */
  distinct?: Field;
  /** `distinct`: a value seen more often than this in the window does not count (spraying: few attempts each). */
  maxPerValue?: number;
  /** `distinct`: the matches must also come from at least this many networks (spraying is spread out). */
  minNetworks?: number;
  /** Checks: seconds between runs. */
  interval?: number;
  /** `security-txt`: raise when the Expires date is fewer than this many days away. */
  days?: number;
  /** One line for the docs and the alert's summary. */
  description?: string;
}

const NAME = /^[a-z0-9][a-z0-9-]{0,59}$/;
const SEGMENT = /^[a-z0-9_]+$/;

/** A dotted lower-case action (`auth.login.failed`), or a prefix of one ending in a dot (`role.`). */
function isActionPattern(a: string): boolean {
  const parts = (a.endsWith('.') ? a.slice(0, -1) : a).split('.');
  return parts.every((p) => SEGMENT.test(p));
}
const SPEC_FIELDS = new Set([
  'name',
  'enabled',
  'kind',
  'severity',
  'threshold',
  'window',
  'dedupWindow',
  'match',
  'failures',
  'groupBy',
  'distinct',
  'maxPerValue',
  'minNetworks',
  'interval',
  'days',
  'description',
]);
const MATCH_FIELDS = new Set(['actions', 'outcome', 'grants', 'userActor']);
const DAY = 86_400;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function positiveInt(value: unknown, max: number): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1 && value <= max;
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[]): value is T {
  return typeof value === 'string' && (allowed as readonly string[]).includes(value);
}

function validateMatch(value: unknown, label: string): MatchSpec {
  if (!isRecord(value)) throw new Error(`${label} must be an object`);
  for (const field of Object.keys(value)) {
    if (!MATCH_FIELDS.has(field)) throw new Error(`${label} has an unknown field "${field}"`);
  }
  const { actions, outcome, grants, userActor } = value;
  if (!Array.isArray(actions) || actions.length === 0 || actions.length > 50) {
    throw new Error(`${label}.actions must be a list of 1 to 50 audit actions`);
  }
  for (const a of actions) {
    if (typeof a !== 'string' || a.length > 100 || !isActionPattern(a)) {
      throw new Error(`${label}.actions: "${String(a)}" is not a dotted lower-case audit action`);
    }
  }
  const spec: MatchSpec = { actions: actions as string[] };
  if (outcome !== undefined) {
    if (!oneOf(outcome, ['success', 'failure', 'denied'] as const)) {
      throw new Error(`${label}.outcome must be success, failure or denied`);
    }
    spec.outcome = outcome;
  }
  if (grants !== undefined) {
    if (!Array.isArray(grants) || grants.some((g) => typeof g !== 'string' || !/^[a-z_]+:[a-z_]+$/.test(g))) {
      throw new Error(`${label}.grants must be a list of permissions such as "user:manage"`);
    }
    spec.grants = grants as string[];
  }
  if (userActor !== undefined) {
    if (typeof userActor !== 'boolean') throw new Error(`${label}.userActor must be true or false`);
    spec.userActor = userActor;
  }
  return spec;
}

/** Validates one entry; throws an Error naming the entry and the problem. */
export function validateRuleSpec(value: unknown, index: number): RuleSpec {
  const where = `rule #${index + 1}`;
  if (!isRecord(value)) throw new Error(`${where} must be an object`);
  for (const field of Object.keys(value)) {
    if (!SPEC_FIELDS.has(field)) throw new Error(`${where} has an unknown field "${field}"`);
  }
  const { name } = value;
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new Error(`${where}: name must be lower-case letters, digits and dashes (at most 60)`);
  }
  const label = `rule "${name}"`;
  const spec: RuleSpec = { name };
  const v = value;
  if (v['enabled'] !== undefined) {
    if (typeof v['enabled'] !== 'boolean') throw new Error(`${label}: enabled must be true or false`);
    spec.enabled = v['enabled'];
  }
  if (v['kind'] !== undefined) {
    if (!oneOf(v['kind'], KINDS)) throw new Error(`${label}: kind must be one of ${KINDS.join(', ')}`);
    spec.kind = v['kind'];
  }
  if (v['severity'] !== undefined) {
    if (!oneOf(v['severity'], SEVERITIES)) throw new Error(`${label}: severity must be info, warning or critical`);
    spec.severity = v['severity'];
  }
  const ints: [keyof RuleSpec, number][] = [
    ['threshold', 1_000_000],
    ['window', 30 * DAY],
    ['dedupWindow', 30 * DAY],
    ['maxPerValue', 1_000_000],
    ['minNetworks', 100_000],
    ['interval', DAY],
    ['days', 365],
  ];
  for (const [field, max] of ints) {
    const x = v[field];
    if (x === undefined) continue;
    if (!positiveInt(x, max)) throw new Error(`${label}: ${field} must be a whole number from 1 to ${max}`);
    (spec as unknown as Record<string, number>)[field] = x;
  }
  if (v['match'] !== undefined) spec.match = validateMatch(v['match'], `${label}: match`);
  if (v['failures'] !== undefined) spec.failures = validateMatch(v['failures'], `${label}: failures`);
  for (const field of ['groupBy', 'distinct'] as const) {
    if (v[field] === undefined) continue;
    if (!oneOf(v[field], FIELDS)) throw new Error(`${label}: ${field} must be one of ${FIELDS.join(', ')}`);
    spec[field] = v[field];
  }
  if (v['description'] !== undefined) {
    if (typeof v['description'] !== 'string' || v['description'].length > 300) {
      throw new Error(`${label}: description must be text of at most 300 characters`);
    }
    spec.description = v['description'];
  }
  return spec;
}

/** Parses a JSON list of rules (or `{ "rules": [...] }`). */
export function parseRuleSpecs(text: string): RuleSpec[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error('must be JSON: a list of rules');
  }
  const list = isRecord(parsed) && Array.isArray(parsed['rules']) ? parsed['rules'] : parsed;
  if (!Array.isArray(list)) throw new Error('must be a JSON list of rules');
  const specs = list.map((item, i) => validateRuleSpec(item, i));
  const seen = new Set<string>();
  for (const spec of specs) {
    if (seen.has(spec.name)) throw new Error(`rule "${spec.name}" is listed twice`);
    seen.add(spec.name);
  }
  return specs;
}

/** Config parser for MONITORING_RULES_FILE: reads and validates the file once, at boot. */
export const ruleFileParser = (raw: string): RuleSpec[] => {
  let text: string;
  try {
    // The path is the operator's own MONITORING_RULES_FILE, read once at boot.
    // eslint-disable-next-line security/detect-non-literal-fs-filename
    text = readFileSync(raw.trim(), 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${raw.trim()}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  return parseRuleSpecs(text);
};
