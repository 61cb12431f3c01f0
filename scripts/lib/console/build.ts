/**
 * Builds the web console (web/console → dist/web) with Vite, and tells whether the build there is
 * current: dist/web/.source-hash holds a hash of every console source file and of the lockfile,
 * so `npm start` and the test run rebuild only when something changed (a fresh clone builds once).
 *
 * The build goes to a temporary folder renamed into place, under a lock folder: several test runs
 * or a start and a test run at once never see half a build, nor build it twice.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '../../..');
export const CONSOLE_SRC = path.join(ROOT, 'web/console');
export const CONSOLE_OUT = path.join(ROOT, 'dist/web');
const STAMP = '.source-hash';
const LOCK = path.join(ROOT, 'dist/.web-build.lock');
/** A lock older than this was left by a build that died. */
const STALE_LOCK_MS = 5 * 60_000;

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(full)));
    else if (entry.isFile()) out.push(full);
  }
  return out.sort();
}

/** Hash of every console source (path and bytes) and of package-lock.json (the toolchain's versions). */
export async function consoleSourceHash(): Promise<string> {
  const hash = createHash('sha256');
  for (const file of [...(await filesUnder(CONSOLE_SRC)), path.join(ROOT, 'package-lock.json')]) {
    hash.update(path.relative(ROOT, file)).update('\0');
    hash.update(await readFile(file)).update('\0');
  }
  return hash.digest('hex');
}

/** Is dist/web a complete build of the current sources? */
export async function consoleIsCurrent(hash?: string): Promise<boolean> {
  try {
    const built = await readFile(path.join(CONSOLE_OUT, STAMP), 'utf8');
    return built.trim() === (hash ?? (await consoleSourceHash()));
  } catch {
    return false;
  }
}

async function takeLock(): Promise<boolean> {
  await mkdir(path.dirname(LOCK), { recursive: true });
  try {
    await mkdir(LOCK);
    return true;
  } catch {
    const age = Date.now() - (await stat(LOCK).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
    if (age > STALE_LOCK_MS) await rm(LOCK, { recursive: true, force: true });
    return false;
  }
}

/** Builds dist/web (always, or only when stale with `ifStale`). Returns what it did. */
export async function buildConsole(
  options: { ifStale?: boolean; log?: (line: string) => void } = {},
): Promise<'built' | 'current'> {
  const log = options.log ?? (() => undefined);
  const hash = await consoleSourceHash();
  if (options.ifStale && (await consoleIsCurrent(hash))) return 'current';
  // Another process may be building the same sources: wait for it (bounded) instead of racing it.
  const deadline = Date.now() + STALE_LOCK_MS + 60_000;
  while (!(await takeLock())) {
    if (Date.now() > deadline) throw new Error(`could not take ${LOCK}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
    if (await consoleIsCurrent(hash)) return 'current';
  }
  const tmp = `${CONSOLE_OUT}.tmp-${process.pid}`;
  const old = `${CONSOLE_OUT}.old-${process.pid}`;
  try {
    if (options.ifStale && (await consoleIsCurrent(hash))) return 'current';
    log('building the web console (vite build → dist/web)');
    const { build } = await import('vite');
    await build({
      configFile: path.join(CONSOLE_SRC, 'vite.config.ts'),
      logLevel: 'warn',
      build: { outDir: tmp, emptyOutDir: true },
    });
    await writeFile(path.join(tmp, STAMP), `${hash}\n`);
    if (existsSync(CONSOLE_OUT)) await rename(CONSOLE_OUT, old);
    await rename(tmp, CONSOLE_OUT);
    return 'built';
  } finally {
    await rm(tmp, { recursive: true, force: true });
    await rm(old, { recursive: true, force: true });
    await rm(LOCK, { recursive: true, force: true });
  }
}
