/**
 * `npm run bench`: HTTP throughput of representative routes, side by side, with ratios.
 *
 *   BENCH_DURATION=5 BENCH_CONNECTIONS=10 npm run bench
 *   BENCH_DATABASE_URL=postgres://... npm run bench     # adds the PostgreSQL variants
 */
import { formatTable, measure, startBenchServer, withRatios, type Variant } from './harness.js';

const durationS = Number(process.env['BENCH_DURATION'] ?? 5);
const connections = Number(process.env['BENCH_CONNECTIONS'] ?? 10);
const pgUrl = process.env['BENCH_DATABASE_URL'] ?? process.env['TEST_DATABASE_URL'];

const targets: { label: string; env: Record<string, string> }[] = [{ label: 'pglite', env: { BENCH_DATABASE_URL: '' } }];
if (pgUrl) targets.push({ label: 'postgres', env: { BENCH_DATABASE_URL: pgUrl } });

const variants: Variant[] = [];
const results = [];
for (const target of targets) {
  const server = await startBenchServer(target.env);
  const base = `http://127.0.0.1:${server.port}`;
  const live = `GET /health/live (${target.label})`;
  const mine: Variant[] = [
    { name: live, url: `${base}/health/live` },
    { name: `GET /api/public/portfolios/:slug (${target.label})`, baseline: live, url: `${base}/api/public/portfolios/${server.slug}` },
    {
      name: `GET /api/portfolios/:id authed (${target.label})`,
      baseline: live,
      url: `${base}/api/portfolios/${server.portfolioId}`,
      headers: { authorization: `Bearer ${server.accessToken}` },
    },
  ];
  try {
    for (const v of mine) {
      process.stderr.write(`measuring ${v.name} for ${durationS}s...\n`);
      results.push(await measure(v, { durationS, connections }));
    }
  } finally {
    await server.stop();
  }
  variants.push(...mine);
}

process.stdout.write(`\nHTTP benchmark: ${connections} connections, ${durationS}s per variant, node ${process.version}\n\n`);
process.stdout.write(`${formatTable(withRatios(results, variants), variants)}\n`);
const bad = results.filter((r) => r.non2xx > 0 || r.errors > 0);
if (bad.length > 0) {
  process.stderr.write(`Some variants had failed requests: ${bad.map((b) => b.name).join(', ')}\n`);
  process.exitCode = 1;
}
