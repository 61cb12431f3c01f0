/**
 * The console's fingerprinted files (`GET /assets/:file`) leave the global per-client budget (a
 * first page load fetches about nine of them), and nothing else does: every trick that makes a
 * raw URL look like an asset while it reaches, or tries to reach, another route is still counted.
 * Requests go over a raw socket, so no client library normalises `..` or `%2f` before the server
 * sees them. The console build comes from the test run's global setup (test/global-setup.ts).
 */
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_OUT } from '../../../scripts/lib/console/build.js';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.js';
import { parseAnswer, type RawAnswer } from '../../../test/support/shield/raw-http.js';
import { UNMETERED_ASSET_ROUTES } from './policies.js';

const PER_MINUTE = 4;

let t: TestApp;
let port: number;
let asset: string;

beforeAll(async () => {
  t = await buildTestApp({
    RATE_LIMIT_ENABLED: 'true',
    RATE_LIMIT_PER_MINUTE: String(PER_MINUTE),
    TRUST_PROXY: '127.0.0.1',
  });
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  port = (t.app.server.address() as net.AddressInfo).port;
  const manifest = JSON.parse(await readFile(path.join(CONSOLE_OUT, '.vite/manifest.json'), 'utf8')) as Record<
    string,
    { file: string; isEntry?: boolean }
  >;
  const entry = Object.values(manifest).find((c) => c.isEntry);
  if (!entry) throw new Error('no entry in the console manifest');
  asset = `/${entry.file}`;
});
afterAll(async () => {
  await t?.close();
});

/** One request exactly as written (method and target untouched), from client `ip`. */
function raw(ip: string, target: string, method = 'GET'): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = Buffer.alloc(0);
    socket.on('connect', () => {
      socket.write(
        `${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Forwarded-For: ${ip}\r\nAccept-Encoding: identity\r\nConnection: close\r\n\r\n`,
      );
    });
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
    });
    socket.on('error', reject);
    socket.on('close', () => {
      const answer = parseAnswer(data);
      if (answer) resolve(answer);
      else reject(new Error(`no complete answer to ${method} ${target}: ${data.toString('latin1').slice(0, 200)}`));
    });
  });
}

describe('console assets and the global per-client budget', () => {
  it('a known asset is served without counting: many loads, and the client still has its whole API budget', async () => {
    expect(UNMETERED_ASSET_ROUTES).toEqual(['/assets/:file']);
    const ip = '203.0.113.70';
    for (let i = 0; i < PER_MINUTE * 5; i++) {
      const res = await raw(ip, asset);
      expect(res.status, `load ${i}`).toBe(200);
      expect(res.headers['ratelimit'], `load ${i}`).toBeUndefined();
    }
    // The page itself and the API are counted as before, from a full budget.
    const page = await raw(ip, '/account');
    expect(page.status).toBe(200);
    expect(page.headers['ratelimit']).toMatch(new RegExp(`^"global-minute";r=${PER_MINUTE - 1};`));
  });

  it('an attacker cannot dodge the limit on API routes through the exemption', async () => {
    const ip = '203.0.113.71';
    const tricks = [
      '/assets/../api/auth/me',
      '/assets/..%2fapi%2fauth%2fme',
      '/assets%2f..%2fapi%2fauth%2fme',
      '/assets/%2e%2e/api/auth/me',
      '/assets/x/../../api/auth/me',
      '/api/auth/me?/assets/x.js',
      '/api/auth/me/../../assets/x.js',
      '/ASSETS/../api/auth/me',
      `/api/auth/me?file=${asset}`,
      `${asset}/../../api/auth/me`,
      '//assets/../api/auth/me',
    ];
    let counted = 0;
    for (const target of tricks) {
      const res = await raw(ip, target);
      expect(res.status, target).not.toBe(500);
      if ((res.headers['ratelimit-policy'] ?? '').includes('"global-minute"')) {
        counted++;
        // Counted like any request: refused once the budget is spent.
        if (counted > PER_MINUTE) expect(res.status, target).toBe(429);
        continue;
      }
      // Not counted: only because the router matched the asset route (one `:file` segment), which
      // answers a name outside the build with its 404 and reaches nothing else.
      expect(res.status, target).toBe(404);
      expect(res.headers['content-type'], target).toMatch(/^application\/problem\+json/);
      expect(JSON.parse(res.body), target).toMatchObject({ code: 'NOT_FOUND', detail: 'Console file not found' });
    }
    expect(counted).toBeGreaterThan(PER_MINUTE);
    // The budget is spent: the API refuses this client.
    expect((await raw(ip, '/api/auth/me')).status).toBe(429);
    // …and the assets themselves still load for this client.
    expect((await raw(ip, asset)).status).toBe(200);
  });

  it('only reads are exempt: another method on an asset path is counted', async () => {
    const ip = '203.0.113.72';
    for (let i = 0; i < PER_MINUTE; i++) {
      const res = await raw(ip, asset, 'POST');
      expect(res.headers['ratelimit-policy'] ?? '').toContain('"global-minute"');
    }
    expect((await raw(ip, asset, 'POST')).status).toBe(429);
    expect((await raw(ip, '/api/auth/me')).status).toBe(429);
  });
});
