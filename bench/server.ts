/**
 * The server side of the HTTP benchmark, run in its own process so the load generator does not
 * share its event loop. Seeds a user and a published portfolio, listens on a free port, and
 * prints one JSON line with what the load generator needs. Shared by every HTTP benchmark
 * (`npm run bench`, `npm run bench:ratelimit`).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config/index.js';
import { openPlatform } from '../src/platform/bootstrap.js';
import { KeyRingError } from '../src/security/tokens/keys.js';

const dataDir = await mkdtemp(path.join(os.tmpdir(), 'pf-bench-'));
// BENCH_CONFIG: a JSON object of extra configuration (e.g. the rate-limit bench's policies).
const extra = JSON.parse(process.env['BENCH_CONFIG'] ?? '{}') as Record<string, string>;
const config = loadConfig({
  NODE_ENV: 'test',
  LOG_LEVEL: 'silent',
  DATA_DIR: dataDir,
  PORT: '0',
  // These variants measure the request path itself; the rate-limit bench turns the limiter on.
  RATE_LIMIT_ENABLED: 'false',
  // A loaded benchmark machine must not shed the very requests being measured.
  LOAD_SHED_MAX_EVENT_LOOP_DELAY: '0',
  KV_PREFIX: `bench:${randomBytes(4).toString('hex')}:`,
  ...(process.env['BENCH_DATABASE_URL']
    ? { DATABASE_URL: process.env['BENCH_DATABASE_URL'], JWT_SECRET: 'bench-only-jwt-secret-shared-by-every-bench-server' }
    : {}),
  ...(process.env['BENCH_REDIS_URL'] ? { REDIS_URL: process.env['BENCH_REDIS_URL'] } : {}),
  ...extra,
});
const deps = await openPlatform(config);
// Every bench server of a run shares BENCH_DATABASE_URL, so they share one JWT_SECRET (the key
// ring is encrypted with it). Keys left there by earlier runs under another secret are scratch.
if (config.DATABASE_URL) {
  const probe = await buildApp(deps, { logger: false }).catch(async (err: unknown) => {
    if (!(err instanceof KeyRingError)) throw err;
    await deps.db.query('delete from signing_keys');
    return null;
  });
  await probe?.close();
}
const app = await buildApp(deps, { logger: false });
// The same small JSON route, open and behind authentication (verify + revocation + binding), so
// the token benchmark (bench/tokens.ts) measures what authentication itself costs.
app.get('/bench/hello', async () => ({ ok: true, user: null }));
app.get('/bench/hello-auth', { onRequest: app.authenticate }, async (request) => ({
  ok: true,
  user: request.actor?.userId ?? null,
}));
// How often authentication had to ask the database (revocation cache misses), for the token bench.
app.get('/bench/token-stats', async () => ({ ...app.tokens.revocation.stats }));
await app.ready();

const tag = randomBytes(4).toString('hex');
const email = `bench-${tag}@example.test`;
const password = `Violet-Harbor-Lantern-${tag}`;
await app.users.create({ email, password, name: 'Bench' });
const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password } });
const { accessToken } = login.json<{ accessToken: string }>();
const auth = { authorization: `Bearer ${accessToken}` };
const slug = `bench-${tag}`;
const created = await app.inject({
  method: 'POST',
  url: '/api/portfolios',
  headers: auth,
  payload: {
    title: 'Benchmark portfolio',
    slug,
    summary: 'A portfolio of typical size',
    visibility: 'public',
    published: true,
  },
});
const portfolio = created.json<{ id: string }>();
for (let i = 0; i < 8; i++) {
  await app.inject({
    method: 'POST',
    url: `/api/portfolios/${portfolio.id}/projects`,
    headers: auth,
    payload: {
      title: `Project ${i}`,
      description: 'Something built with care. '.repeat(10),
      skills: ['typescript', 'postgres'],
      position: i,
    },
  });
  await app.inject({
    method: 'POST',
    url: `/api/portfolios/${portfolio.id}/sections`,
    headers: auth,
    payload: { kind: 'custom', title: `Section ${i}`, body: '# Heading\n\nSome markdown. '.repeat(20), position: i },
  });
}

await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
const port = typeof address === 'object' && address ? address.port : 0;
process.stdout.write(
  `${JSON.stringify({ port, slug, portfolioId: portfolio.id, accessToken, database: deps.db.kind })}\n`,
);

process.on('SIGTERM', () => {
  void app
    .close()
    .then(() => deps.kv.close())
    .then(() => deps.db.close())
    .then(() => process.exit(0));
});
