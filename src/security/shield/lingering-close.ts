/**
 * Lingering close, as nginx does it: the one way a connection is closed while its client is
 * still sending a body the server will not read (every early 413, and any other answer with
 * `Connection: close` sent before the body was complete).
 *
 * Node closes such a socket as soon as the answer is written. The kernel then answers the body
 * bytes still arriving with a reset, and the client's next write fails (EPIPE/ECONNRESET): a
 * client that writes its body before reading (most of them) never sees the 413, and curl reports
 * "broken pipe". Instead, after the answer:
 *
 * 1. the socket is taken away from Node's HTTP parser, so nothing more reaches the app (no
 *    pipelined request is parsed, no body chunk is pushed to the request);
 * 2. the write side is closed (FIN after the answer): the client sees the answer and the end;
 * 3. whatever still arrives is read and discarded, until the client closes its side, or
 *    `maxBytes` were discarded, or `maxMs` passed (the request deadline of REQUEST_TIMEOUT cuts
 *    it too): then the socket is destroyed. An attacker cannot hold it open for longer;
 * 4. whoever still reads the request body (a route streaming `request.raw`) sees it end early.
 *
 * Installed once per server: it wraps `socket.destroySoon`, the call Node makes to close a
 * connection after an answer with `Connection: close`, and only lingers when the latest request
 * on that socket is still incomplete; every other close is Node's own.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';

export interface LingerOptions {
  /** Longest time (ms) a refused client may keep sending after the answer. */
  maxMs: number;
  /** Most bytes read and discarded after the answer. */
  maxBytes: number;
}

/** Upper bound of the lingering time; the request deadline (REQUEST_TIMEOUT) may cut it sooner. */
export const LINGER_MAX_MS = 5_000;
/** Lower bound of the bytes discarded: more than the kernels on both sides buffer in flight. */
export const LINGER_MIN_BYTES = 16 * 1024 * 1024;

/** The bounds the shield uses: what a client could have sent in an accepted request anyway. */
export function lingerOptions(config: { REQUEST_TIMEOUT: number; MAX_REQUEST_SIZE: number }): LingerOptions {
  return {
    maxMs: Math.min(LINGER_MAX_MS, config.REQUEST_TIMEOUT * 1000),
    maxBytes: Math.max(LINGER_MIN_BYTES, config.MAX_REQUEST_SIZE),
  };
}

const lingering = new WeakSet<object>();

/**
 * Makes sure the socket reads again. Node may have stopped reading it (the request stream was
 * full: nobody read the body), and while the HTTP parser consumed the socket its stream state
 * never saw a read finish, so `resume()` alone would not start reading again.
 */
function readAgain(socket: Socket): void {
  const handle = (socket as Socket & { _handle?: { reading?: boolean; readStart?: () => number } | null })._handle;
  if (handle && !handle.reading && typeof handle.readStart === 'function') {
    handle.reading = true;
    handle.readStart();
  }
}

/** True while a socket drains after its answer (its request timeout is not a client's 408). */
export function isLingering(socket: object): boolean {
  return lingering.has(socket);
}

const installed = new WeakSet<Server>();

export function installLingeringClose(server: Server, options: LingerOptions): void {
  if (installed.has(server)) return;
  installed.add(server);
  /** The latest request of each socket: is its body still arriving? */
  const latest = new WeakMap<Socket, IncomingMessage>();
  const wrapped = new WeakSet<Socket>();
  // Before Fastify's listener, so the socket is wrapped before any answer can be written.
  server.prependListener('request', (req: IncomingMessage) => {
    const socket = req.socket;
    latest.set(socket, req);
    if (wrapped.has(socket)) return;
    wrapped.add(socket);
    const destroySoon = socket.destroySoon.bind(socket);
    socket.destroySoon = () => {
      const request = latest.get(socket);
      if (request && !request.complete && !socket.destroyed && socket.writable) linger(socket, request, options);
      else destroySoon();
    };
  });
}

function linger(socket: Socket, request: IncomingMessage, options: LingerOptions): void {
  if (lingering.has(socket)) return;
  lingering.add(socket);
  // 1. Away from the HTTP parser: remove its 'data' listener, then add ours (which makes Node
  //    hand the bytes to JavaScript instead of feeding the parser directly).
  for (const listener of socket.listeners('data')) socket.removeListener('data', listener as (chunk: Buffer) => void);
  let discarded = 0;
  const close = () => socket.destroy();
  const timer = setTimeout(close, options.maxMs);
  timer.unref();
  socket.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > options.maxBytes) close();
  });
  socket.once('end', close);
  socket.once('close', () => clearTimeout(timer));
  socket.resume();
  readAgain(socket);
  // 2. FIN once the answer is out. 3. Discard (above) until the client ends, or the bounds.
  socket.end();
  // 4. The body will never complete: end it for anyone still reading, without the request
  //    taking the socket down with it (IncomingMessage destroys its socket when aborted).
  if (!request.destroyed) {
    request._destroy = (err, callback) => callback(err);
    request.destroy();
  }
}
