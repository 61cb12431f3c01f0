/**
 * `npm run bench:tokens`: what authentication costs per request.
 *
 *   1. in-process: bare `jose.jwtVerify` of an Ed25519 access token, verifications/s (the cost
 *      of verifying every request from scratch).
 *   2. HTTP, Redis configured, the same small JSON route open and behind `app.authenticate`
 *      (signature + claims, revocation: user version, session, jti denylist; binding):
 *        - default: verified tokens remembered per node (TOKEN_CACHE_SIZE)        goal >= 0.8x
 *        - TOKEN_CACHE_SIZE=0: every request verified from scratch               (for comparison)
 *      plus the database reads and Redis commands per authenticated request during the run
 *      (goal: no round trip per request in the common case).
 *
 * Redis: a private redis-server (so its command count is ours alone), else BENCH_REDIS_URL /
 * TEST_REDIS_URL. BENCH_DATABASE_URL selects PostgreSQL (default: PGlite). BENCH_DURATION (s,
 * default 5), BENCH_CONNECTIONS (default 10). Each HTTP variant is measured three times,
 * alternating, best kept (the machine may be shared).
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { jwtVerify, SignJWT } from 'jose';
import { markdownTable, measure, privateRedis, startBenchServer, type BenchRow, type BenchServer } from './harness.js';

const durationS = Number(process.env['BENCH_DURATION'] ?? 5);
const connections = Number(process.env['BENCH_CONNECTIONS'] ?? 10);

const rows: BenchRow[] = [];

async function bareJoseVerify(): Promise<number> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({
    type: 'access',
    sid: randomUUID(),
    ver: 0,
    fgp: 'x'.repeat(32),
    amr: ['pwd'],
    auth_time: now,
  })
    .setProtectedHeader({ alg: 'EdDSA', kid: 'k', typ: 'JWT' })
    .setSubject(randomUUID())
    .setJti(randomUUID())
    .setIssuer('portfolio-backend')
    .setAudience('portfolio-api')
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(now + 1800)
    .sign(privateKey);
  const options = { algorithms: ['EdDSA'], issuer: 'portfolio-backend', audience: 'portfolio-api' };
  for (let i = 0; i < 500; i++) await jwtVerify(token, publicKey, options);
  let best = 0;
  for (let round = 0; round < 3; round++) {
    const n = 5000;
    const start = performance.now();
    for (let i = 0; i < n; i++) await jwtVerify(token, publicKey, options);
    best = Math.max(best, n / ((performance.now() - start) / 1000));
  }
  return best;
}

async function redisCommands(url: string): Promise<number> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await client.connect();
    const info = await client.info('stats');
    return Number(/total_commands_processed:(\d+)/.exec(info)?.[1] ?? 0);
  } finally {
    client.disconnect();
  }
}

async function stats(server: BenchServer): Promise<{ dbReads: number; cacheHits: number }> {
  return (await fetch(`http://127.0.0.1:${server.port}/bench/token-stats`)).json() as Promise<{
    dbReads: number;
    cacheHits: number;
  }>;
}

async function benchHttp(redisUrl: string, ownRedis: boolean): Promise<void> {
  const env = { BENCH_REDIS_URL: redisUrl };
  const cached = await startBenchServer(env);
  const uncached = await startBenchServer({ ...env, BENCH_CONFIG: JSON.stringify({ TOKEN_CACHE_SIZE: '0' }) });
  const variants = [
    { label: 'open', server: cached, path: '/bench/hello', auth: false },
    { label: 'auth', server: cached, path: '/bench/hello-auth', auth: true },
    { label: 'auth-nocache', server: uncached, path: '/bench/hello-auth', auth: true },
  ] as const;
  const best: Record<string, number> = {};
  const perRequest = { dbReads: 0, redis: 0, requests: 0 };
  try {
    for (const v of variants) {
      const headers = v.auth ? { authorization: `Bearer ${v.server.accessToken}` } : undefined;
      await measure(
        { name: 'warm-up', url: `http://127.0.0.1:${v.server.port}${v.path}`, ...(headers ? { headers } : {}) },
        { durationS: 1, connections },
      );
    }
    for (let round = 0; round < 3; round++) {
      for (const v of variants) {
        process.stderr.write(`measuring ${v.label} (${v.path}), round ${round + 1}, ${durationS}s...\n`);
        const headers = v.auth ? { authorization: `Bearer ${v.server.accessToken}` } : undefined;
        const before =
          v.label === 'auth' ? { s: await stats(v.server), r: ownRedis ? await redisCommands(redisUrl) : 0 } : null;
        const r = await measure(
          { name: v.label, url: `http://127.0.0.1:${v.server.port}${v.path}`, ...(headers ? { headers } : {}) },
          { durationS, connections },
        );
        if (before) {
          const after = await stats(v.server);
          perRequest.dbReads += after.dbReads - before.s.dbReads;
          if (ownRedis) perRequest.redis += (await redisCommands(redisUrl)) - before.r;
          perRequest.requests += r.reqPerSec * durationS;
        }
        if (r.non2xx > 0 || r.errors > 0) process.stderr.write(`  ${r.non2xx} non-2xx, ${r.errors} errors\n`);
        best[v.label] = Math.max(best[v.label] ?? 0, r.reqPerSec);
      }
    }
  } finally {
    await Promise.all([cached.stop(), uncached.stop()]);
  }
  const open = `http (${cached.database}, redis): GET /bench/hello, no authentication`;
  rows.push({ name: open, value: best['open'] ?? 0, unit: 'req/s' });
  rows.push({
    name: 'http: same route, authenticated (verify once per node + revocation + binding)',
    value: best['auth'] ?? 0,
    unit: 'req/s',
    baseline: open,
    goal: '>= 0.8x',
  });
  rows.push({
    name: 'http: same route, authenticated, TOKEN_CACHE_SIZE=0 (verify every request)',
    value: best['auth-nocache'] ?? 0,
    unit: 'req/s',
    baseline: open,
  });
  rows.push({
    name: 'database reads per authenticated request',
    value: perRequest.dbReads / Math.max(1, perRequest.requests),
    unit: 'reads',
  });
  if (ownRedis) {
    // Includes every node's revocation heartbeat (5 publishes/s per node).
    rows.push({
      name: 'Redis commands per authenticated request (incl. heartbeats)',
      value: perRequest.redis / Math.max(1, perRequest.requests),
      unit: 'commands',
    });
  }
}

function table(): string {
  const header = ['variant', 'value', 'unit', 'ratio', 'goal', 'met'];
  const body = rows.map((r) => {
    const base = r.baseline ? rows.find((x) => x.name === r.baseline) : undefined;
    const ratio = base && base.value > 0 ? r.value / base.value : null;
    const value = r.unit === 'reads' || r.unit === 'commands' ? r.value.toFixed(4) : r.value.toFixed(0);
    const goal = r.goal ?? '';
    const met = r.goal && ratio !== null ? (ratio >= Number(/[\d.]+/.exec(r.goal)?.[0]) ? 'yes' : 'NOT met') : '';
    return [
      r.name,
      value,
      r.unit,
      ratio === null ? (r.unit === 'req/s' && !r.baseline ? 'baseline' : '') : `${ratio.toFixed(2)}x`,
      goal,
      met,
    ];
  });
  return markdownTable(header, body);
}

process.stderr.write('bare jose.jwtVerify...\n');
rows.push({
  name: 'in-process: bare jose.jwtVerify (Ed25519), one core',
  value: await bareJoseVerify(),
  unit: 'verify/s',
});
const redis = await privateRedis();
if (!redis) {
  process.stderr.write('no redis-server and no BENCH_REDIS_URL: the issue asks for Redis; skipping the HTTP part\n');
} else {
  try {
    await benchHttp(redis.url, redis.own);
  } finally {
    await redis.stop();
  }
}
process.stdout.write(
  `\nToken benchmark: node ${process.version}, HTTP ${connections} connections x ${durationS}s, best of 3\n\n${table()}\n`,
);
