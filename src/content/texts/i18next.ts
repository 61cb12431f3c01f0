/**
 * Site text keys and the i18next JSON format (https://www.i18next.com/misc/json-format): nested
 * objects whose path, joined with dots, is the key (`{"nav": {"home": "Home"}}` is `nav.home`),
 * with string leaves. Flat keys with dots in a file (`{"nav.home": "Home"}`) mean the same key.
 *
 * Everything here is bounded before it is walked: key length and segments, nesting depth, the
 * number of keys, the text length. The walk is iterative, and stops at the first bound crossed,
 * so a hostile file costs no more than the limits allow.
 */

/** One segment of a key: letters, digits, `_` and `-` (i18next's plural and context suffixes use `_`). */
export const KEY_SEGMENT = '[A-Za-z0-9_-]{1,64}';
export const MAX_KEY_SEGMENTS = 8;
export const MAX_KEY_CHARS = 200;
export const SITE_TEXT_KEY_PATTERN = `^${KEY_SEGMENT}(?:\\.${KEY_SEGMENT}){0,${MAX_KEY_SEGMENTS - 1}}$`;
/** Longest interface string. */
export const MAX_TEXT_CHARS = 5000;
/** Most keys the site may have (and so the most one import may carry). */
export const MAX_SITE_TEXT_KEYS = 5000;
/** Problems listed in one refusal. */
const MAX_REPORTED = 20;

const KEY = new RegExp(SITE_TEXT_KEY_PATTERN);
const SEGMENT = new RegExp(`^${KEY_SEGMENT}$`);
/** Names that would reach an object's prototype when a front-end nests the keys again. */
const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'prototype', 'constructor']);
/** Names of the import/export routes, which `/api/admin/texts/:key` could not address. */
const RESERVED_KEYS = new Set(['import', 'export']);

/** Why `key` is not a site text key, or undefined when it is one. */
export function keyProblem(key: string): string | undefined {
  if (key.length > MAX_KEY_CHARS) return `at most ${MAX_KEY_CHARS} characters`;
  if (!KEY.test(key)) {
    return `segments of letters, digits, _ and - (at most 64 each, at most ${MAX_KEY_SEGMENTS}) joined by dots, e.g. nav.home or cart.items_other`;
  }
  if (key.split('.').some((s) => FORBIDDEN_SEGMENTS.has(s)))
    return '__proto__, prototype and constructor are not allowed as segments';
  if (RESERVED_KEYS.has(key)) return '"import" and "export" alone are reserved';
  return undefined;
}

export interface Problem {
  path: string;
  message: string;
}

/**
 * The (key, text) pairs of an i18next object, in file order, or the problems that refuse it:
 * a leaf that is not a string (number, boolean, null, array), a key that is not a site text key,
 * nesting deeper than the key segments allow, the same key twice, too many keys, a text too long.
 * Empty strings are left out: i18next writes "" for "not translated yet".
 */
export function flattenI18next(
  value: unknown,
  limits: { maxKeys: number } = { maxKeys: MAX_SITE_TEXT_KEYS },
): { entries: [string, string][]; problems: Problem[] } {
  const problems: Problem[] = [];
  const entries: [string, string][] = [];
  const seen = new Set<string>();
  const report = (path: string, message: string) => {
    if (problems.length < MAX_REPORTED) problems.push({ path, message });
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { entries, problems: [{ path: 'body', message: 'must be a JSON object of texts (i18next format)' }] };
  }
  // Depth-first, in file order; each stack item is an object and the key path that reached it.
  const stack: { node: Record<string, unknown>; prefix: string[] }[] = [
    { node: value as Record<string, unknown>, prefix: [] },
  ];
  let leaves = 0;
  while (stack.length > 0 && problems.length < MAX_REPORTED) {
    const { node, prefix } = stack.pop()!;
    const nested: { node: Record<string, unknown>; prefix: string[] }[] = [];
    for (const [name, child] of Object.entries(node)) {
      const segments = [...prefix, ...name.split('.')];
      const key = segments.join('.');
      const path = `body/${segments.map(pointer).join('/')}`;
      if (segments.length > MAX_KEY_SEGMENTS) {
        report(path, `nested deeper than ${MAX_KEY_SEGMENTS} levels`);
        continue;
      }
      if (typeof child === 'object' && child !== null && !Array.isArray(child)) {
        const bad = name.split('.').find((s) => !SEGMENT.test(s) || FORBIDDEN_SEGMENTS.has(s));
        if (bad !== undefined) {
          report(
            path,
            `key: "${bad.slice(0, 40)}" is not a key segment (letters, digits, _ and -, at most 64; not __proto__, prototype or constructor)`,
          );
          continue;
        }
        nested.push({ node: child as Record<string, unknown>, prefix: segments });
        continue;
      }
      if (typeof child !== 'string') {
        report(
          path,
          `must be a string (i18next leaves are strings), not ${child === null ? 'null' : Array.isArray(child) ? 'an array' : typeof child}`,
        );
        continue;
      }
      const problem = keyProblem(key);
      if (problem) {
        report(path, `key: ${problem}`);
        continue;
      }
      if (child.length > MAX_TEXT_CHARS) {
        report(path, `at most ${MAX_TEXT_CHARS} characters`);
        continue;
      }
      if (seen.has(key)) {
        report(path, `the key ${key} is given twice`);
        continue;
      }
      seen.add(key);
      if (++leaves > limits.maxKeys) {
        report('body', `at most ${limits.maxKeys} keys`);
        return { entries: [], problems };
      }
      if (child !== '') entries.push([key, child]);
    }
    // Reversed, so the first nested object is walked next (file order).
    for (let i = nested.length - 1; i >= 0; i--) stack.push(nested[i]!);
  }
  return { entries: problems.length > 0 ? [] : entries, problems };
}

/**
 * The i18next object of (key, text) pairs: keys split at dots into nested objects, in key order.
 * Keys never conflict (the service refuses `a` beside `a.b`); if stored data ever did, the
 * deeper key wins over the leaf rather than failing the export.
 */
export function nestI18next(entries: readonly (readonly [string, string])[]): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  const sorted = [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [key, text] of sorted) {
    const segments = key.split('.');
    if (segments.some((s) => FORBIDDEN_SEGMENTS.has(s))) continue;
    let node = root;
    for (const segment of segments.slice(0, -1)) {
      const next = Object.hasOwn(node, segment) ? node[segment] : undefined;
      if (typeof next !== 'object' || next === null) node[segment] = {};
      node = node[segment] as Record<string, unknown>;
    }
    const last = segments.at(-1)!;
    if (!Object.hasOwn(node, last)) node[last] = text;
  }
  return root;
}

/** The pairs of keys where one is a path prefix of the other (`a` and `a.b`): i18next cannot nest both. */
export function prefixConflicts(keys: Iterable<string>): [string, string][] {
  const all = new Set(keys);
  const out: [string, string][] = [];
  for (const key of all) {
    const segments = key.split('.');
    for (let n = 1; n < segments.length; n++) {
      const prefix = segments.slice(0, n).join('.');
      if (all.has(prefix)) out.push([prefix, key]);
    }
  }
  return out;
}

const pointer = (segment: string) => segment.replace(/~/g, '~0').replace(/\//g, '~1').slice(0, 64);
