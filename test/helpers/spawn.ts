import { spawn, type ChildProcess, type ChildProcessWithoutNullStreams } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '../..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a TypeScript entry point (CLI or server) with tsx and collects its output. */
export function runTs(
  entry: string,
  args: string[],
  options: { env?: Record<string, string>; input?: string; timeoutMs?: number } = {},
): Promise<Run> {
  const child = spawn(TSX, [path.join(ROOT, entry), ...args], {
    cwd: ROOT,
    env: { ...cleanEnv(), ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  return collect(child, options);
}

/** Feeds a child its input, gathers its output, and kills it after `timeoutMs` (default 60 s). */
export function collect(
  child: ChildProcessWithoutNullStreams,
  options: { input?: string | undefined; timeoutMs?: number | undefined } = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/**
 * Starts a long-running entry point (the server) as one node process with tsx's loader, not under
 * the tsx CLI: the tsx CLI relays signals to its child and kills it when the child does not
 * acknowledge within tens of milliseconds, which on a loaded machine turned a graceful SIGTERM
 * drain into exit 143. Signals sent to the returned process reach the server itself.
 */
export function startTs(entry: string, env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, entry)], {
    cwd: ROOT,
    env: { ...cleanEnv(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/**
 * The environment without variables that would point a child at the developer's services, and
 * with load shedding off: on a busy CI machine a freshly started server's event loop lags past the
 * threshold and answers 503 to the very requests a test makes (a test of shedding sets its own).
 */
export function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = { LOAD_SHED_MAX_EVENT_LOOP_DELAY: '0' };
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined) continue;
    if (/^(DATABASE_URL|REDIS_URL|JWT_SECRET|PORT|HOST|PUBLIC_URL|API_DOCS|DATA_DIR|NODE_ENV|LOG_LEVEL)$/.test(k))
      continue;
    env[k] = v;
  }
  return env;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

export async function waitFor(check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('timed out waiting');
}
