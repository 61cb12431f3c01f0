/**
 * The shield over HTTP, on whichever KV the run has (memory, or Redis with TEST_REDIS_URL):
 * RateLimit headers (draft-ietf-httpapi-ratelimit-headers-10), 429 problem+json with
 * Retry-After, the built-in login/register/portfolio policies, automatic blocking with
 * progressive backoff and its admin API, allow/deny lists, MAX_REQUEST_SIZE for every body,
 * load shedding, metrics and readiness. Time is moved with the injected clock, never slept.
 *
 * Clients are told apart with X-Forwarded-For through a trusted proxy at 127.0.0.1 (the inject
 * address), so each test uses its own client address.
 */
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.js';
import { createUser, uniqueEmail, type TestUser } from '../../../test/helpers/factories.js';

let t: TestApp;
let admin: TestUser;
let alice: TestUser;
let bob: TestUser;

beforeAll(async () => {
  t = await buildTestApp({
    RATE_LIMIT_ENABLED: 'true',
    AUTO_BLOCK_ENABLED: 'true',
    TRUST_PROXY: '127.0.0.1',
    RATE_LIMIT_PORTFOLIOS_PER_MINUTE: '3',
    MAX_REQUEST_SIZE: '4096',
    IP_ALLOW_LIST: '192.0.2.250',
    IP_DENY_LIST: '198.51.100.0/24',
    // The account lockout (src/security/accounts) would answer 429 ACCOUNT_LOCKED after 5 wrong
    // passwords; these tests count the shield's own login buckets.
    LOCKOUT_THRESHOLD: '100',
  });
  admin = await createUser(t.app, { role: 'admin' });
  alice = await createUser(t.app);
  bob = await createUser(t.app);
});
afterAll(async () => {
  await t.close();
});

type Method = 'GET' | 'POST' | 'DELETE';
function send(
  ip: string,
  method: Method,
  url: string,
  options: { payload?: unknown; headers?: Record<string, string> } = {},
) {
  return t.app.inject({
    method,
    url,
    headers: { 'x-forwarded-for': ip, ...options.headers },
    ...(options.payload === undefined ? {} : { payload: options.payload as string }),
  });
}

function expectProblem(
  res: { statusCode: number; headers: Record<string, unknown>; json: () => Record<string, unknown> },
  status: number,
  code: string,
) {
  expect(res.statusCode).toBe(status);
  expect(String(res.headers['content-type'])).toMatch(/^application\/problem\+json/);
  expect(res.json()).toMatchObject({ status, code });
}

describe('headers and 429', () => {
  it('every response on a limited route carries RateLimit-Policy and RateLimit', async () => {
    const res = await send('203.0.113.1', 'GET', '/health/live');
    expect(res.statusCode).toBe(200);
    expect(res.headers['ratelimit-policy']).toBe('"global-minute";q=60;w=60, "global-hour";q=1000;w=3600');
    expect(res.headers['ratelimit']).toBe('"global-minute";r=59;t=1, "global-hour";r=999;t=4');
    const missing = await send('203.0.113.1', 'GET', '/no/such/route');
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['ratelimit']).toBe('"global-minute";r=58;t=2, "global-hour";r=998;t=8');
  });

  it('login: 5 per minute per client, then 429 RATE_LIMITED with Retry-After; time re-admits', async () => {
    const ip = '203.0.113.2';
    for (let i = 0; i < 5; i++) {
      const res = await send(ip, 'POST', '/api/auth/login', {
        payload: { email: uniqueEmail(), password: 'wrong-password' },
      });
      expect(res.statusCode).toBe(401);
    }
    const refused = await send(ip, 'POST', '/api/auth/login', {
      payload: { email: uniqueEmail(), password: 'wrong-password' },
    });
    expectProblem(refused, 429, 'RATE_LIMITED');
    expect(refused.headers['retry-after']).toBe('12');
    expect(String(refused.headers['ratelimit-policy'])).toContain(
      '"login-minute";q=5;w=60, "login-hour";q=20;w=3600, "login-account-hour";q=10;w=3600',
    );
    expect(String(refused.headers['ratelimit'])).toContain('"login-minute";r=0;t=60');
    t.clock.advance(12_000);
    const again = await send(ip, 'POST', '/api/auth/login', {
      payload: { email: uniqueEmail(), password: 'wrong-password' },
    });
    expect(again.statusCode).toBe(401);
  });

  it('login per account: guesses for one email from many clients share one bucket', async () => {
    const email = uniqueEmail('victim');
    const spellings = [email, email.toUpperCase(), ` ${email} `];
    for (let i = 0; i < 10; i++) {
      const res = await send(`203.0.113.${100 + i}`, 'POST', '/api/auth/login', {
        payload: { email: spellings[i % 3], password: 'guess' },
      });
      expect(res.statusCode).toBe(401);
    }
    const refused = await send('203.0.113.120', 'POST', '/api/auth/login', { payload: { email, password: 'guess' } });
    expectProblem(refused, 429, 'RATE_LIMITED');
    expect(String(refused.headers['ratelimit'])).toContain('"login-account-hour";r=0');
    // The same client may still try another account.
    const other = await send('203.0.113.120', 'POST', '/api/auth/login', {
      payload: { email: uniqueEmail(), password: 'guess' },
    });
    expect(other.statusCode).toBe(401);
  });

  it('register: 3 per minute per client, charged before validation', async () => {
    const ip = '203.0.113.3';
    for (let i = 0; i < 3; i++)
      expect((await send(ip, 'POST', '/api/auth/register', { payload: {} })).statusCode).toBe(400);
    expectProblem(await send(ip, 'POST', '/api/auth/register', { payload: {} }), 429, 'RATE_LIMITED');
  });

  it('portfolios: per authenticated user, per client when anonymous', async () => {
    const ip = '203.0.113.4';
    for (let i = 0; i < 3; i++)
      expect((await send(ip, 'GET', '/api/portfolios', { headers: alice.auth })).statusCode).toBe(200);
    expectProblem(await send(ip, 'GET', '/api/portfolios', { headers: alice.auth }), 429, 'RATE_LIMITED');
    // Bob, same address, has his own bucket; so does an anonymous caller.
    expect((await send(ip, 'GET', '/api/portfolios', { headers: bob.auth })).statusCode).toBe(200);
    const anonymous = await send(ip, 'GET', '/api/portfolios');
    expect(anonymous.statusCode).toBe(401);
    expect(String(anonymous.headers['ratelimit'])).toContain('"portfolios-minute";r=2');
    // A forged token is anonymous, never someone's bucket.
    const forged = await send(ip, 'GET', '/api/portfolios', { headers: { authorization: 'Bearer abc.def.ghi' } });
    expect(String(forged.headers['ratelimit'])).toContain('"portfolios-minute";r=1');
  });

  it('a per-user bucket follows the user however the token is written: a new address and another spelling of the scheme start no fresh bucket', async () => {
    // The shield reads the token with the same parser as authentication (src/http/request-identity.ts):
    // a scheme the authenticator accepts but the shield did not would make the caller anonymous
    // to the shield, keyed by an address the attacker can change, while still signed in.
    const carol = await createUser(t.app);
    for (let i = 0; i < 3; i++)
      expect((await send('203.0.113.40', 'GET', '/api/portfolios', { headers: carol.auth })).statusCode).toBe(200);
    for (const [ip, scheme] of [
      ['203.0.113.41', 'bearer'],
      ['203.0.113.42', 'BEARER'],
    ] as const) {
      const res = await send(ip, 'GET', '/api/portfolios', {
        headers: { authorization: `${scheme} ${carol.accessToken}` },
      });
      expectProblem(res, 429, 'RATE_LIMITED');
    }
  });
});

describe('automatic blocking and the admin API', () => {
  async function violate(ip: string, times: number): Promise<number[]> {
    const statuses: number[] = [];
    for (let i = 0; i < times; i++)
      statuses.push((await send(ip, 'POST', '/api/auth/register', { payload: {} })).statusCode);
    await t.app.shield.limiter.settled();
    return statuses;
  }

  it('admins list and lift blocks; nobody else may', async () => {
    const ip = '203.0.113.6';
    await violate(ip, 13);
    expectProblem(await send(ip, 'GET', '/health/live'), 403, 'CLIENT_BLOCKED');

    expectProblem(
      await send('127.0.0.1', 'GET', '/api/admin/security/blocks', { headers: alice.auth }),
      403,
      'FORBIDDEN',
    );
    expectProblem(
      await send('127.0.0.1', 'DELETE', `/api/admin/security/blocks/${ip}`, { headers: alice.auth }),
      403,
      'FORBIDDEN',
    );
    expectProblem(await send('127.0.0.1', 'GET', '/api/admin/security/blocks'), 401, 'UNAUTHORIZED');

    const lifted = await send('127.0.0.1', 'DELETE', `/api/admin/security/blocks/${ip}`, { headers: admin.auth });
    expect(lifted.statusCode).toBe(204);
    expect((await send(ip, 'GET', '/health/live')).statusCode).toBe(200);
    expectProblem(
      await send('127.0.0.1', 'DELETE', `/api/admin/security/blocks/${ip}`, { headers: admin.auth }),
      404,
      'NOT_FOUND',
    );
    expectProblem(
      await send('127.0.0.1', 'DELETE', '/api/admin/security/blocks/not-an-ip', { headers: admin.auth }),
      400,
      'INVALID_CLIENT',
    );
  });

  it('IPv6 clients are blocked by /64 and lifted by any address in it', async () => {
    const ip = '2001:db8:5:6::1';
    await violate(ip, 13);
    expectProblem(await send('2001:db8:5:6:ffff::9', 'GET', '/health/live'), 403, 'CLIENT_BLOCKED');
    const lifted = await send(
      '127.0.0.1',
      'DELETE',
      `/api/admin/security/blocks/${encodeURIComponent('2001:db8:5:6::abc')}`,
      { headers: admin.auth },
    );
    expect(lifted.statusCode).toBe(204);
    expect((await send(ip, 'GET', '/health/live')).statusCode).toBe(200);
  });

  // Last in this file to move the clock by an hour: access tokens expire after 30 minutes.
  it('10 violations block the client for an hour (403 CLIENT_BLOCKED + Retry-After), doubling on repeat', async () => {
    const ip = '203.0.113.5';
    const statuses = await violate(ip, 13);
    expect(statuses).toEqual([400, 400, 400, ...Array<number>(10).fill(429)]);
    const blocked = await send(ip, 'GET', '/health/live');
    expectProblem(blocked, 403, 'CLIENT_BLOCKED');
    expect(blocked.headers['retry-after']).toBe('3600');

    const list = await send('127.0.0.1', 'GET', '/api/admin/security/blocks', { headers: admin.auth });
    expect(list.statusCode).toBe(200);
    expect(list.json().items).toContainEqual(
      expect.objectContaining({ client: ip, level: 1, reason: 'rate_limited', retryAfter: 3600 }),
    );

    // Blocks expire by themselves; a repeat offender is blocked twice as long.
    t.clock.advance(3_600_000);
    expect((await send(ip, 'GET', '/health/live')).statusCode).toBe(200);
    await violate(ip, 13);
    const again = await send(ip, 'GET', '/health/live');
    expectProblem(again, 403, 'CLIENT_BLOCKED');
    expect(again.headers['retry-after']).toBe('7200');
  });

  it('the deny list refuses, the allow list is never limited', async () => {
    const denied = await send('198.51.100.77', 'GET', '/health/live');
    expectProblem(denied, 403, 'CLIENT_BLOCKED');
    expect(denied.headers['retry-after']).toBeUndefined();
    for (let i = 0; i < 30; i++) {
      const res = await send('192.0.2.250', 'POST', '/api/auth/register', { payload: {} });
      expect(res.statusCode).toBe(400);
      expect(res.headers['ratelimit']).toBeUndefined();
    }
  });
});

describe('request size', () => {
  it('a declared body over MAX_REQUEST_SIZE is refused before it is read (413)', async () => {
    const res = await send('203.0.113.7', 'POST', '/api/auth/login', {
      payload: JSON.stringify({ email: 'a@b.c', password: 'x'.repeat(5000) }),
      headers: { 'content-type': 'application/json' },
    });
    expectProblem(res, 413, 'PAYLOAD_TOO_LARGE');
    expect(res.headers['connection']).toBe('close');
  });

  it('a chunked body is counted as it arrives (413)', async () => {
    const chunks = Array.from({ length: 10 }, () => Buffer.from('x'.repeat(1000)));
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      headers: { 'x-forwarded-for': '203.0.113.8', 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      payload: Readable.from(chunks),
    });
    expectProblem(res, 413, 'PAYLOAD_TOO_LARGE');
  });
});

describe('observability', () => {
  it('/metrics has the counters, for allowed scrapers only', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.body).toMatch(/^rate_limit_allowed_total \d+/m);
    expect(res.body).toMatch(/^rate_limit_limited_total\{policy="login"\} [1-9]/m);
    expect(res.body).toMatch(/^rate_limit_blocked_total\{reason="auto"\} [1-9]/m);
    expect(res.body).toMatch(/^rate_limit_blocked_total\{reason="deny"\} [1-9]/m);
    expect(res.body).toMatch(/^rate_limit_fallback_mode 0/m);
    expect(res.body).toMatch(/^auto_block_blocks_total [1-9]/m);
    expect(res.body).toMatch(/^request_body_too_large_total [1-9]/m);
    expectProblem(await send('203.0.113.9', 'GET', '/metrics'), 404, 'ROUTE_NOT_FOUND');
  });

  it('/health/ready names the limiter store', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/health/ready' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      status: 'ready',
      checks: { rateLimit: { status: 'ok', kind: t.deps.kv.kind } },
    });
  });
});

describe('load shedding', () => {
  it('answers 503 with Retry-After while the event loop lags, except liveness', async () => {
    const s = await buildTestApp({ LOAD_SHED_MAX_EVENT_LOOP_DELAY: '100' });
    const waitTick = () => new Promise((resolve) => setTimeout(resolve, 600));
    try {
      const { shedder } = s.app.shield;
      await waitTick();
      expect(shedder.overloaded).toBe(false);
      // The event loop is stuck, as under a CPU-bound flood: the sampling timer fires late.
      const until = Date.now() + 900;
      while (Date.now() < until) {
        // busy
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
      expect(shedder.overloaded).toBe(true);
      const shed = await s.app.inject({ method: 'GET', url: '/health/ready' });
      expectProblem(shed, 503, 'SERVICE_UNAVAILABLE');
      expect(Number(shed.headers['retry-after'])).toBeGreaterThan(0);
      expect((await s.app.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200);
      // The next on-time tick lets requests in again.
      await waitTick();
      expect(shedder.overloaded).toBe(false);
      expect((await s.app.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(200);
    } finally {
      await s.close();
    }
  });
});
