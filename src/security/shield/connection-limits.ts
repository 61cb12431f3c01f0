/**
 * Connection-level limits of the HTTP server, in one place (the process and the test apps get
 * the same): how long a client may take to send a request, and how a connection is closed while
 * its client is still sending.
 *
 * The deadlines themselves are Fastify options (src/app.ts): `requestTimeout` = REQUEST_TIMEOUT
 * for the whole request, `keepAliveTimeout` for an idle keep-alive connection, and
 * `connectionTimeout` for a socket with no traffic at all (a client that stops reading its
 * answer). Here:
 * - `headersTimeout` = min(REQUEST_TIMEOUT, 20 s): headers must arrive sooner than the body.
 * - Node checks the request and headers deadlines only every `connectionsCheckingInterval`
 *   (30 s by default: REQUEST_TIMEOUT=5 would let a slowloris client hold its socket up to
 *   35 s). Checked every CHECK_INTERVAL_MS instead, so a deadline holds within that of its
 *   setting. The check walks the list of connections with a request in progress, in C++: a
 *   few microseconds even with thousands of slow clients. Idle keep-alive connections and
 *   silent sockets are closed by their own timers (`keepAliveTimeout` plus Node's fixed 1 s of
 *   grace after the advertised `Keep-Alive: timeout`, `connectionTimeout`), which are exact.
 * - Lingering close (./lingering-close.ts) for answers sent before the body was read.
 */
import type { Server } from 'node:http';
import { installLingeringClose, lingerOptions } from './lingering-close.js';

export const CHECK_INTERVAL_MS = 500;

export function applyConnectionLimits(
  server: Server,
  config: { REQUEST_TIMEOUT: number; MAX_REQUEST_SIZE: number },
): void {
  const requestMs = config.REQUEST_TIMEOUT * 1000;
  server.headersTimeout = Math.min(requestMs, 20_000);
  // Read by Node when the server starts listening (not in @types/node 20's Server type).
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = Math.min(
    CHECK_INTERVAL_MS,
    requestMs,
  );
  installLingeringClose(server, lingerOptions(config));
}
