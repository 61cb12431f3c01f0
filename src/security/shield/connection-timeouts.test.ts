/**
 * Every connection deadline holds close to its setting, attacked over real sockets the way slow
 * clients attack: headers trickled (slowloris), a body trickled after fast headers, a connection
 * that says nothing, an idle keep-alive connection, a second request trickled on a kept-alive
 * connection. Node checks the request and headers deadlines only every
 * `connectionsCheckingInterval` (30 s by default): with it, REQUEST_TIMEOUT=2 held such a
 * connection for up to 32 s. The bounds below are functional (the deadline is enforced at all,
 * with a margin for a busy machine), far below what Node's default would allow.
 */
import type net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.js';
import { slowClient } from '../../../test/support/shield/raw-http.js';

const REQUEST_TIMEOUT_S = 2;
/** Margin over a deadline for a busy machine; Node's default check interval alone is 30 s. */
const MARGIN_MS = 3_000;

let t: TestApp;
let port: number;
beforeAll(async () => {
  t = await buildTestApp({ REQUEST_TIMEOUT: String(REQUEST_TIMEOUT_S) });
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  port = (t.app.server.address() as net.AddressInfo).port;
});
afterAll(async () => {
  await t.close();
});

const GET = 'GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';

describe('connection deadlines hold close to their settings', () => {
  it('slowloris, a trickled body, a silent connection and a slow second request: 408 at REQUEST_TIMEOUT', async () => {
    const deadlineMs = REQUEST_TIMEOUT_S * 1000;
    const giveUpMs = deadlineMs + MARGIN_MS + 1000;
    const slowHeaders = `GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: ${'a'.repeat(100)}\r\n\r\n`;
    const [headers, body, silent, second] = await Promise.all([
      // Headers one byte every 300 ms: they would take 40 s to arrive.
      slowClient(port, { trickle: slowHeaders, giveUpMs }),
      // Headers at once, then a 1000-byte body one byte every 300 ms.
      slowClient(port, {
        head: 'POST /api/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n',
        trickle: 'x'.repeat(1000),
        giveUpMs,
      }),
      // Connects and never sends a byte.
      slowClient(port, { giveUpMs }),
      // A first request answered at once, then the next one trickled on the kept-alive connection.
      slowClient(port, { head: GET, trickle: slowHeaders, giveUpMs }),
    ]);
    for (const [name, result] of Object.entries({ headers, body, silent, second })) {
      expect(result.received, name).toMatch(/HTTP\/1\.1 408 /);
      // Not before the deadline (the server may start its clock a moment before the client's).
      expect(result.closedAfterMs, name).toBeGreaterThanOrEqual(deadlineMs - 100);
      expect(result.closedAfterMs, name).toBeLessThan(deadlineMs + MARGIN_MS);
    }
    expect(second.received).toMatch(/^HTTP\/1\.1 200 /);
  }, 30_000);

  it("an idle keep-alive connection is closed at keepAliveTimeout (plus Node's 1 s of grace)", async () => {
    const keepAliveMs = t.app.server.keepAliveTimeout;
    const idle = await slowClient(port, { head: GET, giveUpMs: keepAliveMs + 1000 + MARGIN_MS + 1000 });
    expect(idle.received).toMatch(/^HTTP\/1\.1 200 /);
    expect(idle.received).toMatch(new RegExp(`keep-alive: timeout=${keepAliveMs / 1000}`, 'i'));
    expect(idle.closedAfterMs).toBeGreaterThanOrEqual(keepAliveMs);
    expect(idle.closedAfterMs).toBeLessThan(keepAliveMs + 1000 + MARGIN_MS);
  }, 30_000);

  it('the server is set to check deadlines at least every 500 ms', () => {
    const server = t.app.server as typeof t.app.server & { connectionsCheckingInterval: number };
    expect(server.connectionsCheckingInterval).toBeLessThanOrEqual(500);
    expect(server.headersTimeout).toBe(REQUEST_TIMEOUT_S * 1000);
    expect(server.requestTimeout).toBe(REQUEST_TIMEOUT_S * 1000);
  });
});
