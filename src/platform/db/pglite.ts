/**
 * Opening the embedded database (PGlite) with as little memory as it needs (docs/ARCHITECTURE.md,
 * "Footprint"):
 *
 * - PGlite is loaded only when the configuration asks for it (no DATABASE_URL).
 * - Shared buffers of 8 MB instead of PostgreSQL's 128 MB: PGlite writes them into its WASM
 *   memory at start, so every embedded process paid for 128 MB whatever the size of its data. A
 *   portfolio site's whole database is a few MB, and a page that is not in the buffers is one read
 *   of a file the OS caches anyway. (16 MB before: 8 MB less resident memory, and the one-query
 *   public read measured the same, docs/PUBLIC_READ.md.)
 * - Shared memory sized for the one backend PGlite runs (`max_connections` 5 instead of 100: the
 *   per-connection process slots and lock table are also written at start; 5 keeps PostgreSQL's
 *   3 reserved superuser slots valid), no WAL senders (PGlite has no replication).
 * - A new data directory is created (initdb) by a short-lived child process. initdb runs in a
 *   second PGlite instance, copies the WASM heap and passes the new cluster through an in-memory
 *   tarball: about 130 MB the server would otherwise keep for its whole life (the C heap does not
 *   give freed pages back), for work done once. The same child applies the first migrations when
 *   the caller passes them (`firstBoot`, the server does: src/platform/bootstrap.ts): the catalog
 *   caches and WASM pages they fill stay with the child too. It returns all of it to the OS when
 *   it exits; the server then opens the directory as on any later start.
 * - A long-running process compiles PGlite's WASM with V8's optimising compiler only
 *   (`useOptimizingWasmCompiler`, called by src/server.ts): see there.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import v8 from 'node:v8';
import type { PGlite, PGliteOptions } from '@electric-sql/pglite';
import { lazyModule } from '../lazy.js';
import type { MigrationStep } from './migrate.js';

type PgliteModule = typeof import('@electric-sql/pglite');
const loadPglite = lazyModule((): Promise<PgliteModule> => import('@electric-sql/pglite'));

export const PGLITE_SHARED_BUFFERS = '8MB';

/** Server settings on top of PGlite's own defaults (the reasons are above). */
export const PGLITE_SETTINGS: readonly string[] = [
  `shared_buffers=${PGLITE_SHARED_BUFFERS}`,
  'max_connections=5',
  'max_wal_senders=0',
];

/** The options every PGlite this process opens starts with (the server's, the CLI's, backups'). */
export async function pgliteOptions(): Promise<PGliteOptions> {
  const { PGlite } = await loadPglite();
  return { startParams: [...PGlite.defaultStartParams, ...PGLITE_SETTINGS.flatMap((s) => ['-c', s])] };
}

/**
 * V8 compiles WASM twice by default: at once with its baseline compiler (Liftoff) for every
 * function of the module, then hot functions again with its optimising compiler (TurboFan) in
 * background threads. PGlite's module is PostgreSQL: the baseline code and the compiler threads'
 * freed memory, which glibc keeps in their arenas, cost the process about 50 MB for its whole
 * life. With the optimising compiler only, the process keeps neither and queries run at full
 * speed from the first; opening the database takes a few seconds longer (the whole module is
 * compiled optimised, on every core), which a server pays once and a short CLI command would not
 * recoup, so only the server calls this, before it opens the database. The flag acts on later
 * compilations only (it is read when a module is compiled), so setting it at run time is safe.
 * `BENCH_ONLY=process npm run bench` measures it (docs/ARCHITECTURE.md, "Footprint").
 */
export function useOptimizingWasmCompiler(): void {
  v8.setFlagsFromString('--no-liftoff');
}

export interface OpenPgliteOptions {
  /**
   * Statements applied in one transaction by the child that creates a new data directory (the
   * migrations, `freshDatabaseSteps()`); ignored when the directory exists or is `memory://`.
   */
  firstBoot?: readonly MigrationStep[];
}

/** Opens PGlite on `dataDir` (`memory://`: in memory), creating the database on first use. */
export async function openPgliteClient(dataDir: string, open: OpenPgliteOptions = {}): Promise<PGlite> {
  const { PGlite } = await loadPglite();
  const options = await pgliteOptions();
  if (dataDir === 'memory://') return PGlite.create(options);
  // DATA_DIR/pgdata: the folder comes from the configuration, never from a request.
  const dir = path.resolve(dataDir);
  // eslint-disable-next-line security/detect-non-literal-fs-filename
  await mkdir(dir, { recursive: true });
  // PGlite's own test for "is there a database here" (it runs initdb when the file is missing).
  // eslint-disable-next-line security/detect-non-literal-fs-filename
  if (!existsSync(path.join(dir, 'PG_VERSION'))) await initInChild(dir, options, open.firstBoot ?? []);
  return PGlite.create({ ...options, dataDir: dir });
}

/**
 * The child: the same node binary, no loader of ours (it works under tsx and vitest alike), given
 * PGlite's module URL as this process resolved it, so it opens the very same version. The
 * first-boot statements come as JSON on stdin (data, never code) and run in one transaction: a
 * failing one rolls them all back and fails the start with its error, as migrate() would.
 */
const INIT_CHILD = `
const [moduleUrl, dataDir, startParams] = process.argv.slice(1);
let input = '';
for await (const chunk of process.stdin) input += chunk;
const steps = JSON.parse(input || '[]');
const { PGlite } = await import(moduleUrl);
const db = await PGlite.create({ dataDir, startParams: JSON.parse(startParams) });
try {
  if (steps.length > 0) {
    await db.transaction(async (tx) => {
      for (const step of steps) {
        if (step.params) await tx.query(step.sql, step.params);
        else await tx.exec(step.sql);
      }
    });
  }
} finally {
  await db.close();
}
`;

function pgliteModuleUrl(): string {
  // Under plain node and tsx; test runners that transform modules may not offer it.
  if (typeof import.meta.resolve === 'function') return import.meta.resolve('@electric-sql/pglite');
  return pathToFileURL(createRequire(import.meta.url).resolve('@electric-sql/pglite')).href;
}

async function initInChild(dir: string, options: PGliteOptions, steps: readonly MigrationStep[]): Promise<void> {
  // The program is the constant above; its arguments and input are passed as data, never as code.
  const child = spawn(
    process.execPath,
    ['--input-type=module', '-e', INIT_CHILD, pgliteModuleUrl(), dir, JSON.stringify(options.startParams ?? [])],
    { stdio: ['pipe', 'ignore', 'pipe'], env: process.env },
  );
  child.stdin.on('error', () => undefined); // a child that dies early reports through its exit code
  child.stdin.end(JSON.stringify(steps));
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-2_000);
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (code !== 0) {
    throw new Error(`Could not create the embedded database in ${dir} (exit ${code}): ${stderr.trim() || 'no output'}`);
  }
}
