/**
 * Child process of src/security/monitoring/tracing/tracing.test.ts: watches module loading from
 * before the app is imported (an ESM resolve hook, ./otel-probe-hooks.mjs, and the CommonJS
 * require cache), builds the real app on in-memory PGlite with the environment it was given,
 * serves a few requests that run queries, closes it, and prints one JSON line: every
 * @opentelemetry module this process loaded, by file and by package, and whether the OpenTelemetry
 * API's global registry was ever created (only a registration creates it).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire, register } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { MessageChannel } from 'node:worker_threads';

const { port1, port2 } = new MessageChannel();
const esm: string[] = [];
let flushed: (() => void) | undefined;
port1.on('message', (m: { url?: string; flush?: boolean }) => {
  if (m.url) esm.push(m.url);
  if (m.flush) flushed?.();
});
register('./otel-probe-hooks.mjs', import.meta.url, { data: { port: port2 }, transferList: [port2] });

const { buildApp } = await import('../../../src/app.js');
const { loadConfig } = await import('../../../src/config/index.js');
const { ManualClock } = await import('../../../src/platform/clock.js');
const { openDb } = await import('../../../src/platform/db/index.js');
const { migrate } = await import('../../../src/platform/db/migrate.js');
const { openKv } = await import('../../../src/platform/kv/index.js');

const dataDir = await mkdtemp(path.join(os.tmpdir(), 'pf-otel-probe-'));
const config = loadConfig({
  NODE_ENV: 'test',
  LOG_LEVEL: 'silent',
  DATA_DIR: dataDir,
  RATE_LIMIT_ENABLED: 'false',
  AUTO_BLOCK_ENABLED: 'false',
  LOAD_SHED_MAX_EVENT_LOOP_DELAY: '0',
  MONITORING_POLL_INTERVAL: '0',
  OTEL_EXPORTER_OTLP_ENDPOINT: process.env['OTEL_EXPORTER_OTLP_ENDPOINT'],
});
const clock = new ManualClock(new Date());
const db = await openDb({ dataDir: 'memory://' });
await migrate(db);
const kv = await openKv({ url: undefined, prefix: 'probe:' });
const app = await buildApp(
  { config, db, kv, clock, secrets: { jwt: randomBytes(32).toString('hex') } },
  { logger: false },
);
await app.ready();
const statuses: number[] = [];
for (const request of [
  { method: 'GET' as const, url: '/health/live' },
  {
    method: 'POST' as const,
    url: '/api/auth/login',
    payload: { email: 'nobody@example.test', password: 'Not-The-Password-1' },
  },
  { method: 'GET' as const, url: '/api/public/portfolios/default' },
]) {
  statuses.push((await app.inject(request)).statusCode);
}
await app.close();
await kv.close();
await db.close();
await rm(dataDir, { recursive: true, force: true });

// Every message the hook posted before this marker has arrived once the marker has (one port, in order).
await new Promise<void>((resolve) => {
  flushed = resolve;
  const marker: string = 'otel-probe:flush';
  void import(marker);
});
port1.close();
const cache = Object.keys(createRequire(import.meta.url).cache);
const cjs = cache.filter((f) => f.includes(`${path.sep}@opentelemetry${path.sep}`));
/** The @opentelemetry packages among the loaded files, by name. */
const packages = [...new Set([...esm, ...cjs].map((f) => /@opentelemetry[\\/]([a-z0-9-]+)/.exec(f)?.[1]))]
  .filter((p): p is string => p !== undefined)
  .sort();
// The API's global registry (trace provider, context manager, propagator): set only by a registration.
const apiGlobal = (globalThis as Record<symbol, unknown>)[Symbol.for('opentelemetry.js.api.1')];
const promClient = cache.some((f) => f.includes(`${path.sep}prom-client${path.sep}`));
process.stdout.write(
  `${JSON.stringify({ statuses, esm: [...new Set(esm)], cjs, packages, apiGlobal: apiGlobal !== undefined, promClient })}\n`,
);
