/**
 * The security headers every answer carries (src/http/security-headers.ts), byte for byte what
 * @fastify/helmet 13 (helmet 8, default options) used to set per request: the same names in the
 * same case, the same values, in the same order, with the routes that set their own
 * Content-Security-Policy (the console, the privacy notice, the API docs) keeping theirs. Read
 * over a real socket (`rawHeaders`), so case and order are what a client receives.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import helmet from '@fastify/helmet';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../test/helpers/app.js';
import { createPortfolio, createUser } from '../../test/helpers/factories.js';
import { securityHeaders, SECURITY_HEADERS } from './security-headers.js';

/** The raw header lines of one answer; volatile values (dates, ids, tags, lengths) masked. */
function rawHeaders(port: number, path: string, headers: Record<string, string> = {}): Promise<string[]> {
  const volatile = new Set(['date', 'x-request-id', 'etag', 'content-length', 'set-cookie', 'last-modified']);
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, headers: { ...headers, 'accept-encoding': 'identity' } }, (res) => {
        res.resume();
        const lines: string[] = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) {
          const name = res.rawHeaders[i] ?? '';
          lines.push(`${name}: ${volatile.has(name.toLowerCase()) ? '*' : res.rawHeaders[i + 1]}`);
        }
        res.on('end', () => resolve(lines));
      })
      .on('error', reject);
  });
}

const HELMET_DEFAULTS = [
  "Content-Security-Policy: default-src 'self';base-uri 'self';font-src 'self' https: data:;form-action 'self';frame-ancestors 'self';img-src 'self' data:;object-src 'none';script-src 'self';script-src-attr 'none';style-src 'self' https: 'unsafe-inline';upgrade-insecure-requests",
  'Cross-Origin-Opener-Policy: same-origin',
  'Cross-Origin-Resource-Policy: same-origin',
  'Origin-Agent-Cluster: ?1',
  'Referrer-Policy: no-referrer',
  'Strict-Transport-Security: max-age=31536000; includeSubDomains',
  'X-Content-Type-Options: nosniff',
  'X-DNS-Prefetch-Control: off',
  'X-Download-Options: noopen',
  'X-Frame-Options: SAMEORIGIN',
  'X-Permitted-Cross-Domain-Policies: none',
  'X-XSS-Protection: 0',
];

describe('the precomputed headers are what @fastify/helmet sets', () => {
  it('on a bare server, answer for answer: the same lines in the same order', async () => {
    const answers: string[][] = [];
    for (const register of [
      (app: ReturnType<typeof Fastify>) => app.register(helmet, { global: true }),
      (app: ReturnType<typeof Fastify>) => app.register(securityHeaders),
    ]) {
      const app = Fastify();
      await register(app);
      app.get('/json', async () => ({ ok: true }));
      app.get('/own-csp', async (_request, reply) =>
        reply.header('content-security-policy', "default-src 'none'").send('x'),
      );
      await app.listen({ host: '127.0.0.1', port: 0 });
      const { port } = app.server.address() as AddressInfo;
      answers.push([
        ...(await rawHeaders(port, '/json')),
        ...(await rawHeaders(port, '/own-csp')),
        ...(await rawHeaders(port, '/missing')),
      ]);
      await app.close();
    }
    const [withHelmet, withOurs] = answers;
    expect(withHelmet?.slice(0, HELMET_DEFAULTS.length)).toEqual(HELMET_DEFAULTS);
    expect(withOurs).toEqual(withHelmet);
    expect(SECURITY_HEADERS.map(([name, value]) => `${name}: ${value}`)).toEqual(HELMET_DEFAULTS);
  });
});

describe('the app: every kind of answer carries them as before', () => {
  let t: TestApp;
  let port = 0;
  let auth: Record<string, string> = {};
  let portfolioPath = '';
  let publicPath = '';

  beforeAll(async () => {
    t = await buildTestApp();
    const owner = await createUser(t.app);
    auth = owner.auth;
    const portfolio = await createPortfolio(t.app, owner, { visibility: 'public', published: true });
    portfolioPath = `/api/portfolios/${portfolio.id}`;
    publicPath = `/api/public/portfolios/${portfolio.slug}`;
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    port = (t.app.server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await t.close();
  });

  // Captured from the app with @fastify/helmet registered (global, default options), before it
  // was replaced: the security headers first (the console replaces three of them), then each route's own.
  const expected: Record<string, string[]> = {
    health: [
      ...HELMET_DEFAULTS,
      'content-type: application/json; charset=utf-8',
      'x-request-id: *',
      'content-length: *',
      'Date: *',
      'Connection: keep-alive',
      'Keep-Alive: timeout=5',
    ],
    'owner read': [
      ...HELMET_DEFAULTS,
      'content-type: application/json; charset=utf-8',
      'x-request-id: *',
      'cache-control: private, no-store',
      'content-length: *',
      'Date: *',
      'Connection: keep-alive',
      'Keep-Alive: timeout=5',
    ],
    'public read': [
      ...HELMET_DEFAULTS,
      'etag: *',
      'cache-control: public, max-age=60, stale-while-revalidate=300',
      'vary: Accept-Language',
      'content-type: application/json; charset=utf-8',
      'x-request-id: *',
      'content-length: *',
      'Date: *',
      'Connection: keep-alive',
      'Keep-Alive: timeout=5',
    ],
    'not found': [
      ...HELMET_DEFAULTS,
      'content-type: application/problem+json; charset=utf-8',
      'x-request-id: *',
      'content-length: *',
      'Date: *',
      'Connection: keep-alive',
      'Keep-Alive: timeout=5',
    ],
    'validation error': [
      ...HELMET_DEFAULTS,
      'content-type: application/problem+json; charset=utf-8',
      'x-request-id: *',
      'cache-control: private, no-store',
      'content-length: *',
      'Date: *',
      'Connection: keep-alive',
      'Keep-Alive: timeout=5',
    ],
    unauthenticated: [
      ...HELMET_DEFAULTS,
      'www-authenticate: Bearer',
      'content-type: application/problem+json; charset=utf-8',
      'x-request-id: *',
      'content-length: *',
      'Date: *',
      'Connection: keep-alive',
      'Keep-Alive: timeout=5',
    ],
    'console page (its own CSP)': [
      "content-security-policy: default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
      'Cross-Origin-Opener-Policy: same-origin',
      'Cross-Origin-Resource-Policy: same-origin',
      'Origin-Agent-Cluster: ?1',
      'referrer-policy: no-referrer',
      'Strict-Transport-Security: max-age=31536000; includeSubDomains',
      'x-content-type-options: nosniff',
      'X-DNS-Prefetch-Control: off',
      'X-Download-Options: noopen',
      'X-Frame-Options: SAMEORIGIN',
      'X-Permitted-Cross-Domain-Policies: none',
      'X-XSS-Protection: 0',
      'cache-control: no-store',
      'vary: Accept-Encoding',
      'content-type: text/html; charset=utf-8',
      'x-request-id: *',
      'content-length: *',
      'Date: *',
      'Connection: keep-alive',
      'Keep-Alive: timeout=5',
    ],
    'console asset not found': [
      "content-security-policy: default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
      'Cross-Origin-Opener-Policy: same-origin',
      'Cross-Origin-Resource-Policy: same-origin',
      'Origin-Agent-Cluster: ?1',
      'referrer-policy: no-referrer',
      'Strict-Transport-Security: max-age=31536000; includeSubDomains',
      'x-content-type-options: nosniff',
      'X-DNS-Prefetch-Control: off',
      'X-Download-Options: noopen',
      'X-Frame-Options: SAMEORIGIN',
      'X-Permitted-Cross-Domain-Policies: none',
      'X-XSS-Protection: 0',
      'cache-control: no-store',
      'content-type: application/problem+json; charset=utf-8',
      'x-request-id: *',
      'content-length: *',
      'Date: *',
      'Connection: keep-alive',
      'Keep-Alive: timeout=5',
    ],
  };

  for (const [name, path, withAuth] of [
    ['health', '/health/live', false],
    ['owner read', 'PORTFOLIO', true],
    ['public read', 'PUBLIC', false],
    ['not found', '/api/no-such-route', false],
    ['validation error', '/api/portfolios/not-a-uuid', true],
    ['unauthenticated', 'PORTFOLIO', false],
    ['console page (its own CSP)', '/account', false],
    ['console asset not found', '/assets/missing.js', false],
  ] as const) {
    it(`${name}: ${path}`, async () => {
      const url = path === 'PORTFOLIO' ? portfolioPath : path === 'PUBLIC' ? publicPath : path;
      const lines = await rawHeaders(port, url, withAuth ? auth : {});
      if (process.env['CAPTURE_HEADERS'] === '1') {
        process.stdout.write(`HEADERS ${JSON.stringify(name)}: ${JSON.stringify(lines)},\n`);
        return;
      }
      expect(lines).toEqual(expected[name]);
    });
  }
});
