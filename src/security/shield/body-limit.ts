/**
 * MAX_REQUEST_SIZE for every body, whoever reads it.
 *
 * Three places, because bodies reach the app three ways:
 * 1. A declared Content-Length above the limit is refused in onRequest, before a byte of the
 *    body is read (Node's parser guarantees the body is not longer than declared).
 * 2. A chunked body read by a Fastify content-type parser passes through a counting stream
 *    (preParsing) that fails with 413 once the total passes the limit.
 * 3. A chunked multipart body is not read by a content-type parser at all: @fastify/multipart
 *    (future uploads) streams `request.raw` itself. There the count sits on `request.raw.push`,
 *    where Node's HTTP parser hands over each chunk, so the total of all parts is bounded
 *    without changing how the stream flows; past the limit the rest is dropped and the client
 *    gets 413 with `Connection: close`. The counting stream of (2) is not put on such a body:
 *    nobody would read it, and once full it would stall the request stream for the real reader.
 *
 * Every 413 carries `Connection: close`, and the connection is closed by lingering
 * (./lingering-close.ts): the client, still sending, can read the answer; the rest of the body
 * is discarded, for a bounded time and number of bytes, and never reaches the app.
 */
import { Transform, type TransformCallback } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { shieldErrors } from './errors.js';
import { refusing } from './refusing.js';

export interface BodyLimitOptions {
  max: number;
  onTooLarge: (request: FastifyRequest) => void;
  /**
   * Register the onRequest check as a hook of its own (default). The shield plugin turns this
   * off and calls `checkBodyOnRequest` from its own onRequest hook: one hook less per request.
   */
  onRequestHook?: boolean;
}

function declaredLength(request: FastifyRequest): number | null {
  const header = request.headers['content-length'];
  if (header === undefined) return null;
  const n = Number(header);
  return Number.isFinite(n) ? n : null;
}

/** A pass-through stream that fails with 413 past `max` bytes. */
class CountingStream extends Transform {
  private seen = 0;
  receivedEncodedLength = 0;
  constructor(private readonly max: number) {
    super();
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.seen += chunk.length;
    this.receivedEncodedLength = this.seen;
    if (this.seen > this.max) callback(shieldErrors.payloadTooLarge(this.max));
    else callback(null, chunk);
  }
}

/** Chunked multipart: counted on `request.raw` (the reader streams it), not by a counting stream. */
function countedOnRaw(request: FastifyRequest): boolean {
  const type = request.headers['content-type'];
  return (
    typeof type === 'string' &&
    type.toLowerCase().startsWith('multipart/') &&
    request.headers['transfer-encoding'] !== undefined
  );
}

function guardRawStream(request: FastifyRequest, reply: FastifyReply, options: BodyLimitOptions): void {
  const raw = request.raw;
  const push = raw.push.bind(raw);
  let seen = 0;
  let tripped = false;
  raw.push = (chunk: unknown, encoding?: BufferEncoding): boolean => {
    if (tripped) return false;
    if (chunk !== null && chunk !== undefined) {
      seen += (chunk as Buffer).length;
      if (seen > options.max) {
        tripped = true;
        options.onTooLarge(request);
        // After the 413 (Connection: close), Node closes the connection, by lingering: the
        // consumer then sees the body end early. If an answer was sent already (on a kept-alive
        // connection, Node reading the rest of the body away), close the same way after it.
        if (!reply.sent) void reply.send(shieldErrors.payloadTooLarge(options.max));
        else if (reply.raw.writableFinished) raw.socket.destroySoon();
        else reply.raw.once('finish', () => raw.socket.destroySoon());
        // Whatever closes the connection, the reader must not wait for the rest forever.
        raw.socket.once('close', () => raw.destroy());
        return false;
      }
    }
    return push(chunk, encoding);
  };
}

/**
 * The onRequest part: refuses a declared length over the limit (throws the 413), and puts the
 * counter on `request.raw` for a chunked multipart body.
 */
export function checkBodyOnRequest(request: FastifyRequest, reply: FastifyReply, options: BodyLimitOptions): void {
  const length = declaredLength(request);
  if (length !== null) {
    if (length > options.max) {
      options.onTooLarge(request);
      throw shieldErrors.payloadTooLarge(options.max);
    }
    return;
  }
  if (countedOnRaw(request)) guardRawStream(request, reply, options);
}

export function installBodyLimit(app: FastifyInstance, options: BodyLimitOptions): void {
  if (options.onRequestHook !== false) {
    app.addHook(
      'onRequest',
      refusing(async (request, reply) => checkBodyOnRequest(request, reply, options)),
    );
  }

  app.addHook('preParsing', async (request, _reply, payload) => {
    // Declared lengths were checked already, and a request with neither a length nor chunked
    // encoding has no body: only chunked bodies need counting.
    if (declaredLength(request) !== null || request.headers['transfer-encoding'] === undefined) return payload;
    if (countedOnRaw(request)) return payload;
    const counter = new CountingStream(options.max);
    payload.on('error', (err) => counter.destroy(err));
    counter.on('error', (err: unknown) => {
      if ((err as { code?: unknown }).code === 'PAYLOAD_TOO_LARGE') options.onTooLarge(request);
    });
    return payload.pipe(counter);
  });
}
