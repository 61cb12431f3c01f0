/**
 * Runs `portfolio-admin` commands in the test's own process: `runCli` (src/cli/index.ts) with the
 * environment, standard input and output a spawned `tsx src/cli/main.ts` would have, without the
 * 2-4 s of tsx start, TypeScript transform and module loading each spawn costs. Same result shape
 * as `runTs` (./spawn.ts), so a test switches by changing one call:
 *
 *   runTs('src/cli/main.ts', args, { env, input })  ->  runCliInProcess(args, { env, input })
 *
 * - The environment is exactly what the spawned command gets, `cleanEnv()` (the developer's
 *   DATABASE_URL, DATA_DIR... never leak in) overlaid with `env`, for the duration of the call;
 *   process.env is then restored exactly, removed and added keys included (`.env` loading too).
 * - stdout and stderr are captured from process.stdout/stderr.write and console.*.
 * - Standard input is `input` (default: empty, not a terminal, like a spawn's pipe).
 * - Calls are serialized: they share process.env, the output streams and the CLI's stdin.
 * - A command must close everything it opened (database, KV, timers) before runCli resolves:
 *   nothing calls process.exit to clean up. The next command opening the same DATA_DIR relies on it.
 *
 * Keep `runTs` where the process boundary is what is tested (exit code of the real binary, a
 * configuration that fails before anything loads, a SIGKILL, memory): test/cli.test.ts,
 * test/footprint.test.ts, test/faults/.
 */
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { format } from 'node:util';
import { runCli } from '../../src/cli/index.js';
import { seedMigratedDataDir } from './pglite-template.js';
import { cleanEnv, type Run } from './spawn.js';

/**
 * A new temporary DATA_DIR whose embedded database (pgdata) is already migrated, a copy of the
 * run's template (./pglite-template.ts): the first command then opens it as on any later day.
 */
export async function migratedDataDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  await seedMigratedDataDir(path.join(dir, 'pgdata'));
  return dir;
}

let queue: Promise<unknown> = Promise.resolve();

export function runCliInProcess(
  args: string[],
  options: { env?: Record<string, string>; input?: string } = {},
): Promise<Run> {
  const run = queue.then(() => runOnce(args, options));
  queue = run.catch(() => undefined);
  return run;
}

const CONSOLE_METHODS = ['log', 'info', 'debug', 'warn', 'error', 'trace'] as const;

async function runOnce(args: string[], options: { env?: Record<string, string>; input?: string }): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const savedEnv = { ...process.env };
  const capture =
    (append: (s: string) => void) =>
    (chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
      append(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      const done = rest.find((r): r is () => void => typeof r === 'function');
      if (done) queueMicrotask(done);
      return true;
    };
  replaceEnv({ ...cleanEnv(), ...options.env });
  const restores = [
    replaceMember(
      process.stdout,
      'write',
      capture((s) => (stdout += s)),
    ),
    replaceMember(
      process.stderr,
      'write',
      capture((s) => (stderr += s)),
    ),
    ...CONSOLE_METHODS.map((m) =>
      replaceMember(console, m, (...a: unknown[]) => {
        if (m === 'warn' || m === 'error' || m === 'trace') stderr += `${format(...a)}\n`;
        else stdout += `${format(...a)}\n`;
      }),
    ),
  ];
  try {
    const input = options.input ?? '';
    const code = await runCli(args, { stdin: Readable.from(input === '' ? [] : [Buffer.from(input)]) }).catch(
      // src/cli/main.ts exits 1 when runCli itself rejects.
      () => 1,
    );
    return { code, stdout, stderr };
  } finally {
    for (const restore of restores.reverse()) restore();
    replaceEnv(savedEnv);
  }
}

/** Sets `target[key]` to `value` as an own property; the returned function puts back exactly what was there. */
function replaceMember(target: object, key: string, value: unknown): () => void {
  const own = Object.getOwnPropertyDescriptor(target, key);
  Object.defineProperty(target, key, { value, configurable: true, writable: true, enumerable: false });
  return () => {
    if (own) Object.defineProperty(target, key, own);
    else Reflect.deleteProperty(target, key);
  };
}

/** Makes process.env hold exactly `env`: keys not in it are deleted, not left behind. */
function replaceEnv(env: Record<string, string | undefined>): void {
  for (const key of Object.keys(process.env)) if (!(key in env)) delete process.env[key];
  for (const [key, value] of Object.entries(env)) if (value !== undefined) process.env[key] = value;
}
