/** HTTP: proxies, CORS, body limits, timeouts (src/app.ts) and public-read caching (src/http/http-cache.ts). */

import { cidrList, int, originList, type Parser, type SchemaSection } from '../parsers.js';

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
  return cidrList(raw);
};

export const httpSchema = {
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
  PUBLIC_CACHE_MAX_AGE: {
    group: 'HTTP',
    doc: 'Seconds browsers and CDNs may reuse a public portfolio read without asking again (Cache-Control max-age): how long a change may take to reach visitors, plus the stale window below. 0: always revalidate (ETag, 304). When set it wins over the site setting publicCacheMaxAge (docs/SETTINGS.md); unset, the setting applies (this default until an admin changes it).',
    default: '60',
    parse: int(0, 86_400),
  },
  PUBLIC_CACHE_STALE_WHILE_REVALIDATE: {
    group: 'HTTP',
    doc: 'Seconds after max-age during which a cache may still serve a public read while it revalidates in the background (Cache-Control stale-while-revalidate). 0: never serve stale.',
    default: '300',
    parse: int(0, 604_800),
  },
  PUBLIC_READ_CACHE_SIZE_MB: {
    group: 'HTTP',
    doc: 'Memory each node may use to keep prepared public portfolio reads (bytes, tags and compressed forms), in MB. Writes evict what they change on every node. 0: no per-node cache, every read runs the one query.',
    default: '16',
    parse: int(0, 4096),
  },
  PUBLIC_READ_CACHE_MAX_STALENESS_MS: {
    group: 'HTTP',
    doc: 'The longest a node serves a cached public read without the database confirming it is current, in ms (at most 5000). Changes normally arrive over the KV channel at once; this bounds a missed message or a KV outage.',
    default: '2000',
    parse: int(0, 5000),
  },
} satisfies SchemaSection;
