/**
 * HTTP caching as browsers and CDNs expect it (issue 16, item 3), in one place:
 *
 * - Public reads (`sendCacheable`): the exact bytes get a strong ETag (sha256, base64url), a
 *   matching `If-None-Match` gets 304 with the same ETag, Cache-Control and Vary and no body,
 *   `Cache-Control: public, max-age, stale-while-revalidate` (PUBLIC_CACHE_*), and large bodies
 *   are compressed (br or gzip, as Accept-Encoding allows). Each encoding is its own
 *   representation with its own strong tag (`"<hash>"`, `"<hash>-br"`, `"<hash>-gz"`).
 * - Every answer to a signed-in caller (`request.actor` set by `app.authenticate`) is
 *   `Cache-Control: private, no-store`, whatever the route: one user's view is never stored
 *   where another could get it. A route may only make it stricter (its own `private` or `no-store`).
 * - Other large JSON answers are compressed too, negotiated, with `Vary: Accept-Encoding`.
 *   Answers that set cookies are not (BREACH: a compressed secret next to reflected input), nor
 *   answers that carry their own validator (the route handles its encodings, as above).
 *
 * Every header the client sends here is read by bounded, linear scanners: a hostile
 * If-None-Match or Accept-Encoding costs nothing and can only ever get a normal 200.
 */
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

/** Bodies smaller than this are sent as they are: compression would save less than it costs. */
export const COMPRESS_MIN_BYTES = 1024;
/** Longer conditional or negotiation headers are ignored (treated as absent). */
const MAX_HEADER_CHARS = 8192;

export type Coding = 'br' | 'gzip' | 'identity';
const TAG_SUFFIX: Record<Coding, string> = { br: '-br', gzip: '-gz', identity: '' };

const brotli = promisify(zlib.brotliCompress);
const gzip = promisify(zlib.gzip);

/** The freshness of public reads (PUBLIC_CACHE_MAX_AGE, PUBLIC_CACHE_STALE_WHILE_REVALIDATE). */
export interface PublicCachePolicy {
  maxAge: number;
  staleWhileRevalidate: number;
}

/**
 * `public, max-age, stale-while-revalidate`. `validFor`: seconds the content itself stays usable
 * (its signed links expire); no cache may keep it longer, stale or not.
 */
export function publicCacheControl(policy: PublicCachePolicy, validFor = Infinity): string {
  const limit = Math.max(0, Math.floor(validFor));
  const maxAge = Math.min(policy.maxAge, limit);
  const stale = Math.min(policy.staleWhileRevalidate, limit - maxAge);
  return `public, max-age=${maxAge}, stale-while-revalidate=${stale}`;
}

export const PRIVATE_NO_STORE = 'private, no-store';

/** The strong entity tag of exact identity bytes, sent in the given content coding. */
export function strongEtag(body: string | Buffer, coding: Coding = 'identity'): string {
  return new PreparedBody(body).etag(coding);
}

/**
 * Does If-None-Match match `etag`? RFC 9110 13.1.2: `*` matches any current representation; a
 * list matches when one of its tags is equal under weak comparison (`W/` ignored on both sides,
 * opaque tags equal character for character). Elements that are not entity tags are skipped.
 */
export function ifNoneMatchHits(header: string | undefined, etag: string): boolean {
  if (header === undefined || header.length > MAX_HEADER_CHARS) return false;
  if (header.trim() === '*') return true;
  const wanted = etag.startsWith('W/') ? etag.slice(2) : etag;
  let i = 0;
  while (i < header.length) {
    const c = header[i];
    if (c === ' ' || c === '\t' || c === ',') {
      i++;
      continue;
    }
    if (header.startsWith('W/"', i)) i += 2;
    if (header[i] === '"') {
      const end = header.indexOf('"', i + 1);
      if (end < 0) return false;
      if (header.slice(i, end + 1) === wanted) return true;
      i = end + 1;
    }
    // Whatever follows a tag up to the next comma (or a whole element that is no tag) is skipped.
    const comma = header.indexOf(',', i);
    if (comma < 0) return false;
    i = comma + 1;
  }
  return false;
}

/**
 * The weight of one entry of an Accept-* header from its parameters (`q=0.8`; RFC 9110 12.4.2):
 * 1 without q, null when a parameter is not a valid q (the caller drops the entry).
 */
export function qualityOf(params: readonly string[]): number | null {
  let q = 1;
  for (const param of params) {
    const [name = '', value = '', extra] = param.split('=').map((x) => x.trim());
    if (name.toLowerCase() !== 'q' || extra !== undefined) return null;
    if (!/^[01]$/.test(value) && !/^[01]\.[0-9]{0,3}$/.test(value)) return null;
    q = Number(value);
    if (q > 1) return null;
  }
  return q;
}

/**
 * The content coding to answer in, from Accept-Encoding: br or gzip (x-gzip), whichever has the
 * higher q (br on a tie), `*` standing for both when not named; identity when neither is acceptable.
 */
export function negotiateEncoding(header: string | undefined): Coding {
  if (!header || header.length > MAX_HEADER_CHARS) return 'identity';
  const q: Partial<Record<string, number>> = {};
  for (const part of header.split(',')) {
    const [name = '', ...params] = part.split(';');
    const coding = name.trim().toLowerCase();
    // An unreadable parameter: this coding is not asked for.
    const weight = qualityOf(params) ?? 0;
    const key = coding === 'x-gzip' ? 'gzip' : coding;
    q[key] = Math.max(q[key] ?? 0, weight);
  }
  const br = q['br'] ?? q['*'] ?? 0;
  const gz = q['gzip'] ?? q['*'] ?? 0;
  if (br <= 0 && gz <= 0) return 'identity';
  return br >= gz ? 'br' : 'gzip';
}

export async function encode(body: string | Buffer, coding: Coding): Promise<Buffer> {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  if (coding === 'br') {
    // Quality 4: most of brotli's gain on JSON for a small part of quality 11's time.
    return brotli(bytes, {
      params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 4, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: bytes.length },
    });
  }
  if (coding === 'gzip') return gzip(bytes, { level: 6 });
  return bytes;
}

/** Adds header names to Vary, keeping what is there (CORS's Origin) and each name once. */
export function addVary(reply: FastifyReply, ...names: string[]): void {
  const list = headerText(reply.getHeader('vary'))
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (list.includes('*')) return;
  for (const name of names) {
    if (!list.some((s) => s.toLowerCase() === name.toLowerCase())) list.push(name);
  }
  if (list.length > 0) void reply.header('vary', list.join(', '));
}

/**
 * A serialized public JSON body with everything derived from it computed once, on first use: its
 * strong entity tag per content coding, and its compressed forms. Built per answer on a miss and
 * kept with the cache entry on a hit (src/content/public-read/), where a 304 or a br answer then
 * costs no hashing and no compression at all.
 */
export class PreparedBody {
  readonly bytes: Buffer;
  private hash: string | null = null;
  private readonly encoded = new Map<Coding, Promise<Buffer>>();

  constructor(serialized: string | ArrayBuffer | Buffer) {
    this.bytes =
      typeof serialized === 'string'
        ? Buffer.from(serialized)
        : Buffer.isBuffer(serialized)
          ? serialized
          : Buffer.from(serialized);
  }

  get compressible(): boolean {
    return this.bytes.length >= COMPRESS_MIN_BYTES;
  }

  /** The strong tag of this representation in `coding` (strongEtag of the identity bytes). */
  etag(coding: Coding): string {
    this.hash ??= createHash('sha256').update(this.bytes).digest('base64url');
    return `"${this.hash}${TAG_SUFFIX[coding]}"`;
  }

  /** The bytes in `coding`, compressed once and shared by every answer that asks. */
  body(coding: Coding): Promise<Buffer> {
    if (coding === 'identity') return Promise.resolve(this.bytes);
    let pending = this.encoded.get(coding);
    if (!pending) {
      pending = encode(this.bytes, coding);
      // A failed compression is not remembered: the next answer tries again.
      pending.catch(() => this.encoded.delete(coding));
      this.encoded.set(coding, pending);
    }
    return pending;
  }
}

/**
 * Sends a public JSON body as a cacheable representation: strong ETag, public Cache-Control,
 * Vary (`vary` plus Accept-Encoding when the body is large enough to be compressed), then 304
 * when If-None-Match matches the representation this request would get, else the body,
 * compressed as negotiated.
 */
export async function sendCacheable(
  request: FastifyRequest,
  reply: FastifyReply,
  serialized: PreparedBody | string | ArrayBuffer | Buffer,
  options: { policy: PublicCachePolicy; vary?: readonly string[]; validFor?: number },
): Promise<FastifyReply> {
  const prepared = serialized instanceof PreparedBody ? serialized : new PreparedBody(serialized);
  const compressible = prepared.compressible;
  const coding = compressible ? negotiateEncoding(request.headers['accept-encoding']) : 'identity';
  const etag = prepared.etag(coding);
  void reply.header('etag', etag).header('cache-control', publicCacheControl(options.policy, options.validFor));
  addVary(reply, ...(options.vary ?? []), ...(compressible ? ['Accept-Encoding'] : []));
  if (ifNoneMatchHits(request.headers['if-none-match'], etag)) {
    reply.removeHeader('content-type');
    return reply.code(304).send();
  }
  void reply.type('application/json; charset=utf-8');
  if (coding === 'identity') return reply.send(prepared.bytes);
  return reply.header('content-encoding', coding).send(await prepared.body(coding));
}

function headerText(value: unknown): string {
  if (Array.isArray(value)) return value.join(', ');
  return typeof value === 'string' || typeof value === 'number' ? String(value) : '';
}

/** The private rule: a signed-in caller's answer is `private, no-store` unless the route was stricter. */
export function keepPrivate(request: FastifyRequest, reply: FastifyReply): void {
  if (!request.actor) return;
  const current = headerText(reply.getHeader('cache-control')).toLowerCase();
  const strict = /\b(?:private|no-store)\b/.test(current) && !/\bpublic\b/.test(current);
  if (!strict) void reply.header('cache-control', PRIVATE_NO_STORE);
}

/**
 * The coding to compress a large JSON body in, as negotiated (and the headers that say so); null
 * when the body goes out as it is. Decided without awaiting anything: most answers are small.
 */
function compressionOf(request: FastifyRequest, reply: FastifyReply, payload: unknown): Coding | null {
  if (typeof payload !== 'string' && !Buffer.isBuffer(payload)) return null;
  const status = reply.statusCode;
  if (status < 200 || status === 204 || status === 206 || status === 304) return null;
  if (reply.hasHeader('content-encoding') || reply.hasHeader('etag') || reply.hasHeader('set-cookie')) return null;
  if (Buffer.byteLength(payload) < COMPRESS_MIN_BYTES) return null;
  if (!/\bjson\b/i.test(headerText(reply.getHeader('content-type')))) return null;
  addVary(reply, 'Accept-Encoding');
  const coding = negotiateEncoding(request.headers['accept-encoding']);
  if (coding === 'identity') return null;
  void reply.header('content-encoding', coding);
  reply.removeHeader('content-length');
  return coding;
}

/**
 * The app-wide part: the private rule and compression, on every answer. Registered once in
 * src/app.ts; the public routes call `sendCacheable` themselves. Callback style: no promise per
 * answer on the path every request takes, only for the bodies that are compressed.
 */
export const httpCachePlugin = fp(
  async (app: FastifyInstance) => {
    app.addHook('onSend', (request, reply, payload, done) => {
      keepPrivate(request, reply);
      const coding = compressionOf(request, reply, payload);
      if (coding === null) {
        done(null, payload);
        return;
      }
      encode(payload as string | Buffer, coding).then(
        (body) => done(null, body),
        (err: unknown) => done(err as Error),
      );
    });
  },
  { name: 'http-cache' },
);
