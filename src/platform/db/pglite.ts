/**
 * Opening the embedded database (PGlite) with as little memory as it needs (docs/ARCHITECTURE.md,
 * "Footprint"):
 *
 * - PGlite is loaded only when the configuration asks for it (no DATABASE_URL).
 * - Shared buffers of 16 MB instead of PostgreSQL's 128 MB: PGlite writes them into its WASM
 *   memory at start, so every embedded process paid for 128 MB whatever the size of its data. A
 *   portfolio site's whole database is a few MB, and a page that is not in the buffers is one read
 *   of a file the OS caches anyway.
 * - A new data directory is created (initdb) by a short-lived child process. initdb runs in a
 *   second PGlite instance, copies the WASM heap and passes the new cluster through an in-memory
 *   tarball: about 130 MB the server would otherwise keep for its whole life (the C heap does not
 *   give freed pages back), for work done once. The child returns all of it to the OS when it
 *   exits; the server then opens the directory as on any later start.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { PGlite, PGliteOptions } from '@electric-sql/pglite';
import { lazyModule } from '../lazy.js';

type PgliteModule = typeof import('@electric-sql/pglite');
const loadPglite = lazyModule((): Promise<PgliteModule> => import('@electric-sql/pglite'));

export const PGLITE_SHARED_BUFFERS = '16MB';

/** The options every PGlite this process opens starts with (the server's, the CLI's, backups'). */
export async function pgliteOptions(): Promise<PGliteOptions> {
  const { PGlite } = await loadPglite();
  return { startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${PGLITE_SHARED_BUFFERS}`] };
}

/** Opens PGlite on `dataDir` (`memory://`: in memory), creating the database on first use. */
export async function openPgliteClient(dataDir: string): Promise<PGlite> {
  const { PGlite } = await loadPglite();
  const options = await pgliteOptions();
  if (dataDir === 'memory://') return PGlite.create(options);
  // DATA_DIR/pgdata: the folder comes from the configuration, never from a request.
  const dir = path.resolve(dataDir);
  // eslint-disable-next-line security/detect-non-literal-fs-filename
  await mkdir(dir, { recursive: true });
  // PGlite's own test for "is there a database here" (it runs initdb when the file is missing).
  // eslint-disable-next-line security/detect-non-literal-fs-filename
  if (!existsSync(path.join(dir, 'PG_VERSION'))) await initInChild(dir, options);
  return PGlite.create({ ...options, dataDir: dir });
}

/**
 * The child: the same node binary, no loader of ours (it works under tsx and vitest alike), given
 * PGlite's module URL as this process resolved it, so it opens the very same version.
 */
const INIT_CHILD = `
const [moduleUrl, dataDir, startParams] = process.argv.slice(1);
const { PGlite } = await import(moduleUrl);
const db = await PGlite.create({ dataDir, startParams: JSON.parse(startParams) });
await db.close();
`;

function pgliteModuleUrl(): string {
  // Under plain node and tsx; test runners that transform modules may not offer it.
  if (typeof import.meta.resolve === 'function') return import.meta.resolve('@electric-sql/pglite');
  return pathToFileURL(createRequire(import.meta.url).resolve('@electric-sql/pglite')).href;
}

async function initInChild(dir: string, options: PGliteOptions): Promise<void> {
  // The program is the constant above; its arguments are passed as data, never as code.
  const child = spawn(
    process.execPath,
    ['--input-type=module', '-e', INIT_CHILD, pgliteModuleUrl(), dir, JSON.stringify(options.startParams ?? [])],
    { stdio: ['ignore', 'ignore', 'pipe'], env: process.env },
  );
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
