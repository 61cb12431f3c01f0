/**
 * Cross-cutting HTTP behaviour: every bad input gets an RFC 9457 problem+json answer with a
 * stable code, never a 500 or a stack trace; security headers and CORS allow-list hold.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createUser, type TestUser } from '../helpers/factories.js';

let t: TestApp;
let user: TestUser;
beforeAll(async () => {
  t = await buildTestApp({ CORS_ORIGINS: 'https://site.example', JSON_BODY_LIMIT: '2048' });
  user = await createUser(t.app);
});
afterAll(async () => {
  await t.close();
});

function expectProblem(res: { statusCode: number; headers: Record<string, unknown>; json: () => Record<string, unknown>; body: string }, status: number, code: string) {
  expect(res.statusCode).toBe(status);
  expect(String(res.headers['content-type'])).toMatch(/^application\/problem\+json/);
  const body = res.json();
  expect(body).toMatchObject({ status, code });
  expect(typeof body['title']).toBe('string');
  expect(typeof body['detail']).toBe('string');
  expect(String(body['type'])).toMatch(/^https:\/\//);
  expect(body['requestId']).toBe(res.headers['x-request-id']);
  expect(res.body).not.toMatch(/\bat .+\.(ts|js):\d+/); // no stack frames
}

describe('problem+json errors', () => {
  it('malformed JSON → 400 MALFORMED_JSON', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      headers: { 'content-type': 'application/json' },
      payload: '{"email": "a@b.c", "password": ',
    });
    expectProblem(res, 400, 'MALFORMED_JSON');
  });

  it('prototype pollution attempt → 400, not accepted', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      headers: { 'content-type': 'application/json' },
      payload: '{"email":"a@b.c","password":"x","__proto__":{"admin":true}}',
    });
    expect(res.statusCode).toBe(400);
    expect(({} as Record<string, unknown>)['admin']).toBeUndefined();
  });

  it('unknown field → 400 VALIDATION_FAILED naming the field', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: 'a@b.c', password: 'x', isAdmin: true } });
    expectProblem(res, 400, 'VALIDATION_FAILED');
    expect(res.json().errors[0].path).toMatch(/isAdmin/);
  });

  it('wrong type is not coerced → 400', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: 'a@b.c', password: 12345678901234 } });
    expectProblem(res, 400, 'VALIDATION_FAILED');
  });

  it('wrong content type → 415', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
      const res = await t.app.inject({ method: 'POST', url: '/api/auth/login', headers: { 'content-type': type }, payload: 'email=a' });
      expectProblem(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
    }
  });

  it('body over the limit → 413', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { email: 'a@b.c', password: 'x'.repeat(4000) },
    });
    expectProblem(res, 413, 'PAYLOAD_TOO_LARGE');
  });

  it('invalid id → 400, unknown id → 404', async () => {
    const bad = await t.app.inject({ method: 'GET', url: '/api/portfolios/not-a-uuid', headers: user.auth });
    expectProblem(bad, 400, 'VALIDATION_FAILED');
    const missing = await t.app.inject({ method: 'GET', url: '/api/portfolios/0190a6d4-0000-7000-8000-000000000000', headers: user.auth });
    expectProblem(missing, 404, 'NOT_FOUND');
  });

  it('unknown route → 404 ROUTE_NOT_FOUND', async () => {
    expectProblem(await t.app.inject({ method: 'GET', url: '/nope' }), 404, 'ROUTE_NOT_FOUND');
  });

  it('an unexpected error is a 500 that reveals nothing', async () => {
    const app = t.app;
    // A route that throws an internal error, registered on a throwaway instance is not possible
    // after ready(); use a failing dependency instead: close the DB under a request.
    const { buildTestApp: build } = await import('../helpers/app.js');
    const other = await build();
    try {
      const u = await createUser(other.app);
      await other.deps.db.close();
      const res = await other.app.inject({ method: 'GET', url: '/api/auth/me', headers: u.auth });
      expectProblem(res, 500, 'INTERNAL_ERROR');
      expect(res.json().detail).toBe('Something went wrong on our side');
      expect(res.body).not.toMatch(/closed|PGlite|pg|sql/i);
    } finally {
      await other.app.close();
      await other.deps.kv.close();
    }
    expect(app).toBeDefined();
  });
});

describe('headers', () => {
  it('sets security headers and a request id', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/health/live' });
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(res.headers['strict-transport-security']).toMatch(/max-age=/);
    expect(res.headers['content-security-policy']).toMatch(/default-src 'self'/);
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it('does not take a request id from the client', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/health/live', headers: { 'x-request-id': 'forged\r\nx: y' } });
    expect(res.headers['x-request-id']).not.toBe('forged\r\nx: y');
  });

  it('allows only the configured CORS origins', async () => {
    const ok = await t.app.inject({
      method: 'OPTIONS',
      url: '/api/auth/login',
      headers: { origin: 'https://site.example', 'access-control-request-method': 'POST' },
    });
    expect(ok.headers['access-control-allow-origin']).toBe('https://site.example');
    const evil = await t.app.inject({
      method: 'OPTIONS',
      url: '/api/auth/login',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(evil.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('health and docs', () => {
  it('live and ready', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/health/live' })).json()).toEqual({ status: 'ok' });
    const ready = await t.app.inject({ method: 'GET', url: '/health/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json().checks.database.status).toBe('ok');
  });

  it('ready answers 503 when the database is gone', async () => {
    const { buildTestApp: build } = await import('../helpers/app.js');
    const other = await build();
    try {
      await other.deps.db.close();
      const res = await other.app.inject({ method: 'GET', url: '/health/ready' });
      expect(res.statusCode).toBe(503);
      expect(res.json().checks.database.status).toBe('fail');
    } finally {
      await other.app.close();
      await other.deps.kv.close();
    }
  });

  it('serves an OpenAPI 3.1 document with the routes, and a docs page', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toBe('3.1.0');
    for (const p of ['/api/auth/login', '/api/auth/register', '/api/portfolios', '/api/portfolios/{id}', '/api/public/portfolios/{slug}']) {
      expect(Object.keys(doc.paths)).toContain(p);
    }
    const docs = await t.app.inject({ method: 'GET', url: '/docs/' });
    expect(docs.statusCode).toBe(200);
    expect(docs.headers['content-type']).toMatch(/text\/html/);
  });
});

describe('cursors', () => {
  it('a tampered admin users cursor is a 400, not a database error', async () => {
    const admin = await createUser(t.app, { role: 'admin' });
    const cursor = Buffer.from(JSON.stringify(['not-a-uuid'])).toString('base64url');
    const res = await t.app.inject({ method: 'GET', url: `/api/admin/users?cursor=${cursor}`, headers: admin.auth });
    expectProblem(res, 400, 'INVALID_CURSOR');
  });
});

describe('router-level errors', () => {
  it('bad percent-encoding → 400 BAD_URL; an over-long path segment → 414 URI_TOO_LONG', async () => {
    expectProblem(await t.app.inject({ method: 'GET', url: '/api/portfolios/%zz', headers: user.auth }), 400, 'BAD_URL');
    expectProblem(await t.app.inject({ method: 'GET', url: `/api/portfolios/${'a'.repeat(300)}`, headers: user.auth }), 414, 'URI_TOO_LONG');
  });
});
