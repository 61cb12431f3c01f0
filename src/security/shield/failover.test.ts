/**
 * Fault tolerance: a Redis outage must not turn into an outage of the API. When Redis stops
 * (here: a private redis-server killed under load) requests keep being answered with no 5xx,
 * limits keep applying per node in memory, readiness says "degraded"; when Redis is back the
 * nodes share their limits again. A Redis that hangs instead of refusing is left after the
 * per-call budget. Fail-closed policies answer 503 meanwhile instead of limiting per node.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.js';
import { TEST_REDIS_URL } from '../../../test/helpers/services.js';
import { freePort, waitFor } from '../../../test/helpers/spawn.js';
import { KvUnavailableError } from '../../platform/kv/index.js';
import { FailoverStore } from './failover.js';
import { intervalFor, type BucketGroup, type Decision } from './gcra.js';
import { MemoryLimiterStore, type LimiterStore } from './stores.js';

function bucket(key: string, limit: number): BucketGroup {
  return { key, cost: 1, windows: [{ interval: intervalFor(limit, 60), limit }] };
}

/** A primary that fails or hangs on demand. */
class FlakyStore extends MemoryLimiterStore {
  state: 'up' | 'down' | 'hang' = 'up';
  calls = 0;
  private gate<T>(value: () => Promise<T>): Promise<T> {
    this.calls++;
    if (this.state === 'down') return Promise.reject(new KvUnavailableError('connection refused'));
    if (this.state === 'hang') return new Promise<T>(() => undefined);
    return value();
  }
  override decide(client: string, groups: readonly BucketGroup[], now: number): Promise<Decision> {
    return this.gate(() => super.decide(client, groups, now));
  }
  override ping(): Promise<void> {
    return this.gate(() => super.ping());
  }
}

describe('FailoverStore', () => {
  it('falls back on an outage and on a hang, decides in memory without retrying Redis, and returns', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const primary = new FlakyStore({ sweepIntervalMs: 0 });
    const modes: string[] = [];
    const store = new FailoverStore(primary, new MemoryLimiterStore({ sweepIntervalMs: 0 }), {
      budgetMs: 50,
      probeIntervalMs: 60_000, // driven by hand below
      clock: () => now,
      onModeChange: (mode) => modes.push(mode),
    });
    const b = bucket('k', 3);
    try {
      expect((await store.decide('c', [b], now)).outcome).toBe('allowed');
      primary.state = 'hang';
      // Answered within the budget, from memory (a fresh bucket: per-node state starts empty).
      expect((await store.decide('c', [b], now)).outcome).toBe('allowed');
      expect(store.degraded).toBe(true);
      const callsWhenDegraded = primary.calls;
      for (let i = 0; i < 2; i++) expect((await store.decide('c', [b], now)).outcome).toBe('allowed');
      expect((await store.decide('c', [b], now)).outcome).toBe('limited');
      // No request tried the primary again.
      expect(primary.calls).toBe(callsWhenDegraded);

      primary.state = 'down';
      expect(await store.probe()).toBe(false);
      primary.state = 'up';
      expect(await store.probe()).toBe(true);
      expect(store.degraded).toBe(false);
      // The primary's own state is the truth again: one unit used before the outage.
      now += 0;
      expect((await store.decide('c', [b], now)).outcome).toBe('allowed');
      expect((await store.decide('c', [b], now)).outcome).toBe('allowed');
      expect((await store.decide('c', [b], now)).outcome).toBe('limited');
      expect(modes).toEqual(['fallback', 'primary']);
    } finally {
      store.close();
      primary.close();
    }
  });

  it('does not hide a script error behind the fallback', async () => {
    const broken: LimiterStore = Object.assign(new MemoryLimiterStore({ sweepIntervalMs: 0 }), {
      decide: () => Promise.reject(new Error('ERR user_script:1: oops')),
    });
    const store = new FailoverStore(broken, new MemoryLimiterStore({ sweepIntervalMs: 0 }), {
      budgetMs: 50,
      clock: () => 0,
    });
    try {
      await expect(store.decide('c', [bucket('k', 1)], 0)).rejects.toThrow(/oops/);
      expect(store.degraded).toBe(false);
    } finally {
      store.close();
    }
  });
});

/** A private redis-server in the foreground, so the test can kill it. */
async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  await waitFor(async () => {
    const net = await import('node:net');
    return new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.end();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
  }, 10_000);
  return child;
}

async function stopRedis(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

describe.skipIf(!TEST_REDIS_URL)('Redis outage under load (private redis-server)', () => {
  let port: number;
  let redis: ChildProcess;
  let a: TestApp;
  let b: TestApp;
  let closedLogin: TestApp;

  beforeAll(async () => {
    port = await freePort();
    redis = await startRedis(port);
    const env = {
      REDIS_URL: `redis://127.0.0.1:${port}`,
      KV_PREFIX: 'fault:',
      RATE_LIMIT_ENABLED: 'true',
      RATE_LIMIT_PER_MINUTE: '20',
      TRUST_PROXY: '127.0.0.1',
      RATE_LIMIT_STORE_TIMEOUT_MS: '100',
    };
    a = await buildTestApp(env);
    b = await buildTestApp(env);
    closedLogin = await buildTestApp({ ...env, RATE_LIMIT_FAIL_CLOSED: 'login' });
    // Both nodes share one Redis: 20 per minute for a client, whichever node it reaches.
    b.clock.set(a.clock.now());
  });
  afterAll(async () => {
    await Promise.allSettled([a.close(), b.close(), closedLogin.close()]);
    await stopRedis(redis);
  });

  const hit = (t: TestApp, ip: string, url = '/health/live', method: 'GET' | 'POST' = 'GET', payload?: object) =>
    t.app.inject({ method, url, headers: { 'x-forwarded-for': ip }, ...(payload ? { payload } : {}) });

  it('shares limits, falls back to memory with no 5xx when Redis dies, and shares again when it returns', async () => {
    // Shared: 10 on each node, then both refuse.
    for (let i = 0; i < 10; i++) {
      expect((await hit(a, '203.0.113.10')).statusCode).toBe(200);
      expect((await hit(b, '203.0.113.10')).statusCode).toBe(200);
    }
    expect((await hit(a, '203.0.113.10')).statusCode).toBe(429);
    expect((await hit(b, '203.0.113.10')).statusCode).toBe(429);

    // Load from 20 clients in flight when Redis is killed.
    const statuses: number[] = [];
    const load = (async () => {
      for (let round = 0; round < 15; round++) {
        const batch = await Promise.all(Array.from({ length: 20 }, (_, i) => hit(i % 2 ? a : b, `198.18.0.${i}`)));
        statuses.push(...batch.map((r) => r.statusCode));
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await stopRedis(redis);
    await load;
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(0);

    // Make sure both nodes have noticed, then limiting goes on per node in memory.
    await hit(a, '198.18.1.1');
    await hit(b, '198.18.1.1');
    expect(a.app.shield.limiter.degraded).toBe(true);
    const perNode: number[] = [];
    for (let i = 0; i < 22; i++) perNode.push((await hit(a, '203.0.113.11')).statusCode);
    expect(perNode.filter((s) => s === 200)).toHaveLength(20);
    expect(perNode.slice(20)).toEqual([429, 429]);

    const ready = await a.app.inject({ method: 'GET', url: '/health/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({
      status: 'degraded',
      checks: { kv: { status: 'fail' }, rateLimit: { status: 'degraded', kind: 'memory' } },
    });
    const metrics = await a.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/^rate_limit_fallback_mode 1/m);

    // A fail-closed policy refuses instead of guessing; other routes keep working.
    await hit(closedLogin, '198.18.2.1');
    const login = await hit(closedLogin, '198.18.2.1', '/api/auth/login', 'POST', {
      email: 'x@example.test',
      password: 'x',
    });
    expect(login.statusCode).toBe(503);
    expect(login.json()).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    expect(login.headers['retry-after']).toBeDefined();
    expect((await hit(closedLogin, '198.18.2.1')).statusCode).toBe(200);

    // Redis returns (empty: no persistence). Each node notices within its probe interval.
    redis = await startRedis(port);
    await waitFor(async () => !a.app.shield.limiter.degraded && !b.app.shield.limiter.degraded, 20_000);
    const readyAgain = await a.app.inject({ method: 'GET', url: '/health/ready' });
    expect(readyAgain.json()).toMatchObject({
      status: 'ready',
      checks: { rateLimit: { status: 'ok', kind: 'redis' } },
    });

    for (let i = 0; i < 10; i++) {
      expect((await hit(a, '203.0.113.12')).statusCode).toBe(200);
      expect((await hit(b, '203.0.113.12')).statusCode).toBe(200);
    }
    expect((await hit(b, '203.0.113.12')).statusCode).toBe(429);
    expect((await hit(a, '203.0.113.12')).statusCode).toBe(429);
  }, 60_000);
});
