/**
 * Server side of the rate-limit HTTP benchmark (its own process, so the load generator does not
 * share its event loop). Like bench/server.ts, but the shield is configured from BENCH_RL_*:
 * BENCH_RL_ENABLED turns limiting on or off, BENCH_REDIS_URL selects Redis. Limits are set so
 * high that nothing is refused: what is measured is the cost of deciding, not of refusing.
 * Prints one JSON line: { port, portfolioId, accessToken }.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config/index.js';
import { openPlatform } from '../src/platform/bootstrap.js';

const dataDir = await mkdtemp(path.join(os.tmpdir(), 'pf-bench-rl-'));
const redisUrl = process.env['BENCH_REDIS_URL'];
const config = loadConfig({
  NODE_ENV: 'test',
  LOG_LEVEL: 'silent',
  DATA_DIR: dataDir,
  PORT: '0',
  RATE_LIMIT_ENABLED: process.env['BENCH_RL_ENABLED'] ?? 'true',
  RATE_LIMIT_PER_MINUTE: '1000000',
  RATE_LIMIT_PER_HOUR: '10000000',
  RATE_LIMIT_PORTFOLIOS_PER_MINUTE: '1000000',
  RATE_LIMIT_PORTFOLIOS_PER_HOUR: '10000000',
  LOAD_SHED_MAX_EVENT_LOOP_DELAY: '0',
  KV_PREFIX: `bench:${randomBytes(4).toString('hex')}:`,
  ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
});
const deps = await openPlatform(config);
const app = await buildApp(deps, { logger: false });
await app.ready();

const tag = randomBytes(4).toString('hex');
const email = `bench-${tag}@example.test`;
const password = `Violet-Harbor-Lantern-${tag}`;
await app.users.create({ email, password, name: 'Bench' });
const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password } });
const { accessToken } = login.json<{ accessToken: string }>();
const created = await app.inject({
  method: 'POST',
  url: '/api/portfolios',
  headers: { authorization: `Bearer ${accessToken}` },
  payload: { title: 'Benchmark portfolio', slug: `bench-${tag}`, summary: 'A portfolio of typical size' },
});
const portfolio = created.json<{ id: string }>();

await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
const port = typeof address === 'object' && address ? address.port : 0;
process.stdout.write(`${JSON.stringify({ port, portfolioId: portfolio.id, accessToken })}\n`);

process.on('SIGTERM', () => {
  void app
    .close()
    .then(() => deps.kv.close())
    .then(() => deps.db.close())
    .then(() => process.exit(0));
});
