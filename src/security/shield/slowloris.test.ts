/**
 * Slowloris: clients that open connections and send their headers one byte at a time, to hold
 * every socket the server has. Node is event-driven, so they must not stop normal requests
 * from being served, and headersTimeout (checked every 500 ms, not Node's default 30 s) cuts
 * them off after REQUEST_TIMEOUT. Each cut-off is a 408 violation for that client.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.js';
import { waitFor } from '../../../test/helpers/spawn.js';

const SLOW_CLIENTS = 300;

describe('slow clients', () => {
  let t: TestApp;
  let port: number;
  beforeAll(async () => {
    t = await buildTestApp({ REQUEST_TIMEOUT: '2', AUTO_BLOCK_ENABLED: 'true' });
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    port = (t.app.server.address() as net.AddressInfo).port;
  });
  afterAll(async () => {
    await t.close();
  });

  it('300 connections trickling headers do not stop normal requests, and are cut off', async () => {
    const request = 'GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: ' + 'a'.repeat(200) + '\r\n\r\n';
    let closed = 0;
    const timers: NodeJS.Timeout[] = [];
    const sockets: net.Socket[] = [];
    await Promise.all(
      Array.from(
        { length: SLOW_CLIENTS },
        () =>
          new Promise<void>((resolve) => {
            const socket = net.connect(port, '127.0.0.1', () => resolve());
            sockets.push(socket);
            let sent = 0;
            socket.on('error', () => undefined);
            socket.on('close', () => {
              closed++;
              clearInterval(timer);
            });
            const timer = setInterval(() => {
              if (sent < request.length - 4 && !socket.destroyed) socket.write(request[sent++] as string);
            }, 100);
            timers.push(timer);
          }),
      ),
    );
    try {
      // While they trickle, normal requests are answered.
      for (let i = 0; i < 20; i++) {
        const res = await fetch(`http://127.0.0.1:${port}/health/ready`);
        expect(res.status).toBe(200);
      }
      expect(closed).toBe(0);
      // headersTimeout (2 s here) cuts every one of them off.
      await waitFor(async () => closed === SLOW_CLIENTS, 20_000);
    } finally {
      for (const timer of timers) clearInterval(timer);
      for (const socket of sockets) socket.destroy();
    }
    // Each cut-off counted as a 408 violation: this client is now blocked.
    await t.app.shield.limiter.settled();
    const res = await fetch(`http://127.0.0.1:${port}/health/live`);
    expect(res.status).toBe(403);
    expect(((await res.json()) as { code: string }).code).toBe('CLIENT_BLOCKED');
  }, 60_000);
});
