/**
 * What a production server shows strangers. The API reference (/docs, /api/openapi.json) is off
 * unless API_DOCS=public: every spelling an attacker may try answers the same 404 problem+json as
 * an unknown path. /health/ready gives its details (checks, store kinds, backup age) only to
 * METRICS_ALLOW_LIST addresses, judged after TRUST_PROXY, so forged forwarding headers grant
 * nothing; everyone else gets the status alone with the same 200/503.
 */
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { productionEnv } from '../helpers/production-env.js';

const PRODUCTION = productionEnv({ MAIL_POLL_INTERVAL: '0', UPLOAD_RETRY_INTERVAL: '0' });

/** What an attacker tries to reach the API reference: the paths, and spellings a filter might miss. */
const DOC_PATHS = [
  '/docs',
  '/docs/',
  '/docs/json',
  '/docs/yaml',
  '/docs/static/index.html',
  '/docs/static/swagger-initializer.js',
  '/docs/static/swagger-ui.css',
  '/docs/static/swagger-ui-bundle.js',
  '/docs/static/logo.svg',
  '/docs/initOAuth',
  '/docs/uiConfig',
  '/api/openapi.json',
  '/api/openapi.json/',
  '/api/openapi.json?format=yaml',
  '/DOCS',
  '/Docs/',
  '/docs/JSON',
  '/API/OPENAPI.JSON',
  '/api/OpenAPI.json',
  '/%64ocs',
  '/%64ocs/json',
  '/%44OCS',
  '/docs%2Fjson',
  '/docs%2fstatic%2findex.html',
  '/api/openapi%2Ejson',
  '/api%2Fopenapi.json',
  '//docs',
  '//docs/json',
  '/docs//json',
  '//api/openapi.json',
  '/api//openapi.json',
  '/./docs',
  '/docs/./json',
  '/docs/static/../json',
  '/api/./openapi.json',
  '/docs;jsessionid=1',
  '/docs/json;.css',
  '/api/openapi.json;x',
];

let prod: TestApp;
let notFound: LightMyRequestResponse;

beforeAll(async () => {
  prod = await buildTestApp(PRODUCTION);
  notFound = await prod.app.inject({ method: 'GET', url: '/no-such-route' });
}, 60_000);
afterAll(async () => {
  await prod.close();
});

function expectNotFound(res: LightMyRequestResponse, what: string): void {
  expect(res.statusCode, `${what}: ${res.body.slice(0, 200)}`).toBe(404);
  expect(res.headers['content-type'], what).toMatch(/^application\/problem\+json/);
  const { type, title, code } = res.json();
  expect({ type, title, code }, what).toEqual({
    type: notFound.json().type,
    title: notFound.json().title,
    code: notFound.json().code,
  });
}

describe('API reference in production', () => {
  it(
    'every spelling of /docs and /api/openapi.json is 404 problem+json, like an unknown path',
    { timeout: 60_000 },
    async () => {
      expect(notFound.statusCode).toBe(404);
      for (const url of DOC_PATHS) {
        for (const method of ['GET', 'HEAD'] as const) {
          const res = await prod.app.inject({ method, url });
          if (method === 'HEAD') expect(res.statusCode, `HEAD ${url}`).toBe(404);
          else expectNotFound(res, `GET ${url}`);
        }
      }
    },
  );

  // Outside production they are public by default: test/http/errors.test.ts reads them.
  it('API_DOCS=public serves them in production, API_DOCS=off hides them anywhere', async () => {
    const open = await buildTestApp({ ...PRODUCTION, API_DOCS: 'public' });
    const off = await buildTestApp({ API_DOCS: 'off' });
    try {
      const spec = await open.app.inject({ method: 'GET', url: '/api/openapi.json' });
      expect(spec.statusCode).toBe(200);
      expect(spec.json().openapi).toBe('3.1.0');
      expect((await open.app.inject({ method: 'GET', url: '/docs/json' })).json().servers).toEqual(spec.json().servers);
      expect((await open.app.inject({ method: 'GET', url: '/docs/' })).statusCode).toBe(200);
      expect((await open.app.inject({ method: 'GET', url: '/api/openapi.json' })).json().servers).toEqual([
        { url: 'https://api.example' },
      ]);
      for (const url of ['/docs', '/docs/json', '/api/openapi.json']) {
        expectNotFound(await off.app.inject({ method: 'GET', url }), `API_DOCS=off GET ${url}`);
      }
    } finally {
      await Promise.all([open.close(), off.close()]);
    }
  }, 120_000);
});

describe('/health/ready details', () => {
  const ready = (t: TestApp, remoteAddress: string, headers: Record<string, string> = {}) =>
    t.app.inject({ method: 'GET', url: '/health/ready', remoteAddress, headers });

  /** Every header a client might use to pass itself off as 127.0.0.1. */
  const FORGED = {
    'x-forwarded-for': '127.0.0.1',
    'x-real-ip': '127.0.0.1',
    forwarded: 'for=127.0.0.1',
    'x-client-ip': '127.0.0.1',
    'true-client-ip': '::1',
    'cf-connecting-ip': '127.0.0.1',
  };

  it('an allow-listed address gets the checks', async () => {
    for (const ip of ['127.0.0.1', '::1', '::ffff:127.0.0.1']) {
      const res = await ready(prod, ip);
      expect(res.statusCode, ip).toBe(200);
      expect(res.json().checks.database.status, ip).toBe('ok');
    }
  });

  it('anyone else gets the status alone, forged forwarding headers or not', async () => {
    for (const headers of [{}, FORGED, { 'x-forwarded-for': '127.0.0.1, ::1' }] as Record<string, string>[]) {
      const res = await ready(prod, '203.0.113.9', headers);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ status: 'ready' });
      expect(res.body).not.toMatch(/pglite|postgres|memory|redis|backup|checks/i);
    }
  });

  it('behind a trusted proxy the forwarded client decides, and a client-written 127.0.0.1 further left does not count', async () => {
    for (const trust of ['10.0.0.0/8', '1']) {
      const t = await buildTestApp({ ...PRODUCTION, TRUST_PROXY: trust });
      try {
        for (const xff of [
          '127.0.0.1, 198.51.100.7',
          '::1, 198.51.100.7',
          '127.0.0.1,198.51.100.7',
          'unknown, 198.51.100.7',
        ]) {
          const res = await ready(t, '10.0.0.7', { ...FORGED, 'x-forwarded-for': xff });
          expect(res.json(), `TRUST_PROXY=${trust} XFF=${xff}`).toEqual({ status: 'ready' });
        }
        // The proxy itself is not an operator either, unless listed.
        expect((await ready(t, '10.0.0.7')).json()).toEqual({ status: 'ready' });
        // What the trusted proxy says is believed: its own health checker on loopback.
        expect((await ready(t, '10.0.0.7', { 'x-forwarded-for': '127.0.0.1' })).json().checks).toBeDefined();
      } finally {
        await t.close();
      }
    }
  }, 120_000);

  it('not ready is 503 for everyone, with the failing check only for operators', async () => {
    const ping = vi.spyOn(prod.deps.db, 'ping').mockRejectedValue(new Error('database down'));
    try {
      const stranger = await ready(prod, '203.0.113.9', FORGED);
      expect(stranger.statusCode).toBe(503);
      expect(stranger.json()).toEqual({ status: 'not_ready' });
      const operator = await ready(prod, '127.0.0.1');
      expect(operator.statusCode).toBe(503);
      expect(operator.json().checks.database.status).toBe('fail');
    } finally {
      ping.mockRestore();
    }
  });

  it('the same operator check guards /metrics', async () => {
    expect(
      (await prod.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '203.0.113.9', headers: FORGED }))
        .statusCode,
    ).toBe(404);
    expect((await prod.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1' })).statusCode).toBe(
      200,
    );
  });
});
