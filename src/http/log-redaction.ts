/**
 * What the logs may not hold, decided by rule in one place (the logger's serializers and its
 * message hook, installed by `loggerOptions` in app.ts), whatever route or error produced the line.
 *
 * URLs (the request serializer, and any URL inside a message or an error's message and stack):
 * - a query value is kept only for the parameters listed in KEPT_QUERY_PARAMS (page sizes,
 *   languages, filters); every other value is `[redacted]`, so signed media links (`sig=`),
 *   mailed one-time links (`token=`) and any parameter added later are covered by default;
 * - a path segment, or a kept query value, that looks like a bearer value (long and random: a
 *   base64url token, a long hex string, a JWT) is `[redacted]` too. UUIDs (record ids) and
 *   slugs stay readable.
 *
 * Database errors (pg and PGlite alike, at any depth: `cause`, aggregated errors): the statement's
 * parameters and query text (`params`, `query`, `queryOptions`, `internalQuery`) and the fields
 * where PostgreSQL quotes row values (`detail`, `where`, the value in "invalid input syntax ...:
 * "value"") are `[redacted]`. The SQLSTATE stays, as `sqlState`.
 */

export const REDACTED = '[redacted]';

/** Query parameters whose values are safe and useful in logs. Any other value is redacted. */
export const KEPT_QUERY_PARAMS: ReadonlySet<string> = new Set([
  'lang',
  'limit',
  'cursor',
  'variant',
  'disposition',
  'expires',
  'kid',
  'ttl',
  'status',
  'format',
  'bucket',
  'action',
  'actor',
  'outcome',
  'targetType',
  'targetId',
  'from',
  'to',
  'ip',
]);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const JWT_LIKE = /^[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]*$/;
const HEX = /^[0-9a-f]+$/i;
const TOKEN_CHARS = /^[A-Za-z0-9_\-+/=.~]+$/;

/** Shannon entropy in bits per character. */
function entropy(value: string): number {
  const counts = new Map<string, number>();
  for (const c of value) counts.set(c, (counts.get(c) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) {
    const p = n / value.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

/**
 * True for a value that looks like a bearer secret: at least 20 characters of token alphabet,
 * and either a JWT, 32+ hex digits, a mix of upper case, lower case and digits, or random enough
 * (over 4 bits a character, which ordinary words and slugs do not reach). UUIDs are ids, not secrets.
 */
export function looksLikeSecret(value: string): boolean {
  if (value.length < 20 || UUID.test(value)) return false;
  if (JWT_LIKE.test(value)) return true;
  if (!TOKEN_CHARS.test(value)) return false;
  if (HEX.test(value)) return value.length >= 32;
  const classes = Number(/[a-z]/.test(value)) + Number(/[A-Z]/.test(value)) + Number(/[0-9]/.test(value));
  return classes === 3 || entropy(value) > 4;
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

/** A URL (or a path with a query) with every secret value replaced by `[redacted]`. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  const pathPart = q === -1 ? url : url.slice(0, q);
  const path = pathPart
    .split('/')
    .map((segment) => (looksLikeSecret(decode(segment)) ? REDACTED : segment))
    .join('/');
  if (q === -1) return path;
  const query = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq === -1) return looksLikeSecret(decode(pair)) ? REDACTED : pair;
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      if (value === '') return pair;
      const kept = KEPT_QUERY_PARAMS.has(decode(name)) && !looksLikeSecret(decode(value));
      return `${name}=${kept ? value : REDACTED}`;
    })
    .join('&');
  return `${path}?${query}`;
}

/** Every URL-looking run (from a `/` to the next space or quote) in free text, redacted. */
export function redactText(text: string): string {
  const quoted = text.replace(VALUE_IN_MESSAGE, `$1${REDACTED}`);
  if (!quoted.includes('/') && !quoted.includes('?')) return quoted;
  return quoted.replace(/[/?][^\s"'`<>]*/g, (run) => redactUrl(run));
}

/** PostgreSQL messages that quote the value they refused: `invalid input syntax for type uuid: "..."`. */
const VALUE_IN_MESSAGE = /(invalid input (?:syntax|value) for [^:\n]*: )"[^\n]*"/g;

// ---- serializers ------------------------------------------------------------------------------

/** Keys that carry a statement's text or its bound values, on any error (pg, PGlite, wrappers). */
const STATEMENT_KEYS = new Set([
  'params',
  'parameters',
  'values',
  'query',
  'queryText',
  'queryOptions',
  'internalQuery',
  'sql',
]);
/** Fields of a PostgreSQL error in which the server quotes row values. */
const DB_VALUE_KEYS = new Set(['detail', 'where']);

interface ErrorLike {
  name?: unknown;
  message?: unknown;
  stack?: unknown;
  cause?: unknown;
  errors?: unknown;
}

function isErrorLike(value: unknown): value is ErrorLike & object {
  return (
    value instanceof Error ||
    (typeof value === 'object' &&
      value !== null &&
      typeof (value as ErrorLike).message === 'string' &&
      typeof (value as ErrorLike).stack === 'string')
  );
}

function isDatabaseError(err: Record<string, unknown>): boolean {
  return typeof err['severity'] === 'string' && (typeof err['routine'] === 'string' || typeof err['file'] === 'string');
}

const MAX_DEPTH = 6;

/** A copy of a plain value with statement keys redacted in nested objects. */
function cleanValue(value: unknown, depth: number, seen: Set<object>): unknown {
  if (typeof value === 'string') return redactText(value);
  if (typeof value !== 'object' || value === null) return value;
  if (seen.has(value) || depth > MAX_DEPTH) return '[circular or too deep]';
  if (isErrorLike(value)) return serializeErrorAt(value, depth + 1, seen);
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.slice(0, 50).map((v) => cleanValue(v, depth + 1, seen));
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value))
      out[key] = STATEMENT_KEYS.has(key) ? REDACTED : cleanValue(v, depth + 1, seen);
    return out;
  } finally {
    seen.delete(value);
  }
}

function serializeErrorAt(err: ErrorLike & object, depth: number, seen: Set<object>): Record<string, unknown> {
  seen.add(err);
  try {
    const record = err as unknown as Record<string, unknown>;
    const db = isDatabaseError(record);
    const out: Record<string, unknown> = {
      type: err.constructor?.name && err.constructor.name !== 'Object' ? err.constructor.name : err.name,
      message: typeof err.message === 'string' ? redactText(err.message) : '',
      stack: typeof err.stack === 'string' ? redactText(err.stack) : undefined,
    };
    for (const key of Object.keys(record)) {
      if (key in out) continue;
      const value = record[key];
      if (STATEMENT_KEYS.has(key) || (db && DB_VALUE_KEYS.has(key) && !isHarmlessWhere(key, value)))
        out[key] = REDACTED;
      else out[key] = cleanValue(value, depth, seen);
    }
    if (db && typeof record['code'] === 'string') out['sqlState'] = record['code'];
    if (err.cause !== undefined && !seen.has(err.cause as object)) {
      out['cause'] = depth > MAX_DEPTH ? '[too deep]' : cleanValue(err.cause, depth, seen);
    }
    if (Array.isArray(err.errors)) out['aggregateErrors'] = cleanValue(err.errors, depth, seen);
    return out;
  } finally {
    seen.delete(err);
  }
}

/** `where: "unnamed portal parameter $3"` says which parameter failed without its value. */
function isHarmlessWhere(key: string, value: unknown): boolean {
  return key === 'where' && typeof value === 'string' && /^unnamed portal parameter \$\d+$/.test(value);
}

/** The `err` serializer: like pino's, with URLs and database statements and values redacted. */
export function serializeError(err: unknown): unknown {
  if (!isErrorLike(err)) return cleanValue(err, 0, new Set());
  return serializeErrorAt(err, 0, new Set());
}

/** The `req` serializer: Fastify's fields, with the URL redacted. */
export function serializeRequest(req: {
  method?: string;
  url?: string;
  host?: string;
  ip?: string;
  headers?: Record<string, unknown>;
  socket?: { remotePort?: number } | null;
}): Record<string, unknown> {
  return {
    method: req.method,
    url: typeof req.url === 'string' ? redactUrl(req.url) : req.url,
    version: req.headers?.['accept-version'],
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket ? req.socket.remotePort : undefined,
  };
}

/** pino `hooks.logMethod`: URLs inside message strings (e.g. "Route GET:/x?token=... not found"). */
export function redactLogArguments(args: unknown[]): unknown[] {
  return args.map((a) => (typeof a === 'string' ? redactText(a) : a));
}
