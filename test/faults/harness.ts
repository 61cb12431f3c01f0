/**
 * The fault-injection harness: real services as separate processes a test can restart, kill -9
 * and start again, and server processes of this project against them. Only loopback, only
 * bounded load. `npm run test:faults` runs the scenarios (vitest.faults.config.ts); CI runs it
 * after the PostgreSQL + Redis pass.
 *
 * PostgreSQL: a private cluster (initdb into a temporary folder, its own port and socket
 * folder), so stopping it never touches the suite's shared server. initdb and postgres refuse to
 * run as root: as root (CI) they run as the Debian `postgres` user.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { chmod, chown, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort, startTs, waitFor } from '../helpers/spawn.js';

const run = promisify(execFile);

function pgBin(name: string): string {
  return path.join(process.env['PG_BIN'] ?? '/usr/lib/postgresql/15/bin', name);
}

/** Runs a PostgreSQL binary as a user it accepts: `postgres` when we are root, else ourselves. */
async function asPostgresUser(file: string, args: string[]): Promise<string> {
  const asRoot = process.getuid?.() === 0;
  const { stdout } = asRoot
    ? await run('runuser', ['-u', 'postgres', '--', file, ...args], { timeout: 120_000 })
    : await run(file, args, { timeout: 120_000 });
  return stdout;
}

export class PrivatePostgres {
  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  get url(): string {
    return `postgres://app@127.0.0.1:${this.port}/app`;
  }

  static async start(): Promise<PrivatePostgres> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'pf-faults-pg-'));
    if (process.getuid?.() === 0) {
      const { stdout } = await run('id', ['-u', 'postgres']);
      const { stdout: gid } = await run('id', ['-g', 'postgres']);
      await chown(dir, Number(stdout.trim()), Number(gid.trim()));
    }
    await chmod(dir, 0o700);
    const pg = new PrivatePostgres(dir, await freePort());
    await asPostgresUser(pgBin('initdb'), ['-D', path.join(dir, 'data'), '-U', 'app', '-A', 'trust', '--no-sync']);
    await pg.startServer();
    await asPostgresUser(pgBin('createdb'), ['-h', '127.0.0.1', '-p', String(pg.port), '-U', 'app', 'app']);
    return pg;
  }

  private async startServer(): Promise<void> {
    await asPostgresUser(pgBin('pg_ctl'), [
      '-D',
      path.join(this.dir, 'data'),
      '-l',
      path.join(this.dir, 'log'),
      '-w',
      '-t',
      '60',
      '-o',
      `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60`,
      'start',
    ]);
  }

  /** `pg_ctl restart -m fast`: every backend gets FATAL 57P01, the server is back when it returns. */
  async restartFast(): Promise<void> {
    await asPostgresUser(pgBin('pg_ctl'), ['-D', path.join(this.dir, 'data'), '-m', 'fast', '-w', '-t', '60', 'stop']);
    await this.startServer();
  }

  /** kill -9 of the postmaster: the backends die with it; crash recovery on the next start. */
  async kill9(): Promise<void> {
    const pidFile = await readFile(path.join(this.dir, 'data', 'postmaster.pid'), 'utf8');
    const pid = Number(pidFile.split('\n')[0]);
    process.kill(pid, 'SIGKILL');
    await waitFor(async () => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    }, 20_000);
    // Orphaned backends notice the postmaster is gone and exit; wait for the port to close.
    await new Promise((r) => setTimeout(r, 500));
  }

  async start(): Promise<void> {
    await this.startServer();
  }

  async stop(): Promise<void> {
    await asPostgresUser(pgBin('pg_ctl'), ['-D', path.join(this.dir, 'data'), '-m', 'immediate', '-w', 'stop']).catch(
      () => undefined,
    );
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** A private redis-server in the foreground on its own port, so the test can kill -9 it. */
export class PrivateRedis {
  private child: ChildProcess | undefined;
  private constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort());
    await redis.start();
    return redis;
  }

  async start(): Promise<void> {
    this.child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    await waitFor(() => portOpen(this.port), 10_000);
  }

  async kill9(): Promise<void> {
    const child = this.child;
    if (!child || exited(child)) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await gone;
  }
}

/** Gone, by an exit or a signal (a process killed by a signal keeps `exitCode` null). */
function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.end();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export interface ServerNode {
  name: string;
  child: ChildProcess;
  base: string;
  dataDir: string;
  log: string[];
}

/**
 * What every node of one deployment shares: the secrets (each node would otherwise make its own),
 * and the settings of the harness.
 */
export function clusterSecrets(): Record<string, string> {
  return {
    JWT_SECRET: 'f'.repeat(48),
    AUDIT_SIGNING_KEY: 'A'.repeat(43),
    MFA_ENCRYPTION_KEY: 'M'.repeat(43),
    AUDIT_PII_KEY: 'P'.repeat(43),
    // Load shedding answers 503 when the event loop lags, which a shared test machine's load can
    // cause on its own; the scenarios look at the faults they inject (shedding has its own tests).
    LOAD_SHED_MAX_EVENT_LOOP_DELAY: '0',
    // A writer refused with 429 a few times would be blocked (403) for the rest of the run; the
    // automatic block has its own tests (src/security/shield/).
    AUTO_BLOCK_ENABLED: 'false',
    // The writers write faster than one person (60 a minute per user by default): the scenarios
    // count what was acknowledged, and every write should reach the database.
    RATE_LIMIT_PORTFOLIOS_PER_MINUTE: '100000',
    RATE_LIMIT_PORTFOLIOS_PER_HOUR: '1000000',
  };
}

/** Starts one server process (`src/server.ts` under tsx's loader) and waits for /health/ready. */
export async function startNode(
  name: string,
  env: Record<string, string>,
  /** A restart: the same DATA_DIR and port as the process it replaces. */
  reuse?: { dataDir: string; base: string },
): Promise<ServerNode> {
  const port = reuse ? Number(new URL(reuse.base).port) : await freePort();
  const dataDir = reuse?.dataDir ?? (await mkdtemp(path.join(os.tmpdir(), `pf-faults-${name}-`)));
  const child = startTs('src/server.ts', { DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'warn', ...env });
  const log: string[] = [];
  const keep = (d: Buffer) => {
    for (const line of d.toString().split('\n')) if (line.trim()) log.push(line);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const node = { name, child, base: `http://127.0.0.1:${port}`, dataDir, log };
  // A process that exits (a configuration error) fails at once, not after the whole wait.
  await waitFor(async () => exited(child) || (await fetch(`${node.base}/health/ready`)).status === 200, 120_000)
    .then(() => {
      if (exited(child)) throw new Error('exited');
    })
    .catch((err: unknown) => {
      throw new Error(`${name} did not become ready: ${log.slice(-20).join('\n')}`, { cause: err });
    });
  return node;
}

/** kill -9 of a server process: no drain, no onClose hook, whatever it was doing is cut. */
export async function kill9Node(node: ServerNode): Promise<void> {
  if (exited(node.child)) return;
  const gone = new Promise((resolve) => node.child.once('exit', resolve));
  node.child.kill('SIGKILL');
  await gone;
}

export async function stopNode(node: ServerNode): Promise<number | null> {
  if (exited(node.child)) return node.child.exitCode;
  const exit = new Promise<number | null>((resolve) => node.child.once('exit', (code) => resolve(code)));
  node.child.kill('SIGTERM');
  const started = Date.now();
  const code = await Promise.race([exit, new Promise<null>((r) => setTimeout(() => r(null), 20_000))]);
  process.stderr.write(`[${node.name}] SIGTERM → exit ${code} after ${Date.now() - started} ms\n`);
  if (!exited(node.child)) node.child.kill('SIGKILL');
  await rm(node.dataDir, { recursive: true, force: true });
  return code;
}

export interface Outcome {
  at: number;
  node: string;
  what: string;
  status: number;
  retryAfter: string | null;
  body: string;
  ms: number;
  /** The answer's ETag header, if any. */
  etag: string | null;
}

/**
 * One request on a connection of its own, with a client-side deadline; a hang past it is status
 * 0, a refused connection -1. Not fetch: its pool keeps idle connections, and a test client whose
 * own event loop lags under a burst reads an answer late and reuses the socket just as the
 * server's keep-alive timer (5 s) closes it ("other side closed") — a race of the test's client,
 * not of the server, which hid what the scenarios look for.
 */
export function timed(
  node: ServerNode,
  what: string,
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string | Buffer },
  deadlineMs: number,
): Promise<Outcome> {
  const started = Date.now();
  const done = (status: number, retryAfter: string | null, body: string, etag: string | null = null): Outcome => ({
    at: started,
    node: node.name,
    what,
    status,
    retryAfter,
    body,
    ms: Date.now() - started,
    etag,
  });
  return new Promise((resolve) => {
    const req = http.request(
      `${node.base}${url}`,
      {
        method: init.method ?? 'GET',
        headers: { ...init.headers, connection: 'close' },
        agent: false,
        timeout: deadlineMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const retryAfter = res.headers['retry-after'];
          const etag = res.headers.etag;
          resolve(
            done(
              res.statusCode ?? 0,
              typeof retryAfter === 'string' ? retryAfter : null,
              Buffer.concat(chunks).toString(),
              typeof etag === 'string' ? etag : null,
            ),
          );
        });
        res.on('error', (err) => resolve(done(0, null, `answer cut: ${String(err)}`)));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${deadlineMs} ms`)));
    req.on('error', (err: Error & { code?: string }) =>
      resolve(done(err.code === 'ECONNREFUSED' ? -1 : 0, null, `${String(err)} (${err.code ?? ''})`)),
    );
    req.end(init.body);
  });
}

/** A login with a wrong password from `client` (the harness trusts 127.0.0.1 as the proxy). */
export function failedLogin(node: ServerNode, client: string, email: string, deadlineMs = 60_000): Promise<Outcome> {
  return timed(
    node,
    'login',
    '/api/auth/login',
    {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': client },
      body: JSON.stringify({ email, password: 'not-the-password-1' }),
    },
    deadlineMs,
  );
}

/** Polls a node's readiness every 200 ms until stopped, and keeps what it saw. */
export function watchReadiness(node: ServerNode): { stop: () => Promise<number[]> } {
  const seen: number[] = [];
  let running = true;
  const loop = (async () => {
    // A probe like a load balancer's, from addresses of its own (the harness trusts 127.0.0.1 as
    // the proxy): the API's rate limits are not what this watches.
    for (let i = 0; running; i++) {
      const probe = `198.18.${(i >> 8) & 255}.${i & 255}`;
      const o = await timed(node, 'ready', '/health/ready', { headers: { 'x-forwarded-for': probe } }, 5_000);
      if (seen.at(-1) !== o.status) seen.push(o.status);
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return seen;
    },
  };
}

/**
 * Setup for a scenario, before any fault: registers and signs in an account from `client` (its
 * X-Forwarded-For), and creates a portfolio. Fails loudly on any answer that is not a success.
 * Returns the headers that authenticate as that account and the portfolio's id.
 */
export async function ownerWithPortfolio(
  node: ServerNode,
  owner: { email: string; password: string; client: string; slug: string },
): Promise<{ auth: Record<string, string>; portfolioId: string }> {
  const json = async (url: string, headers: Record<string, string>, body: unknown) => {
    const o = await timed(node, 'setup', url, { method: 'POST', headers, body: JSON.stringify(body) }, 30_000);
    if (o.status >= 300) throw new Error(`${url}: ${o.status} ${o.body}`);
    return JSON.parse(o.body) as Record<string, unknown>;
  };
  const headers = { 'content-type': 'application/json', 'x-forwarded-for': owner.client };
  const { email, password, slug } = owner;
  await json('/api/auth/register', headers, { email, password, name: slug });
  const login = await json('/api/auth/login', headers, { email, password });
  const auth = { ...headers, authorization: `Bearer ${String(login['accessToken'])}` };
  const portfolio = await json('/api/portfolios', auth, { title: slug, slug });
  return { auth, portfolioId: String(portfolio['id']) };
}
