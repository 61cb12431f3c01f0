/**
 * `npm run soak`: SOAK_MINUTES (default 10) of steady mixed traffic against a real server process,
 * first on the embedded defaults (PGlite, in-memory KV, a temporary DATA_DIR), then on PostgreSQL +
 * Redis (SOAK_DATABASE_URL / SOAK_REDIS_URL, else TEST_DATABASE_URL / TEST_REDIS_URL: a fresh
 * database created for the run and dropped after it, a KV prefix of its own). Not in CI.
 *
 * Every SOAK_SAMPLE_SECONDS (10) it reads the server's own /metrics (prom-client's process and
 * runtime metrics, served to METRICS_ALLOW_LIST, which is loopback by default; no debug endpoint):
 * RSS, heap used, event-loop delay p50/p99 (prom-client resets its histogram at every scrape, so
 * each sample is the delay since the previous one), active handles, and the database connections
 * (PostgreSQL: pg_stat_activity of the run's database, asked by this process; PGlite: n/a).
 *
 * It prints the samples and, per series, the least-squares slope per minute over the second half
 * of the run (the first half is warm-up: JIT, caches filling, pools opening), with a verdict
 * against a stated tolerance (TOLERANCES below). A JSON report is written (path printed). Any
 * answer that is not the expected one is counted and printed, and the run exits 1 on any such
 * answer or any series that is not flat.
 *
 *   npm run soak                                     # 10 min embedded, then 10 min PostgreSQL + Redis
 *   SOAK_MINUTES=2 SOAK_TARGETS=embedded npm run soak
 *   SOAK_TARGETS=postgres SOAK_DATABASE_URL=postgres://... SOAK_REDIS_URL=redis://... npm run soak
 *
 * The traffic: SOAK_USERS (4) users, each a loop of one request at a time with a pause between
 * requests (SOAK_PAUSE_MS, 150 ms), about 20 requests a second in all: public reads with and
 * without If-None-Match (the most common), authenticated reads, portfolio and child writes (a
 * child is created, edited and deleted again, so the portfolio keeps its size and the public read
 * its cost), refreshes, logins (argon2) and, now and then, a small PNG upload that is deleted
 * again. Bounded: the users x one request in flight, for SOAK_MINUTES.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import sharp from 'sharp';
import { clusterSecrets, stopNode, timed, type Outcome, type ServerNode } from '../test/faults/harness.js';
import { freePort, startTs, waitFor } from '../test/helpers/spawn.js';
import { markdownTable } from './harness.js';

const MINUTES = Number(process.env['SOAK_MINUTES'] ?? 10);
const SAMPLE_S = Number(process.env['SOAK_SAMPLE_SECONDS'] ?? 10);
const USERS = Number(process.env['SOAK_USERS'] ?? 4);
const PAUSE_MS = Number(process.env['SOAK_PAUSE_MS'] ?? 150);
const TARGETS = (process.env['SOAK_TARGETS'] ?? 'embedded,postgres').split(',').map((t) => t.trim());
const REPORT_DIR = process.env['SOAK_REPORT_DIR'] ?? os.tmpdir();
const DEADLINE_MS = 30_000;
/** A fresh DATA_DIR migrates PGlite first: minutes on a loaded 2-core machine (startNode waits 120 s). */
const START_TIMEOUT_MS = Number(process.env['SOAK_START_TIMEOUT_S'] ?? 600) * 1000;
/** SOAK_UPLOADS=0 leaves the uploads out (to tell native memory of image processing from the rest). */
const UPLOADS = process.env['SOAK_UPLOADS'] !== '0';

/**
 * Flat = |slope| per minute over the second half below these. Why these numbers:
 * - RSS 1 MB/min: at ~1,200 requests a minute that is ~850 bytes kept per request, the size of
 *   the smallest object graph a request leaves behind when something holds it (a closure with
 *   its request, a map entry with a key and a timer); a real per-request leak is above it, while
 *   the allocator's and V8's own settling (old space growing in steps, arenas) stays below it
 *   over five minutes of samples. 1 MB/min is also 1.4 GB a day: what would take a node down.
 * - Heap used 1 MB/min: the same per-request argument. Heap used is a sawtooth (samples land
 *   anywhere between two collections, and a major collection comes every minute or two), so its
 *   raw slope is often 'noisy'; heapFloorMB, the lowest heap used of the last two minutes, is
 *   what survives collections, and the verdict that matters for the JS heap. externalMB (Buffers,
 *   ArrayBuffers: bodies, uploads, PGlite's WASM memory) has the same tolerance.
 * - Event-loop delay p50/p99 5% of its median per minute (25% over the five minutes of the second
 *   half): a loop that gets slower as the process ages (a growing list walked on every request, a
 *   timer wheel filling) shows as a steady rise. Relative, because its level depends on the
 *   machine (PGlite runs in the server's own thread, so its queries are event-loop delay).
 * - Active handles 0.5/min and database connections 0.5/min: both are counts that must not grow
 *   at all at a steady load (sockets are closed after each request, the pool is bounded); one
 *   leaked handle every two minutes is already a leak.
 */
const TOLERANCES: Record<SeriesName, { perMin: number; unit: string; relative?: true }> = {
  rssMB: { perMin: 1, unit: 'MB' },
  heapUsedMB: { perMin: 1, unit: 'MB' },
  heapFloorMB: { perMin: 1, unit: 'MB' },
  externalMB: { perMin: 1, unit: 'MB' },
  loopP50ms: { perMin: 0.05, unit: 'of median', relative: true },
  loopP99ms: { perMin: 0.05, unit: 'of median', relative: true },
  handles: { perMin: 0.5, unit: '' },
  dbConnections: { perMin: 0.5, unit: '' },
};

type SeriesName =
  'rssMB' | 'heapUsedMB' | 'heapFloorMB' | 'externalMB' | 'loopP50ms' | 'loopP99ms' | 'handles' | 'dbConnections';
const SERIES: SeriesName[] = [
  'rssMB',
  'heapUsedMB',
  'heapFloorMB',
  'externalMB',
  'loopP50ms',
  'loopP99ms',
  'handles',
  'dbConnections',
];
/** heapFloorMB: the lowest heap used of the last FLOOR_WINDOW_S seconds (what survives collections). */
const FLOOR_WINDOW_S = 120;

interface Sample {
  atS: number;
  requests: number;
  rssMB: number;
  heapUsedMB: number;
  heapFloorMB: number | null;
  heapTotalMB: number;
  externalMB: number;
  loopP50ms: number;
  loopP99ms: number;
  handles: number;
  dbConnections: number | null;
  poolTotal: number | null;
}

interface SeriesVerdict {
  series: SeriesName;
  first: number | null;
  last: number | null;
  median: number | null;
  slopePerMin: number | null;
  stdError: number | null;
  tolerance: number;
  verdict: 'flat' | 'noisy' | 'GROWS' | 'n/a';
}

/**
 * Least-squares slope of y over x (x in seconds), per minute, and its standard error (how much of
 * it the scatter of the samples could explain); null with fewer than 3 points.
 */
export function slopePerMinute(points: { x: number; y: number }[]): { slope: number; se: number } | null {
  if (points.length < 3) return null;
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const p of points) {
    sxy += (p.x - mx) * (p.y - my);
    sxx += (p.x - mx) ** 2;
  }
  if (sxx === 0) return { slope: 0, se: 0 };
  const b = sxy / sxx;
  const rss = points.reduce((s, p) => s + (p.y - (my + b * (p.x - mx))) ** 2, 0);
  const se = Math.sqrt(rss / (n - 2) / sxx);
  return { slope: b * 60, se: se * 60 };
}

/** One value of a Prometheus text exposition: `name{labels} value`, the first match. */
function metric(text: string, name: string, labels = ''): number | null {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (labels ? !rest.startsWith(`{${labels}}`) : !(rest.startsWith(' ') || rest.startsWith('{'))) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) return value;
  }
  return null;
}

interface Target {
  name: string;
  env: Record<string, string>;
  /** Connections to the run's database other than this process's own probe; null on PGlite. */
  dbConnections: () => Promise<number | null>;
  cleanup: () => Promise<void>;
}

async function embeddedTarget(): Promise<Target> {
  return { name: 'embedded', env: {}, dbConnections: async () => null, cleanup: async () => undefined };
}

async function postgresTarget(): Promise<Target | null> {
  const adminUrl = process.env['SOAK_DATABASE_URL'] ?? process.env['TEST_DATABASE_URL'];
  const redisUrl = process.env['SOAK_REDIS_URL'] ?? process.env['TEST_REDIS_URL'];
  if (!adminUrl || !redisUrl) {
    process.stderr.write('postgres: skipped (set SOAK_DATABASE_URL and SOAK_REDIS_URL, or TEST_*)\n');
    return null;
  }
  // A fresh database for the run: nothing of another run or test, and pg_stat_activity per database.
  const dbName = `soak_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${dbName}`);
  const url = new URL(adminUrl);
  url.pathname = `/${dbName}`;
  return {
    name: 'postgres+redis',
    env: { DATABASE_URL: url.toString(), REDIS_URL: redisUrl, KV_PREFIX: `${dbName}:` },
    dbConnections: async () => {
      const r = await admin.query<{ n: string }>(
        'select count(*) as n from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
        [dbName],
      );
      return Number(r.rows[0]?.n ?? 0);
    },
    cleanup: async () => {
      await admin.query(`drop database if exists ${dbName} with (force)`).catch((err: unknown) => {
        process.stderr.write(`could not drop ${dbName}: ${String(err)}\n`);
      });
      await admin.end();
    },
  };
}

/** Settings of the run: shedding and auto-block off (clusterSecrets), every limit far above the load. */
function soakEnv(): Record<string, string> {
  return {
    ...clusterSecrets(),
    TRUST_PROXY: '127.0.0.1',
    UPLOAD_SCAN: 'off',
    RATE_LIMIT_PER_MINUTE: '1000000',
    RATE_LIMIT_PER_HOUR: '10000000',
    RATE_LIMIT_LOGIN_PER_MINUTE: '100000',
    RATE_LIMIT_LOGIN_PER_HOUR: '1000000',
    RATE_LIMIT_LOGIN_ACCOUNT_PER_HOUR: '1000000',
    RATE_LIMIT_REGISTER_PER_MINUTE: '100000',
    RATE_LIMIT_REGISTER_PER_HOUR: '1000000',
    RATE_LIMIT_PORTFOLIOS_PER_MINUTE: '1000000',
    RATE_LIMIT_PORTFOLIOS_PER_HOUR: '10000000',
  };
}

interface User {
  i: number;
  email: string;
  password: string;
  client: string;
  token: string;
  refresh: string;
  portfolioId: string;
  slug: string;
  etag: string | null;
  etagEs: string | null;
  children: string[];
  media: string[];
}

type Op =
  | 'public'
  | 'public-304'
  | 'me'
  | 'owner-read'
  | 'list'
  | 'patch'
  | 'child-create'
  | 'child-patch'
  | 'child-delete'
  | 'refresh'
  | 'login'
  | 'upload'
  | 'media-delete';

/** The expected answers per operation; anything else is an error of the run. */
const EXPECTED: Record<Op, number[]> = {
  public: [200],
  'public-304': [304],
  me: [200],
  'owner-read': [200],
  list: [200],
  patch: [200],
  'child-create': [201],
  'child-patch': [200],
  'child-delete': [204],
  refresh: [200],
  login: [200],
  upload: [202],
  'media-delete': [204],
};

class Traffic {
  readonly counts = new Map<Op, number>();
  readonly errors: { op: Op; status: number; body: string }[] = [];
  requests = 0;
  private running = true;
  private png: Buffer | null = null;

  constructor(private readonly node: ServerNode) {}

  private async json(u: User | null, op: Op, url: string, method = 'GET', body?: unknown, extra = {}) {
    const headers: Record<string, string> = {
      'x-forwarded-for': u?.client ?? '198.51.100.250',
      ...(u ? { authorization: `Bearer ${u.token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...extra,
    };
    const o = await timed(
      this.node,
      op,
      url,
      { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) },
      DEADLINE_MS,
    );
    this.record(op, o);
    return o;
  }

  private record(op: Op, o: Outcome): void {
    this.requests++;
    this.counts.set(op, (this.counts.get(op) ?? 0) + 1);
    if (!EXPECTED[op].includes(o.status)) this.errors.push({ op, status: o.status, body: o.body.slice(0, 300) });
  }

  async setup(i: number): Promise<User> {
    const tag = randomBytes(3).toString('hex');
    const u: User = {
      i,
      email: `soak-${i}-${tag}@example.test`,
      password: `Violet-Harbor-Lantern-${tag}`,
      client: `198.51.100.${10 + i}`,
      token: '',
      refresh: '',
      portfolioId: '',
      slug: `soak-${i}-${tag}`,
      etag: null,
      etagEs: null,
      children: [],
      media: [],
    };
    const reg = await timed(
      this.node,
      'register',
      '/api/auth/register',
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': u.client },
        body: JSON.stringify({ email: u.email, password: u.password, name: `Soak ${i}` }),
      },
      DEADLINE_MS,
    );
    if (reg.status >= 300) throw new Error(`register: ${reg.status} ${reg.body}`);
    await this.login(u);
    if (!u.token) throw new Error('login failed at setup');
    const p = await this.json(u, 'child-create', '/api/portfolios', 'POST', {
      title: `Soak ${i}`,
      slug: u.slug,
      summary: 'A portfolio under a soak test. '.repeat(4),
      visibility: 'public',
      published: true,
    });
    if (p.status !== 201) throw new Error(`portfolio: ${p.status} ${p.body}`);
    u.portfolioId = (JSON.parse(p.body) as { id: string }).id;
    // A few children that stay, so the public read renders something of a realistic shape.
    for (let k = 0; k < 3; k++) {
      await this.json(u, 'child-create', `/api/portfolios/${u.portfolioId}/projects`, 'POST', {
        title: `Project ${k}`,
        description: 'Something built with care. '.repeat(6),
      });
      await this.json(u, 'child-create', `/api/portfolios/${u.portfolioId}/skills`, 'POST', { name: `Skill ${k}` });
    }
    return u;
  }

  private async login(u: User): Promise<void> {
    const o = await this.json(
      null,
      'login',
      '/api/auth/login',
      'POST',
      { email: u.email, password: u.password },
      {
        'x-forwarded-for': u.client,
      },
    );
    if (o.status === 200) {
      const b = JSON.parse(o.body) as { accessToken: string; refreshToken: string };
      u.token = b.accessToken;
      u.refresh = b.refreshToken;
    }
  }

  private async step(u: User, n: number): Promise<void> {
    // A deterministic mix per user (n counts the user's steps) of 40 steps: a login, a refresh,
    // an upload every third round (its media deleted in a later round), four writes, ten
    // authenticated reads and the rest (~22) public reads, as a visitor would.
    const r = n % 40;
    const pid = u.portfolioId;
    if (r === 0) return this.login(u);
    if (r === 20) return this.refresh(u);
    if (r === 30 && n % 120 === 30 && UPLOADS) return this.upload(u);
    if (r === 10 || r === 30) {
      const id = u.media.shift();
      if (id) await this.json(u, 'media-delete', `/api/media/${id}`, 'DELETE');
      return;
    }
    if (r === 5)
      return void (await this.json(u, 'patch', `/api/portfolios/${pid}`, 'PATCH', { summary: `Rewritten ${n}.` }));
    if (r === 15) {
      const o = await this.json(u, 'child-create', `/api/portfolios/${pid}/projects`, 'POST', { title: `Temp ${n}` });
      if (o.status === 201) u.children.push((JSON.parse(o.body) as { id: string }).id);
      return;
    }
    if (r === 25) {
      const id = u.children.at(-1);
      if (id) await this.json(u, 'child-patch', `/api/projects/${id}`, 'PATCH', { title: `Edited ${n}` });
      return;
    }
    if (r === 35) {
      // The portfolio keeps its size: the child made this round goes again.
      const id = u.children.shift();
      if (id) await this.json(u, 'child-delete', `/api/projects/${id}`, 'DELETE');
      return;
    }
    if (r % 4 === 2) {
      const k = (n >> 2) % 3;
      if (k === 0) return void (await this.json(u, 'me', '/api/auth/me'));
      if (k === 1) return void (await this.json(u, 'owner-read', `/api/portfolios/${pid}`));
      return void (await this.json(u, 'list', `/api/portfolios/${pid}/projects?limit=20`));
    }
    // The public read, as a visitor: every other one conditional on the ETag of the previous one
    // (304 unless a write changed the portfolio in between: then a 200 with the new ETag).
    const visitor = `203.0.113.${n % 200}`;
    const lang = (n >> 1) % 3 === 0 ? '?lang=es' : '';
    const url = `/api/public/portfolios/${u.slug}${lang}`;
    const etag = lang ? u.etagEs : u.etag;
    const o = await this.raw(url, {
      'x-forwarded-for': visitor,
      ...(etag && n % 2 === 0 ? { 'if-none-match': etag } : {}),
    });
    this.record(etag && n % 2 === 0 && o.status === 304 ? 'public-304' : 'public', o);
    if (o.status === 200) {
      if (lang) u.etagEs = o.etag;
      else u.etag = o.etag;
    }
  }

  private async refresh(u: User): Promise<void> {
    const o = await this.json(
      null,
      'refresh',
      '/api/auth/refresh',
      'POST',
      { refreshToken: u.refresh },
      {
        'x-forwarded-for': u.client,
      },
    );
    if (o.status === 200) {
      const b = JSON.parse(o.body) as { accessToken: string; refreshToken: string };
      u.token = b.accessToken;
      u.refresh = b.refreshToken;
    }
  }

  /** A request (GET unless `send`) on a connection of its own (the harness's timed()), with its ETag. */
  private raw(url: string, headers: Record<string, string>, send?: { method: string; body: Buffer }): Promise<Outcome> {
    return timed(this.node, 'public', url, send ? { headers, ...send } : { headers }, DEADLINE_MS);
  }

  private async upload(u: User): Promise<void> {
    this.png ??= await sharp({
      create: { width: 64, height: 48, channels: 3, background: { r: 40, g: 90, b: 160 } },
    })
      .png()
      .toBuffer();
    const boundary = `----soak${randomBytes(8).toString('hex')}`;
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="category"\r\n\r\ngallery\r\n`),
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="soak.png"\r\nContent-Type: image/png\r\n\r\n`,
      ),
      this.png,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const o = await this.raw(
      `/api/portfolios/${u.portfolioId}/media`,
      {
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'x-forwarded-for': u.client,
        authorization: `Bearer ${u.token}`,
      },
      { method: 'POST', body },
    );
    this.record('upload', o);
    if (o.status === 202) u.media.push((JSON.parse(o.body) as { id: string }).id);
  }

  run(users: User[]): Promise<void[]> {
    return Promise.all(
      users.map(async (u, k) => {
        // Staggered starts, so the users' logins and writes do not line up.
        await sleep(k * 37);
        for (let n = 1; this.running; n++) {
          await this.step(u, n + k * 7);
          await sleep(PAUSE_MS);
        }
      }),
    );
  }

  stop(): void {
    this.running = false;
  }
}

/**
 * The server as a real process (src/server.ts under tsx's loader, as the fault harness's
 * startNode), waiting up to START_TIMEOUT_MS for /health/ready and killing it when it is not.
 */
async function startServer(name: string, env: Record<string, string>): Promise<ServerNode> {
  const port = await freePort();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), `pf-soak-${name}-`));
  const child = startTs('src/server.ts', { DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'warn', ...env });
  const log: string[] = [];
  const keep = (d: Buffer) => {
    for (const line of d.toString().split('\n')) if (line.trim()) log.push(line);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const node: ServerNode = { name, child, base: `http://127.0.0.1:${port}`, dataDir, log };
  try {
    await waitFor(async () => (await fetch(`${node.base}/health/ready`)).status === 200, START_TIMEOUT_MS);
  } catch (err) {
    await stopNode(node);
    throw new Error(`${name} did not become ready: ${log.slice(-20).join('\n')}`, { cause: err });
  }
  return node;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function sample(
  node: ServerNode,
  target: Target,
  startedAt: number,
  traffic: Traffic,
  earlier: Sample[],
): Promise<Sample> {
  // From loopback without X-Forwarded-For: the METRICS_ALLOW_LIST default lets us read /metrics.
  const res = await fetch(`${node.base}/metrics`, { headers: { connection: 'close' } });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`/metrics: ${res.status}`);
  const need = (name: string, labels = '') => {
    const v = metric(text, name, labels);
    if (v === null) throw new Error(`/metrics has no ${name}`);
    return v;
  };
  const atS = Math.round((Date.now() - startedAt) / 1000);
  const heapUsedMB = need('nodejs_heap_size_used_bytes') / 2 ** 20;
  const window = earlier.filter((s) => s.atS > atS - FLOOR_WINDOW_S);
  return {
    atS,
    requests: traffic.requests,
    rssMB: need('process_resident_memory_bytes') / 2 ** 20,
    heapUsedMB,
    // Only once a whole window has been seen.
    heapFloorMB: atS >= FLOOR_WINDOW_S ? Math.min(heapUsedMB, ...window.map((s) => s.heapUsedMB)) : null,
    heapTotalMB: need('nodejs_heap_size_total_bytes') / 2 ** 20,
    externalMB: need('nodejs_external_memory_bytes') / 2 ** 20,
    loopP50ms: need('nodejs_eventloop_lag_p50_seconds') * 1000,
    loopP99ms: need('nodejs_eventloop_lag_p99_seconds') * 1000,
    handles: need('nodejs_active_handles_total'),
    dbConnections: await target.dbConnections(),
    poolTotal: metric(text, 'db_pool_connections', 'state="total"'),
  };
}

/**
 * flat: the slope is under the tolerance. GROWS: it is over the tolerance by more than two
 * standard errors (the growth is real, not the scatter of the samples). noisy: over the
 * tolerance but within two standard errors of it (a longer run or a quieter machine decides).
 */
function verdicts(samples: Sample[], durationS: number): SeriesVerdict[] {
  const half = samples.filter((s) => s.atS >= durationS / 2);
  return SERIES.map((series) => {
    const pts = half.flatMap((s) => {
      const y = s[series];
      return y === null ? [] : [{ x: s.atS, y }];
    });
    const fit = slopePerMinute(pts);
    const t = TOLERANCES[series];
    const ys = pts.map((p) => p.y).sort((a, b) => a - b);
    const median = ys[Math.floor(ys.length / 2)] ?? 0;
    // Relative tolerances (event-loop delay): a fraction of the series' median per minute.
    const tol = t.relative ? t.perMin * median : t.perMin;
    const verdict: SeriesVerdict['verdict'] =
      fit === null ? 'n/a' : fit.slope < tol ? 'flat' : fit.slope - 2 * fit.se >= tol ? 'GROWS' : 'noisy';
    return {
      series,
      first: pts[0]?.y ?? null,
      last: pts.at(-1)?.y ?? null,
      median: pts.length ? median : null,
      slopePerMin: fit?.slope ?? null,
      stdError: fit?.se ?? null,
      tolerance: tol,
      verdict,
    };
  });
}

const fmt = (v: number | null, d = 1) => (v === null ? 'n/a' : v.toFixed(d));

async function soak(target: Target): Promise<{ ok: boolean; report: unknown }> {
  const node = await startServer(target.name.replace(/\W/g, ''), { ...soakEnv(), ...target.env }).catch(
    async (err: unknown) => {
      await target.cleanup();
      throw err;
    },
  );
  const durationS = MINUTES * 60;
  const traffic = new Traffic(node);
  const samples: Sample[] = [];
  let exitCode: number | null = null;
  try {
    const users: User[] = [];
    for (let i = 0; i < USERS; i++) users.push(await traffic.setup(i));
    const load = traffic.run(users);
    process.stderr.write(`[${target.name}] ${USERS} users, ${MINUTES} min, a sample every ${SAMPLE_S} s\n`);
    const until = Date.now() + durationS * 1000;
    const t0 = Date.now();
    while (Date.now() < until) {
      const s = await sample(node, target, t0, traffic, samples);
      samples.push(s);
      process.stderr.write(
        `[${target.name}] t=${s.atS}s req=${s.requests} rss=${fmt(s.rssMB)}MB heap=${fmt(s.heapUsedMB)}MB floor=${fmt(s.heapFloorMB)}MB ext=${fmt(s.externalMB)}MB ` +
          `loop p99=${fmt(s.loopP99ms)}ms handles=${s.handles} db=${fmt(s.dbConnections, 0)} errors=${traffic.errors.length}\n`,
      );
      await sleep(Math.max(0, Math.min(SAMPLE_S * 1000 - ((Date.now() - t0) % (SAMPLE_S * 1000)), until - Date.now())));
    }
    samples.push(await sample(node, target, t0, traffic, samples));
    traffic.stop();
    await load;
  } finally {
    traffic.stop();
    exitCode = await stopNode(node);
    await target.cleanup();
  }
  const v = verdicts(samples, durationS);
  const byOp = [...traffic.counts.entries()].map(([op, n]) => `${op} ${n}`).join(', ');
  const errorsByKind = new Map<string, number>();
  for (const e of traffic.errors)
    errorsByKind.set(`${e.op} → ${e.status}`, (errorsByKind.get(`${e.op} → ${e.status}`) ?? 0) + 1);
  const table = markdownTable(
    [
      't (s)',
      'requests',
      'RSS MB',
      'heap used MB',
      'heap floor MB',
      'heap total MB',
      'external MB',
      'loop p50 ms',
      'loop p99 ms',
      'handles',
      'db conns',
      'pool',
    ],
    samples.map((s) => [
      String(s.atS),
      String(s.requests),
      fmt(s.rssMB),
      fmt(s.heapUsedMB),
      fmt(s.heapFloorMB),
      fmt(s.heapTotalMB),
      fmt(s.externalMB),
      fmt(s.loopP50ms, 2),
      fmt(s.loopP99ms, 2),
      String(s.handles),
      fmt(s.dbConnections, 0),
      fmt(s.poolTotal, 0),
    ]),
  );
  const slopes = markdownTable(
    ['series', 'first', 'last', 'median', 'slope / min', '± std error', 'tolerance / min', 'verdict'],
    v.map((x) => [
      x.series,
      fmt(x.first, 2),
      fmt(x.last, 2),
      fmt(x.median, 2),
      fmt(x.slopePerMin, 3),
      fmt(x.stdError, 3),
      `< ${x.tolerance.toFixed(2)}${TOLERANCES[x.series].relative ? ` (${TOLERANCES[x.series].perMin * 100}% of median)` : ''}`,
      x.verdict,
    ]),
  );
  process.stdout.write(
    `\n## Soak: ${target.name}, ${MINUTES} min, ${USERS} users, ${traffic.requests} requests ` +
      `(${(traffic.requests / durationS).toFixed(1)}/s)\n\n${table}\n\n` +
      `Slopes over the second half (t >= ${durationS / 2} s, after warm-up; least squares):\n\n${slopes}\n\n` +
      `Requests by operation: ${byOp}\n` +
      `Unexpected answers: ${traffic.errors.length}${[...errorsByKind].map(([k, n]) => `\n  ${k}: ${n}`).join('')}\n` +
      `${traffic.errors
        .slice(0, 5)
        .map((e) => `  e.g. ${e.op} ${e.status} ${e.body}`)
        .join('\n')}\n` +
      `Server exit code after SIGTERM: ${exitCode}\n`,
  );
  const ok = traffic.errors.length === 0 && v.every((x) => x.verdict !== 'GROWS') && exitCode === 0;
  return {
    ok,
    report: {
      target: target.name,
      minutes: MINUTES,
      users: USERS,
      requests: traffic.requests,
      requestsByOp: Object.fromEntries(traffic.counts),
      unexpected: traffic.errors.length,
      unexpectedByKind: Object.fromEntries(errorsByKind),
      unexpectedSamples: traffic.errors.slice(0, 20),
      exitCode,
      samples,
      slopes: v,
    },
  };
}

const reports: unknown[] = [];
let allOk = true;
for (const name of TARGETS) {
  const target = name === 'embedded' ? await embeddedTarget() : name === 'postgres' ? await postgresTarget() : null;
  if (!target) continue;
  const r = await soak(target);
  allOk &&= r.ok;
  reports.push(r.report);
}
await mkdir(REPORT_DIR, { recursive: true });
const file = path.join(REPORT_DIR, `soak-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
await writeFile(
  file,
  `${JSON.stringify({ at: new Date().toISOString(), tolerances: TOLERANCES, reports }, null, 2)}\n`,
);
process.stdout.write(
  `\nJSON report: ${file}\nVerdict: ${allOk ? 'flat, no unexpected answers' : 'NOT flat or unexpected answers'}\n`,
);
process.exit(allOk ? 0 : 1);
