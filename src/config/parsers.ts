/**
 * The building blocks of the configuration schema: the shape of one variable (`VarSpec`) and the
 * parsers more than one section uses. A parser takes the raw string and returns the value or throws
 * an Error whose message says why the value is bad (shown to the operator next to the variable).
 * Parsers that only one feature needs live in its section under `src/config/sections/`.
 */

export type Parser<T> = (raw: string) => T;

export interface VarSpec<T> {
  /** One sentence for operators: what it does and what a sensible value looks like. */
  doc: string;
  /** Section heading in the docs table. */
  group: string;
  /** Raw default as it would be written in `.env`; undefined = unset (optional). */
  default?: string;
  /** Parses a raw string or throws an Error whose message says why the value is bad. */
  parse: Parser<T>;
  /** Shown in `.env.example` instead of the default (e.g. a placeholder). */
  example?: string;
  /** Never print this value (logs, errors). */
  secret?: boolean;
}

/** One section of the schema: the variables of one feature, in documentation order. */
export type SchemaSection = Record<string, VarSpec<unknown>>;

export const str: Parser<string> = (raw) => raw;

export const nonEmpty: Parser<string> = (raw) => {
  if (raw.trim() === '') throw new Error('must not be empty');
  return raw.trim();
};

/** A secret of at least `min` characters, taken as written (not trimmed); `why` ends the error. */
export function minLength(min: number, why = ''): Parser<string> {
  return (raw) => {
    if (raw.length < min) throw new Error(`must be at least ${min} characters${why}`);
    return raw;
  };
}

export function int(min: number, max: number): Parser<number> {
  return (raw) => {
    if (!/^-?\d+$/.test(raw.trim())) throw new Error(`must be an integer, got "${raw}"`);
    const n = Number(raw);
    if (n < min || n > max) throw new Error(`must be between ${min} and ${max}, got ${n}`);
    return n;
  };
}

export const bool: Parser<boolean> = (raw) => {
  const v = raw.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off'].includes(v)) return false;
  throw new Error(`must be true or false, got "${raw}"`);
};

export function oneOf<const T extends readonly string[]>(values: T): Parser<T[number]> {
  return (raw) => {
    const v = raw.trim();
    if (!values.includes(v)) {
      throw new Error(`must be one of ${values.join(', ')}, got "${raw}"`);
    }
    return v;
  };
}

export function url(protocols: readonly string[]): Parser<string> {
  return (raw) => {
    let u: URL;
    try {
      u = new URL(raw.trim());
    } catch {
      throw new Error('must be a URL');
    }
    if (!protocols.includes(u.protocol.replace(/:$/, ''))) {
      throw new Error(`must use one of the schemes ${protocols.join(', ')}`);
    }
    return raw.trim();
  };
}

/**
 * An http(s) URL without user info, query or fragment. User info would be copied into every link
 * built on it (credentials in mails) and, like a fragment, can hide the real host from a reader
 * (`http://localhost@evil.example`, `https://evil.example#@localhost`).
 */
function baseUrl(userInfoHint: string): Parser<string> {
  return (raw) => {
    const v = url(['http', 'https'])(raw);
    const u = new URL(v);
    // The raw text too: the parser drops an empty user info ("http://@host") and a bare "?" or "#".
    if (u.username !== '' || u.password !== '' || /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(v)) {
      throw new Error(`must not contain user info (user:password@)${userInfoHint}`);
    }
    if (u.search !== '' || u.hash !== '' || /[?#]/.test(v)) throw new Error('must not have a query or fragment');
    return v;
  };
}

/** PUBLIC_URL: scheme, host, optional port and path. */
export const publicBaseUrl: Parser<string> = baseUrl('');

/** AWS_S3_ENDPOINT: credentials belong in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY. */
export const endpointUrl: Parser<string> = baseUrl(': set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY instead');

export const list: Parser<string[]> = (raw) =>
  raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

/**
 * Browser origins, comma-separated (CORS_ORIGINS, WEBAUTHN_ORIGIN): each an http(s) origin
 * `scheme://host[:port]` as the browser sends it, a trailing slash dropped; no path, query,
 * fragment, user info, default port or upper case (the origin must be spelt as `URL.origin`
 * spells it, or it would never match). `*` is refused. The list may be empty.
 */
export const originList: Parser<string[]> = (raw) =>
  list(raw).map((item) => {
    if (item === '*') throw new Error('"*" is not allowed: list the origins that may call the API');
    let u: URL;
    try {
      u = new URL(item);
    } catch {
      throw new Error(`"${item}" is not an origin like https://example.com`);
    }
    if (!['http:', 'https:'].includes(u.protocol) || u.origin !== item.replace(/\/$/, '')) {
      throw new Error(`"${item}" is not an origin like https://example.com (no path)`);
    }
    return u.origin;
  });

/** `originList` that must name at least one origin. */
export const nonEmptyOriginList: Parser<string[]> = (raw) => {
  const origins = originList(raw);
  if (origins.length === 0) throw new Error('must hold at least one origin');
  return origins;
};

function isCidrOrIp(s: string): boolean {
  const [addr, bits, ...rest] = s.split('/');
  if (rest.length > 0 || addr === undefined) return false;
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(addr);
  let max: number;
  if (v4) {
    if (v4.slice(1).some((o) => Number(o) > 255)) return false;
    max = 32;
  } else if (/^[0-9a-f:.]+$/i.test(addr) && addr.includes(':')) {
    max = 128;
  } else {
    return false;
  }
  if (bits === undefined) return true;
  return /^\d+$/.test(bits) && Number(bits) <= max;
}

/** A comma-separated list of IP addresses and CIDR ranges (allow and deny lists). */
export const cidrList: Parser<string[]> = (raw) => {
  const items = list(raw);
  for (const item of items) {
    if (!isCidrOrIp(item)) throw new Error(`"${item}" is not an IP address or CIDR`);
  }
  return items;
};

/**
 * An object-store key prefix (BACKUP_S3_PREFIX, UPLOAD_S3_PREFIX): leading slashes dropped, a
 * trailing one added; no empty, `.` or `..` segment. `example` is shown in the error.
 */
export function keyPrefix(example: string, { allowEmpty }: { allowEmpty: boolean }): Parser<string> {
  return (raw) => {
    const v = raw.trim().replace(/^\/+/, '');
    if (
      (v === '' && !allowEmpty) ||
      v.split('/').some((s, i, all) => (s === '' && i !== all.length - 1) || s === '..' || s === '.')
    )
      throw new Error(`"${raw}" is not a key prefix like ${example}`);
    return v === '' || v.endsWith('/') ? v : `${v}/`;
  };
}
