/**
 * The one schema for every environment variable the server reads.
 *
 * Each entry carries its documentation, its default and its parser, so the same table drives
 * boot-time validation, `.env.example` and the README's configuration table
 * (`npm run docs:env` regenerates both; a test fails when they drift).
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

// ---- parsers --------------------------------------------------------------------------------

export const str: Parser<string> = (raw) => raw;

export const nonEmpty: Parser<string> = (raw) => {
  if (raw.trim() === '') throw new Error('must not be empty');
  return raw.trim();
};

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
    if (!(values as readonly string[]).includes(v)) {
      throw new Error(`must be one of ${values.join(', ')}, got "${raw}"`);
    }
    return v as T[number];
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

export const list: Parser<string[]> = (raw) =>
  raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

/** Origins for CORS: each must be an http(s) origin without a path, or the list is empty. */
export const originList: Parser<string[]> = (raw) => {
  const items = list(raw);
  for (const item of items) {
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
  }
  return items.map((i) => i.replace(/\/$/, ''));
};

/**
 * TRUST_PROXY: `false` (default, use the socket address), a hop count, or a list of proxy
 * addresses/CIDRs. `true` is refused: trusting every hop lets any client forge its address
 * through X-Forwarded-For and walk around per-IP rate limits and blocks.
 */
export type TrustProxy = false | number | string[];
export const trustProxy: Parser<TrustProxy> = (raw) => {
  const v = raw.trim().toLowerCase();
  if (v === '' || v === 'false' || v === '0') return false;
  if (v === 'true') {
    throw new Error(
      'true would trust X-Forwarded-For from anyone, so clients could forge their IP; give the hop count or the proxy CIDRs (e.g. 10.0.0.0/8)',
    );
  }
  if (/^\d+$/.test(v)) return int(1, 10)(v);
  const items = list(raw);
  for (const item of items) {
    if (!isCidrOrIp(item)) throw new Error(`"${item}" is not an IP address or CIDR`);
  }
  return items;
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

// ---- the schema ------------------------------------------------------------------------------

export const schema = {
  NODE_ENV: {
    group: 'Server',
    doc: 'development, test or production. production refuses to start on unsafe defaults.',
    default: 'development',
    parse: oneOf(['development', 'test', 'production'] as const),
  },
  HOST: {
    group: 'Server',
    doc: 'Address to listen on. 127.0.0.1 keeps the server private; 0.0.0.0 listens on every interface (containers).',
    default: '127.0.0.1',
    parse: nonEmpty,
  },
  PORT: {
    group: 'Server',
    doc: 'TCP port to listen on (0 picks a free one).',
    default: '3000',
    parse: int(0, 65535),
  },
  PUBLIC_URL: {
    group: 'Server',
    doc: 'The public base URL of this API, used in links (mails, OpenAPI servers).',
    default: 'http://127.0.0.1:3000',
    parse: url(['http', 'https']),
  },
  LOG_LEVEL: {
    group: 'Server',
    doc: 'pino log level: fatal, error, warn, info, debug, trace or silent.',
    default: 'info',
    parse: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const),
  },
  DATA_DIR: {
    group: 'Storage',
    doc: 'Folder for everything the embedded mode keeps on disk: the PGlite database, generated secrets, and later files and backups.',
    default: './data',
    parse: nonEmpty,
  },
  DATABASE_URL: {
    group: 'Storage',
    doc: 'PostgreSQL (>= 14) connection URL. Unset: the embedded PGlite database under DATA_DIR/pgdata.',
    example: 'postgres://app:app@127.0.0.1:5432/portfolio',
    parse: url(['postgres', 'postgresql']),
    secret: true,
  },
  DATABASE_POOL_SIZE: {
    group: 'Storage',
    doc: 'Maximum PostgreSQL connections per process.',
    default: '10',
    parse: int(1, 200),
  },
  REDIS_URL: {
    group: 'Storage',
    doc: 'Redis URL for shared limits, blocks and revocations. Unset: in-process memory (one node only).',
    example: 'redis://127.0.0.1:6379/0',
    parse: url(['redis', 'rediss']),
    secret: true,
  },
  KV_PREFIX: {
    group: 'Storage',
    doc: 'Prefix for every key this app writes to Redis, so several apps can share one Redis.',
    default: 'pf:',
    parse: nonEmpty,
  },
  TRUST_PROXY: {
    group: 'HTTP',
    doc: 'Reverse proxies whose X-Forwarded-For is believed: false, a hop count, or proxy IPs/CIDRs (comma-separated). true is refused.',
    default: 'false',
    parse: trustProxy,
  },
  CORS_ORIGINS: {
    group: 'HTTP',
    doc: 'Comma-separated browser origins allowed to call the API (e.g. https://me.example). Empty: no cross-origin access.',
    default: '',
    parse: originList,
  },
  MAX_REQUEST_SIZE: {
    group: 'HTTP',
    doc: 'Largest accepted request body in bytes; larger bodies get 413.',
    default: '10485760',
    parse: int(1024, 1024 * 1024 * 1024),
  },
  JSON_BODY_LIMIT: {
    group: 'HTTP',
    doc: 'Largest accepted JSON body in bytes (JSON is parsed in memory, so this is kept well below MAX_REQUEST_SIZE).',
    default: '1048576',
    parse: int(1024, 64 * 1024 * 1024),
  },
  REQUEST_TIMEOUT: {
    group: 'HTTP',
    doc: 'Seconds a client has to send a whole request (headers and body) before it is cut off.',
    default: '30',
    parse: int(1, 3600),
  },
  SHUTDOWN_TIMEOUT: {
    group: 'HTTP',
    doc: 'Seconds to let in-flight requests finish on SIGTERM before the process exits anyway.',
    default: '10',
    parse: int(1, 600),
  },
  JWT_SECRET: {
    group: 'Authentication',
    doc: 'HMAC key for access and refresh tokens, at least 32 characters. Unset outside production: generated once and kept in DATA_DIR/secrets.',
    example: 'change-me-to-64-random-characters',
    parse: (raw: string) => {
      if (raw.length < 32) throw new Error('must be at least 32 characters');
      return raw;
    },
    secret: true,
  },
  JWT_ISSUER: {
    group: 'Authentication',
    doc: 'The iss claim of issued tokens.',
    default: 'portfolio-backend',
    parse: nonEmpty,
  },
  JWT_AUDIENCE: {
    group: 'Authentication',
    doc: 'The aud claim of issued tokens.',
    default: 'portfolio-api',
    parse: nonEmpty,
  },
  ACCESS_TOKEN_TTL: {
    group: 'Authentication',
    doc: 'Access token lifetime in seconds.',
    default: '1800',
    parse: int(60, 24 * 3600),
  },
  REFRESH_TOKEN_TTL: {
    group: 'Authentication',
    doc: 'Refresh token lifetime in seconds.',
    default: '1209600',
    parse: int(300, 365 * 24 * 3600),
  },
  PASSWORD_MIN_SCORE: {
    group: 'Authentication',
    doc: 'Lowest zxcvbn strength score (0-4) a new password must reach.',
    default: '3',
    parse: int(0, 4),
  },
} satisfies Record<string, VarSpec<unknown>>;

export type Schema = typeof schema;
export type ConfigKey = keyof Schema;
export type Config = {
  [K in ConfigKey]: Schema[K] extends { default: string }
    ? ReturnType<Schema[K]['parse']>
    : ReturnType<Schema[K]['parse']> | undefined;
};
