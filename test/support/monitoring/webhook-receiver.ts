/**
 * A local alert webhook receiver (node:http on 127.0.0.1:0) that checks every delivery with the
 * documented reference check (src/security/monitoring/alerts/signature.ts `verifyWebhook`): the
 * signature, the tolerance on `t`, and the alert id not seen before. 204 for a valid delivery,
 * 401 for a bad or stale signature, 409 for a replay; every attempt is kept for the test to read.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhook, type VerifyWebhookResult } from '../../../src/security/monitoring/alerts/signature.js';

export interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
  result: VerifyWebhookResult;
  status: number;
}

export interface WebhookReceiver {
  url: string;
  received: Received[];
  /** Valid, first-time deliveries: their parsed bodies. */
  accepted(): Record<string, unknown>[];
  /** Answer this status to the next `n` valid deliveries instead of 204 (a receiver that is down). */
  failNext(n: number, status?: number): void;
  close(): Promise<void>;
}

export async function startWebhookReceiver(options: {
  secret: string;
  /** The receiver's clock in unix seconds (tests with a ManualClock pass theirs). */
  nowSeconds?: () => number;
  toleranceSeconds?: number;
}): Promise<WebhookReceiver> {
  const seen = new Set<string>();
  const received: Received[] = [];
  let failing = 0;
  let failStatus = 503;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const result = verifyWebhook({
        secret: options.secret,
        header: req.headers['x-signature'],
        body,
        nowSeconds: options.nowSeconds ? options.nowSeconds() : Date.now() / 1000,
        ...(options.toleranceSeconds !== undefined ? { toleranceSeconds: options.toleranceSeconds } : {}),
        // A delivery answered with a failure is not "seen": its retry must be accepted.
        seen: failing > 0 ? { has: (id: string) => seen.has(id), add: () => undefined } : seen,
      });
      let status = result.ok ? 204 : result.reason === 'replayed' ? 409 : 401;
      if (result.ok && failing > 0) {
        failing--;
        status = failStatus;
      }
      received.push({ headers: req.headers, body, result, status });
      res.statusCode = status;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/alerts`,
    received,
    accepted: () => received.filter((r) => r.status === 204).map((r) => JSON.parse(r.body) as Record<string, unknown>),
    failNext(n, status = 503) {
      failing = n;
      failStatus = status;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
