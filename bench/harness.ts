import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';

/**
 * A tiny benchmark harness: named variants run one after another in the same run, and the
 * table shows each one's ratio to a baseline. Absolute numbers on a shared machine mean little;
 * ratios measured side by side are what we compare.
 */
export interface Variant {
  name: string;
  /** Variant whose req/s is the denominator of this variant's ratio. */
  baseline?: string;
  url: string;
  headers?: Record<string, string>;
  method?: 'GET' | 'POST' | 'PATCH';
  body?: string;
  /** The status every answer should have (e.g. 304 for a conditional read); any 2xx by default. */
  expectStatus?: number;
}

export interface Result {
  name: string;
  reqPerSec: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  ratio: number | null;
}

export async function measure(
  v: Variant,
  options: { durationS: number; connections: number },
): Promise<Omit<Result, 'ratio'>> {
  const r = await autocannon({
    url: v.url,
    method: v.method ?? 'GET',
    headers: v.headers ?? {},
    ...(v.body === undefined ? {} : { body: v.body }),
    duration: options.durationS,
    connections: options.connections,
    pipelining: 1,
  });
  // A 304 variant counts every answer that is not a 3xx as failed (autocannon counts 304 as non-2xx).
  const unexpected =
    v.expectStatus !== undefined && v.expectStatus >= 300 && v.expectStatus < 400
      ? r['1xx'] + r['2xx'] + r['4xx'] + r['5xx']
      : r.non2xx;
  return {
    name: v.name,
    reqPerSec: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.timeouts,
    non2xx: unexpected,
  };
}

export function withRatios(results: Omit<Result, 'ratio'>[], variants: Variant[]): Result[] {
  return results.map((r) => {
    const v = variants.find((x) => x.name === r.name);
    const base = v?.baseline ? results.find((x) => x.name === v.baseline) : undefined;
    return { ...r, ratio: base && base.reqPerSec > 0 ? r.reqPerSec / base.reqPerSec : null };
  });
}

export function formatTable(results: Result[], variants: Variant[]): string {
  const header = ['variant', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx', 'errors', 'ratio'];
  const rows = results.map((r) => {
    const base = variants.find((v) => v.name === r.name)?.baseline;
    return [
      r.name,
      r.reqPerSec.toFixed(0),
      r.p50.toFixed(1),
      r.p99.toFixed(1),
      String(r.non2xx),
      String(r.errors),
      r.ratio === null ? 'baseline' : `${r.ratio.toFixed(2)}x of ${base ?? '?'}`,
    ];
  });
  return markdownTable(header, rows);
}

/** A result row of the benchmarks that print value/unit/ratio/goal tables (shield, tokens). */
export interface BenchRow {
  name: string;
  value: number;
  unit: string;
  baseline?: string;
  goal?: string;
}

/** A Markdown table with padded columns, as every benchmark prints its results. */
export function markdownTable(header: string[], body: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]?.length ?? 0)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

export interface BenchServer {
  port: number;
  slug: string;
  portfolioId: string;
  /** The first project of the benchmark portfolio (the write-throughput rows PATCH it). */
  projectId: string;
  accessToken: string;
  email: string;
  password: string;
  database: string;
  stop(): Promise<void>;
}

/** Spawns bench/server.ts with the given environment and waits for its ready line. */
export async function startBenchServer(env: Record<string, string>): Promise<BenchServer> {
  const tsx = path.resolve(import.meta.dirname, '../node_modules/.bin/tsx');
  const child: ChildProcess = spawn(tsx, [path.resolve(import.meta.dirname, 'server.ts')], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const rl = createInterface({ input: child.stdout! });
  const first = await new Promise<string>((resolve, reject) => {
    rl.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
  });
  const info = JSON.parse(first) as Omit<BenchServer, 'stop'>;
  return {
    ...info,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * A private redis-server on a free loopback port when `redis-server` is on the PATH (so its
 * INFO stats count only this benchmark), else BENCH_REDIS_URL / TEST_REDIS_URL, else null.
 */
export async function privateRedis(): Promise<{ url: string; own: boolean; stop: () => Promise<void> } | null> {
  if (spawnSync('redis-server', ['--version']).status === 0) {
    const port = await freePort();
    const child: ChildProcess = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    const url = `redis://127.0.0.1:${port}`;
    const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => 50, maxRetriesPerRequest: 0 });
    probe.on('error', () => undefined);
    for (let i = 0; i < 100; i++) {
      try {
        await probe.connect();
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    probe.disconnect();
    return {
      url,
      own: true,
      stop: () =>
        new Promise((resolve) => {
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        }),
    };
  }
  const url = process.env['BENCH_REDIS_URL'] ?? process.env['TEST_REDIS_URL'];
  return url ? { url, own: false, stop: async () => undefined } : null;
}

/** A whole process started for a process-level measurement (start-up time, idle RSS). */
export interface StartedProcess {
  pid: number;
  /** ms from spawn to the first 200 from `readyUrl`. */
  readyAfterMs: number;
  stop(): Promise<void>;
}

/**
 * Spawns `command args` in its own process group and polls `readyUrl` until it answers 200
 * (at most 120 s). The caller stops it; a process that exits early is an error.
 */
export async function startUntilReady(
  command: string,
  args: string[],
  options: { cwd: string; env: Record<string, string | undefined>; readyUrl: string },
): Promise<StartedProcess> {
  const started = performance.now();
  const child: ChildProcess = spawn(command, args, {
    cwd: options.cwd,
    detached: true,
    stdio: 'ignore',
    env: options.env,
  });
  let exited = false;
  const gone = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const stop = async () => {
    if (child.pid && !exited) {
      process.kill(-child.pid, 'SIGTERM');
      await gone;
    }
  };
  try {
    for (;;) {
      if (exited) throw new Error(`${command} ${args.join(' ')} exited before it was ready`);
      if (performance.now() - started > 120_000) throw new Error('not ready within 120 s');
      const ok = await fetch(options.readyUrl).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) return { pid: child.pid ?? 0, readyAfterMs: performance.now() - started, stop };
      await new Promise((r) => setTimeout(r, 25));
    }
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Resident set size of a whole process in MB (Linux /proc), or NaN where unavailable. */
export async function rssMb(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
  return kb ? Number(kb) / 1024 : NaN;
}

/** ms from spawn to exit of a short command (e.g. `--help`); throws on a non-zero exit. */
export async function timeToExit(
  command: string,
  args: string[],
  options: { cwd: string; env: Record<string, string | undefined> },
): Promise<number> {
  const started = performance.now();
  const child = spawn(command, args, { cwd: options.cwd, stdio: 'ignore', env: options.env });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${code}`);
  return performance.now() - started;
}
