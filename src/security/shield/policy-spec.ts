/**
 * The shape of a rate-limit policy as operators write it (RATE_LIMIT_POLICY_FILE,
 * RATE_LIMIT_POLICIES), and its validation. Kept free of other imports so the configuration
 * schema can parse policies at boot and report a bad one with the variable's name.
 *
 * ```json
 * [
 *   { "name": "uploads", "methods": ["POST"], "path": "/api/media*", "key": "user",
 *     "limits": [{ "limit": 10, "window": 60 }, { "limit": 100, "window": 3600 }] },
 *   { "name": "register", "limits": [{ "limit": 2, "window": 60 }] },
 *   { "name": "global", "enabled": false }
 * ]
 * ```
 * An entry whose name matches a built-in policy changes only the fields it gives; a new name
 * needs `path` and `limits`. `"enabled": false` removes a policy.
 */

import { readFileSync } from 'node:fs';

/** How requests are grouped into buckets. */
export type PolicyKey = 'ip' | 'user' | `body:${string}`;

export interface LimitSpec {
  /** Requests (cost units) allowed per window; also the largest burst. */
  limit: number;
  /** Window in seconds. */
  window: number;
}

export interface PolicySpec {
  name: string;
  enabled?: boolean;
  /** HTTP methods; omitted = every method. HEAD counts as GET. */
  methods?: string[];
  /** Route pattern as registered ("/api/portfolios/:id"); a trailing "*" matches any suffix; "*" alone every request. */
  path?: string;
  /** "ip" (client key), "user" (authenticated user, the client key when anonymous), "body:<field>" (a JSON body field, normalised and hashed). */
  key?: PolicyKey;
  limits?: LimitSpec[];
  /** Units one request consumes (default 1). */
  cost?: number;
  /** When Redis is unreachable, refuse (503) instead of limiting per node in memory. */
  failClosed?: boolean;
  /**
   * Built-in only (not in FIELDS, so operators cannot set it; an override keeps it): GET/HEAD
   * routes, by the pattern the router matched, this policy does not count (policies.ts).
   */
  exceptRoutes?: readonly string[];
}

const NAME = /^[a-z0-9][a-z0-9-]{0,39}$/;
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
const FIELDS = new Set(['name', 'enabled', 'methods', 'path', 'key', 'limits', 'cost', 'failClosed']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function positiveInt(value: unknown, max: number): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1 && value <= max;
}

/** Validates one entry; throws an Error naming the entry and the problem. */
export function validatePolicySpec(value: unknown, index: number): PolicySpec {
  const where = `policy #${index + 1}`;
  if (!isRecord(value)) throw new Error(`${where} must be an object`);
  for (const field of Object.keys(value)) {
    if (!FIELDS.has(field)) throw new Error(`${where} has an unknown field "${field}"`);
  }
  const { name, enabled, methods, path, key, limits, cost, failClosed } = value;
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new Error(`${where}: name must be lower-case letters, digits and dashes (at most 40)`);
  }
  const label = `policy "${name}"`;
  const spec: PolicySpec = { name };
  if (enabled !== undefined) {
    if (typeof enabled !== 'boolean') throw new Error(`${label}: enabled must be true or false`);
    spec.enabled = enabled;
  }
  if (methods !== undefined) {
    if (
      !Array.isArray(methods) ||
      methods.length === 0 ||
      methods.some((m) => typeof m !== 'string' || !METHODS.includes(m.toUpperCase()))
    ) {
      throw new Error(`${label}: methods must be a non-empty list of ${METHODS.join(', ')}`);
    }
    spec.methods = (methods as string[]).map((m) => m.toUpperCase());
  }
  if (path !== undefined) {
    if (typeof path !== 'string' || !(path === '*' || /^\/[^\s*]*\*?$/.test(path))) {
      throw new Error(`${label}: path must start with "/" and may end with "*" (or be "*" for every request)`);
    }
    spec.path = path;
  }
  if (key !== undefined) {
    if (typeof key !== 'string' || !(key === 'ip' || key === 'user' || /^body:[A-Za-z][A-Za-z0-9_]{0,63}$/.test(key))) {
      throw new Error(`${label}: key must be "ip", "user" or "body:<field>"`);
    }
    spec.key = key as PolicyKey;
  }
  if (limits !== undefined) {
    if (!Array.isArray(limits) || limits.length === 0 || limits.length > 4) {
      throw new Error(`${label}: limits must be a list of 1 to 4 {limit, window} entries`);
    }
    spec.limits = limits.map((l: unknown) => {
      if (!isRecord(l) || !positiveInt(l['limit'], 1_000_000) || !positiveInt(l['window'], 7 * 24 * 3600)) {
        throw new Error(`${label}: each limit needs limit (1-1000000) and window in seconds (1-604800)`);
      }
      if (Object.keys(l).some((k) => k !== 'limit' && k !== 'window')) {
        throw new Error(`${label}: a limit has only limit and window`);
      }
      return { limit: l['limit'], window: l['window'] };
    });
  }
  if (cost !== undefined) {
    if (!positiveInt(cost, 1_000)) throw new Error(`${label}: cost must be an integer from 1 to 1000`);
    spec.cost = cost;
  }
  if (failClosed !== undefined) {
    if (typeof failClosed !== 'boolean') throw new Error(`${label}: failClosed must be true or false`);
    spec.failClosed = failClosed;
  }
  return spec;
}

/** Parses a JSON list of policies (or `{ "policies": [...] }`). */
export function parsePolicySpecs(text: string): PolicySpec[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error('must be JSON: a list of policies');
  }
  const list = isRecord(parsed) && Array.isArray(parsed['policies']) ? parsed['policies'] : parsed;
  if (!Array.isArray(list)) throw new Error('must be a JSON list of policies');
  const specs = list.map((item, i) => validatePolicySpec(item, i));
  const seen = new Set<string>();
  for (const spec of specs) {
    if (seen.has(spec.name)) throw new Error(`policy "${spec.name}" is listed twice`);
    seen.add(spec.name);
  }
  return specs;
}

/** Config parser for RATE_LIMIT_POLICIES (inline JSON). */
export const policyListParser = (raw: string): PolicySpec[] => parsePolicySpecs(raw);

/** Config parser for RATE_LIMIT_POLICY_FILE: reads and validates the file once, at boot. */
export const policyFileParser = (raw: string): PolicySpec[] => {
  let text: string;
  try {
    // The path is the operator's own RATE_LIMIT_POLICY_FILE, read once at boot.
    // eslint-disable-next-line security/detect-non-literal-fs-filename
    text = readFileSync(raw.trim(), 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${raw.trim()}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  return parsePolicySpecs(text);
};
