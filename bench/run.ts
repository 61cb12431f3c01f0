/**
 * `npm run bench`: HTTP throughput of representative routes, side by side, with ratios, then the
 * process-level numbers (idle RSS, start-up), and the issue 16 goals as met / not met.
 *
 *   BENCH_DURATION=5 BENCH_CONNECTIONS=10 npm run bench
 *   BENCH_DATABASE_URL=postgres://... npm run bench     # adds the PostgreSQL variants
 *   BENCH_STARTUP_RUNS=3                                 # runs per start-up/RSS measurement (median)
 *   BENCH_ONLY=process npm run bench                     # only the process-level rows (RSS, start-up, CLI)
 *   BENCH_ONLY=http npm run bench                        # only the HTTP variants
 *   BENCH_VARIANTS=authed npm run bench                  # only the HTTP variants whose name contains one of
 *                                                        # these comma-separated words (and their baselines)
 *   BENCH_VARIANTS=miss,miss-cold,write npm run bench   # a cache miss served from the stored answer, one
 *                                                        # that renders (no stored answers), and a child
 *                                                        # write alone and with every language rendered in it
 *   BENCH_COMPARE_UNPREPARED=1                           # adds the authenticated reads on a server whose
 *                                                        # queries are all unprepared (the cost before)
 *
 * The portfolio read is of realistic size (bench/server.ts): 3 languages, 12 projects, 6
 * sections, 10 experiences, 40 skills, 10 links, 20 media. The process-level rows start the server
 * as `npm start` and the Dockerfile do (START_COMMAND below), so they need a built dist/
 * (`npm run build`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  formatTable,
  freePort,
  markdownTable,
  measure,
  rssMb,
  startBenchServer,
  startUntilReady,
  timeToExit,
  withRatios,
  type BenchServer,
  type Variant,
} from './harness.js';

const durationS = Number(process.env['BENCH_DURATION'] ?? 5);
const connections = Number(process.env['BENCH_CONNECTIONS'] ?? 10);
const startupRuns = Number(process.env['BENCH_STARTUP_RUNS'] ?? 3);
const pgUrl = process.env['BENCH_DATABASE_URL'] ?? process.env['TEST_DATABASE_URL'];
/** BENCH_ONLY=process skips the HTTP variants (minutes); BENCH_ONLY=http skips the process-level rows. */
const only = process.env['BENCH_ONLY'];
/** BENCH_VARIANTS=a,b: only the HTTP variants whose name contains a or b, with their baselines. */
const variantFilter = (process.env['BENCH_VARIANTS'] ?? '')
  .split(',')
  .map((w) => w.trim())
  .filter((w) => w.length > 0);
const selected = (all: Variant[]): Variant[] => {
  if (variantFilter.length === 0) return all;
  const picked = all.filter((v) => variantFilter.some((w) => v.name.includes(w)));
  const baselines = new Set(picked.map((v) => v.baseline).filter((b) => b !== undefined));
  return all.filter((v) => picked.includes(v) || baselines.has(v.name));
};
const root = path.resolve(import.meta.dirname, '..');
/** The bench servers' secret (bench/server.ts): the key ring in the shared database is encrypted with it. */
const BENCH_JWT_SECRET = 'bench-only-jwt-secret-shared-by-every-bench-server';

const targets: { label: string; env: Record<string, string> }[] = [
  { label: 'pglite', env: { BENCH_DATABASE_URL: '' } },
];
if (pgUrl) targets.push({ label: 'postgres', env: { BENCH_DATABASE_URL: pgUrl } });

interface Goal {
  name: string;
  value: string;
  goal: string;
  met: boolean | null;
}
const goals: Goal[] = [];
const addRatioGoal = (name: string, ratio: number | null, min: number) =>
  goals.push({
    name,
    value: ratio === null ? '?' : `${ratio.toFixed(2)}x`,
    goal: `>= ${min.toFixed(2)}x`,
    met: ratio !== null && ratio >= min,
  });

const variants: Variant[] = [];
const results = [];
for (const target of only === 'process' ? [] : targets) {
  // Servers on the same database: the default (per-node public-read cache on) and one with the
  // cache off (PUBLIC_READ_CACHE_SIZE_MB=0), whose every public read is a miss: served from the
  // stored answer (public_snapshots, one statement). When selected, a third with the cache off and
  // no stored answers (BENCH_NO_SNAPSHOTS), whose every miss renders (the one-statement read): the
  // miss-cold rows; and a fourth that renders every language in each write (BENCH_RENDER_ON_WRITE).
  const server = await startBenchServer(target.env);
  const uncached = await startBenchServer({
    ...target.env,
    BENCH_CONFIG: JSON.stringify({ PUBLIC_READ_CACHE_SIZE_MB: '0' }),
  });
  const wanted = (word: string) => variantFilter.length === 0 || variantFilter.some((w) => word.includes(w));
  const cold = wanted('cache miss-cold')
    ? await startBenchServer({
        ...target.env,
        BENCH_NO_SNAPSHOTS: '1',
        BENCH_CONFIG: JSON.stringify({ PUBLIC_READ_CACHE_SIZE_MB: '0' }),
      })
    : null;
  const rendering = wanted('write, render-on-write')
    ? await startBenchServer({ ...target.env, BENCH_RENDER_ON_WRITE: '1' })
    : null;
  const base = `http://127.0.0.1:${server.port}`;
  const missBase = `http://127.0.0.1:${uncached.port}`;
  const live = `GET /health/live (${target.label})`;
  const publicHit = `GET /api/public/portfolios/:slug, cache hit (${target.label})`;
  const publicHitLang = `GET /api/public/portfolios/:slug?lang=es, cache hit (${target.label})`;
  const publicMiss = `GET /api/public/portfolios/:slug, cache miss (${target.label})`;
  const publicMissLang = `GET /api/public/portfolios/:slug?lang=es, cache miss (${target.label})`;
  const publicMissCold = `GET /api/public/portfolios/:slug, cache miss-cold (${target.label})`;
  const publicMissColdLang = `GET /api/public/portfolios/:slug?lang=es, cache miss-cold (${target.label})`;
  const childWrite = `PATCH /api/projects/:id, write (${target.label})`;
  const childWriteRendering = `PATCH /api/projects/:id, write, render-on-write (${target.label})`;
  const patch = (s: BenchServer): Partial<Variant> => ({
    url: `http://127.0.0.1:${s.port}/api/projects/${s.projectId}`,
    method: 'PATCH',
    headers: { authorization: `Bearer ${s.accessToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ title: 'Project 0, edited' }),
  });
  const publicRead304 = `GET /api/public/portfolios/:slug If-None-Match 304 (${target.label})`;
  const authed = `GET /api/portfolios/:id authed (${target.label})`;
  const authedList = `GET /api/portfolios/:id/projects authed (${target.label})`;
  const authedUnprepared = `GET /api/portfolios/:id authed, unprepared (${target.label})`;
  const authedListUnprepared = `GET /api/portfolios/:id/projects authed, unprepared (${target.label})`;
  const publicUrl = `${base}/api/public/portfolios/${server.slug}`;
  const missUrl = `${missBase}/api/public/portfolios/${uncached.slug}`;
  // The tag of the identity representation (autocannon sends no Accept-Encoding), read just before
  // the 304 variant runs: the payload's signed links, and so its tag, change every UPLOAD_URL_TTL/2.
  const currentEtag = async () =>
    (await fetch(publicUrl, { headers: { 'accept-encoding': 'identity' } })).headers.get('etag') ?? '"none"';
  const mine: Variant[] = selected([
    { name: live, url: `${base}/health/live` },
    { name: publicHit, baseline: live, url: publicUrl },
    { name: publicHitLang, baseline: live, url: `${publicUrl}?lang=es` },
    { name: publicMiss, baseline: live, url: missUrl },
    { name: publicMissLang, baseline: live, url: `${missUrl}?lang=es` },
    ...(cold
      ? [
          {
            name: publicMissCold,
            baseline: live,
            url: `http://127.0.0.1:${cold.port}/api/public/portfolios/${cold.slug}`,
          },
          {
            name: publicMissColdLang,
            baseline: live,
            url: `http://127.0.0.1:${cold.port}/api/public/portfolios/${cold.slug}?lang=es`,
          },
        ]
      : []),
    { name: publicRead304, baseline: live, url: publicUrl, headers: {}, expectStatus: 304 },
    {
      name: authed,
      baseline: live,
      url: `${base}/api/portfolios/${server.portfolioId}`,
      headers: { authorization: `Bearer ${server.accessToken}` },
    },
    {
      name: authedList,
      baseline: live,
      url: `${base}/api/portfolios/${server.portfolioId}/projects`,
      headers: { authorization: `Bearer ${server.accessToken}` },
    },
    { name: childWrite, baseline: live, url: '', ...patch(server) },
    ...(rendering ? [{ name: childWriteRendering, baseline: live, url: '', ...patch(rendering) }] : []),
  ]);
  // The same owner reads on a server whose every query is parsed and planned per call.
  const unprepared =
    process.env['BENCH_COMPARE_UNPREPARED'] === '1' && mine.some((v) => v.name === authed || v.name === authedList)
      ? await startBenchServer({ ...target.env, BENCH_UNPREPARED: '1' })
      : null;
  if (unprepared) {
    const auth = { authorization: `Bearer ${unprepared.accessToken}` };
    const at = `http://127.0.0.1:${unprepared.port}/api/portfolios/${unprepared.portfolioId}`;
    // Each right after its prepared counterpart, so both see the same moment of a noisy machine.
    const after = (name: string, v: Variant) => {
      const i = mine.findIndex((x) => x.name === name);
      mine.splice(i < 0 ? mine.length : i + 1, 0, v);
    };
    after(authed, { name: authedUnprepared, baseline: live, url: at, headers: auth });
    after(authedList, { name: authedListUnprepared, baseline: live, url: `${at}/projects`, headers: auth });
  }
  try {
    for (const v of mine) {
      if (v.name === publicRead304) v.headers = { 'if-none-match': await currentEtag() };
      process.stderr.write(`measuring ${v.name} for ${durationS}s...\n`);
      results.push(await measure(v, { durationS, connections }));
    }
  } finally {
    await server.stop();
    await uncached.stop();
    await cold?.stop();
    await rendering?.stop();
    await unprepared?.stop();
  }
  variants.push(...mine);
  const rated = withRatios(results, variants);
  const ratio = (name: string) => rated.find((r) => r.name === name)?.ratio ?? null;
  const ratioGoal = (goal: string, name: string, min: number) => {
    if (mine.some((v) => v.name === name)) addRatioGoal(goal, ratio(name), min);
  };
  ratioGoal(`public read, cache hit (${target.label})`, publicHit, 0.6);
  ratioGoal(`public read ?lang=es, cache hit (${target.label})`, publicHitLang, 0.6);
  ratioGoal(`public read, cache miss (${target.label})`, publicMiss, 0.25);
  ratioGoal(`public read ?lang=es, cache miss (${target.label})`, publicMissLang, 0.25);
  ratioGoal(`public read, cache miss-cold: no stored answer (${target.label})`, publicMissCold, 0.25);
  ratioGoal(`public read ?lang=es, cache miss-cold: no stored answer (${target.label})`, publicMissColdLang, 0.25);
  ratioGoal(`public read, If-None-Match 304 (${target.label})`, publicRead304, 0.7);
  ratioGoal(`authenticated GET /api/portfolios/:id (${target.label})`, authed, 0.5);
}

if (only !== 'process') {
  process.stdout.write(
    `\nHTTP benchmark: ${connections} connections, ${durationS}s per variant, node ${process.version}\n\n`,
  );
  process.stdout.write(`${formatTable(withRatios(results, variants), variants)}\n`);
}

// ---- process level: idle RSS, start-up, CLI ------------------------------------------------------

/**
 * The server's command line as users run it: the node options `npm start` puts before
 * `dist/server.js` (package.json; the Dockerfile sets the same in NODE_OPTIONS, checked by
 * test/supply-chain/config-files.test.ts). Every server row below starts exactly that.
 */
const START_NODE_ARGS = (() => {
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  // The `node [options] dist/server.js` step of the start script (`a && b && node ...`).
  const words = (pkg.scripts['start'] ?? '')
    .split('&&')
    .map((step) => step.trim().split(/\s+/))
    .find((w) => w[0] === 'node' && w[w.length - 1] === 'dist/server.js');
  if (!words) throw new Error('package.json: the start script does not run `node ... dist/server.js`');
  return words.slice(1, -1);
})();
const START_COMMAND = ['node', ...START_NODE_ARGS, 'dist/server.js'].join(' ');
/**
 * Without them, V8 sizes its young generation from this machine's memory (Node passes it the
 * total or cgroup limit): 16 MB semi-spaces on a large benchmark machine, 1 MB on a 512 MB-1 GB
 * VPS. One reference row shows what the flag saves here.
 */
const V8_DEFAULT_ARGS: string[] = [];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

/**
 * Starts the server (START_COMMAND) on a fresh DATA_DIR; returns ready time and whole-process RSS
 * after idling. `nodeArgs` go before the script (V8 options).
 */
async function serverProcess(
  extraEnv: Record<string, string>,
  nodeArgs: string[] = START_NODE_ARGS,
): Promise<{ readyMs: number; rss: number }> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'pf-bench-proc-'));
  const port = await freePort();
  // Only what this measurement sets: no DATABASE_URL / REDIS_URL inherited from the shell.
  const { DATABASE_URL: _db, REDIS_URL: _redis, ...inherited } = process.env;
  try {
    const proc = await startUntilReady(process.execPath, [...nodeArgs, 'dist/server.js'], {
      cwd: root,
      env: { ...inherited, DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn', ...extraEnv },
      readyUrl: `http://127.0.0.1:${port}/health/ready`,
    });
    try {
      // Idle: whatever start-up left to settle (timers, lazy first GC) gets a moment.
      await new Promise((r) => setTimeout(r, 2_000));
      return { readyMs: proc.readyAfterMs, rss: await rssMb(proc.pid) };
    } finally {
      await proc.stop();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

const processRows: string[][] = [];
if (only === 'http') {
  // BENCH_ONLY=http: the HTTP variants alone.
} else if (!existsSync(path.join(root, 'dist/server.js'))) {
  process.stderr.write('dist/server.js is missing: run `npm run build` for the process-level rows\n');
} else {
  const embedded: { readyMs: number; rss: number }[] = [];
  const postgres: { readyMs: number; rss: number }[] = [];
  const postgresV8Default: { readyMs: number; rss: number }[] = [];
  const cli: number[] = [];
  for (let i = 0; i < startupRuns; i++) {
    process.stderr.write(`process run ${i + 1}/${startupRuns}...\n`);
    embedded.push(await serverProcess({}));
    if (pgUrl) {
      const env = { DATABASE_URL: pgUrl, JWT_SECRET: BENCH_JWT_SECRET };
      postgres.push(await serverProcess(env));
      postgresV8Default.push(await serverProcess(env, V8_DEFAULT_ARGS));
    }
    cli.push(
      await timeToExit(process.execPath, ['dist/cli/main.js', '--help'], { cwd: root, env: { ...process.env } }),
    );
  }
  const embeddedRss = median(embedded.map((r) => r.rss));
  const readyMs = median(embedded.map((r) => r.readyMs));
  processRows.push([`idle RSS after start, embedded (PGlite), \`${START_COMMAND}\``, `${embeddedRss.toFixed(0)} MB`]);
  goals.push({
    name: 'idle RSS after start, embedded',
    value: `${embeddedRss.toFixed(0)} MB`,
    goal: '<= 200 MB',
    met: embeddedRss <= 200,
  });
  if (pgUrl) {
    const pgRss = median(postgres.map((r) => r.rss));
    processRows.push([`idle RSS after start, PostgreSQL, \`${START_COMMAND}\``, `${pgRss.toFixed(0)} MB`]);
    processRows.push([
      "idle RSS after start, PostgreSQL, `node dist/server.js` (V8's young generation for this machine's memory)",
      `${median(postgresV8Default.map((r) => r.rss)).toFixed(0)} MB`,
    ]);
    processRows.push([
      `${START_COMMAND} -> /health/ready, PostgreSQL`,
      `${(median(postgres.map((r) => r.readyMs)) / 1000).toFixed(2)} s`,
    ]);
    goals.push({
      name: 'idle RSS after start, PostgreSQL',
      value: `${pgRss.toFixed(0)} MB`,
      goal: '<= 110 MB',
      met: pgRss <= 110,
    });
  }
  processRows.push([
    `${START_COMMAND} -> /health/ready, fresh DATA_DIR (embedded)`,
    `${(readyMs / 1000).toFixed(2)} s`,
  ]);
  processRows.push(['node dist/cli/main.js --help -> exit', `${(median(cli) / 1000).toFixed(2)} s`]);
  goals.push({
    name: 'node dist/server.js -> /health/ready (fresh DATA_DIR)',
    value: `${(readyMs / 1000).toFixed(2)} s`,
    goal: 'report',
    met: null,
  });
  goals.push({
    name: 'portfolio-admin --help -> exit',
    value: `${(median(cli) / 1000).toFixed(2)} s`,
    goal: 'report',
    met: null,
  });
  process.stdout.write(`\nProcess level (whole process, median of ${startupRuns} runs, RSS after 2 s idle)\n\n`);
  process.stdout.write(`${markdownTable(['measure', 'value'], processRows)}\n`);
}

process.stdout.write('\nGoals (issue 16)\n\n');
process.stdout.write(
  `${markdownTable(
    ['measure', 'value', 'goal', 'met'],
    goals.map((g) => [g.name, g.value, g.goal, g.met === null ? '-' : g.met ? 'met' : 'not met']),
  )}\n`,
);

const bad = results.filter((r) => r.non2xx > 0 || r.errors > 0);
if (bad.length > 0) {
  process.stderr.write(`Some variants had failed requests: ${bad.map((b) => b.name).join(', ')}\n`);
  process.exitCode = 1;
}
