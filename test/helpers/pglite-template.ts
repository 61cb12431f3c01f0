/**
 * A migrated PGlite database made once per test run instead of once per app: creating a PGlite
 * database (initdb inside WASM) costs about 3 s of CPU, loading a data directory made earlier
 * well under 1 s, and the migrations are already in it.
 *
 * test/global-setup.ts calls `preparePgliteTemplate()`: it migrates an in-memory PGlite and dumps
 * its data directory (an uncompressed tarball, `dumpDataDir`) to a file under os.tmpdir() whose
 * name is a hash of everything the dump depends on: every migration's id, name and SQL, the PGlite
 * version and its start parameters (and the day, so seeded rows' timestamps stay recent). Any
 * change to a migration makes a new file; several test runs at once share one (written to a
 * temporary name and renamed into place).
 *
 * Tests open copies with `openMigratedPglite()` (buildTestApp, the audit helpers). Tests of the
 * migrations themselves keep opening an empty database (`openTestDb()` without `migrated`) and
 * migrate it from zero.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pgliteDb, type Db } from '../../src/platform/db/index.js';
import { migrate, type Migration } from '../../src/platform/db/migrate.js';
import { migrations } from '../../src/platform/db/migrations/index.js';
import { pgliteOptions } from '../../src/platform/db/pglite.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The migrated PGlite data directory (a tarball) made by test/global-setup.ts. */
    pgliteTemplate?: string;
  }
}

const PREFIX = 'pf-test-pglite-';
/** Templates of other days or other migration sets are removed after this long. */
const KEEP_OLD_MS = 24 * 60 * 60_000;

async function pgliteVersion(): Promise<string> {
  // The package's exports do not include package.json: read it next to the resolved entry point.
  let dir = path.dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
  while (!existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return (JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version;
}

/** The template's file name: a hash of every input of the dump. */
export async function pgliteTemplatePath(list: readonly Migration[] = migrations): Promise<string> {
  const hash = createHash('sha256');
  hash.update(JSON.stringify(list.map((m) => [m.id, m.name, m.sql])));
  hash.update(await pgliteVersion());
  hash.update(JSON.stringify((await pgliteOptions()).startParams ?? []));
  hash.update(new Date().toISOString().slice(0, 10));
  return path.join(os.tmpdir(), `${PREFIX}${hash.digest('hex').slice(0, 20)}.tar`);
}

/** Makes the template unless this run's one exists already; returns its path. */
export async function preparePgliteTemplate(): Promise<string> {
  const file = await pgliteTemplatePath();
  if (existsSync(file)) return file;
  const { PGlite } = await import('@electric-sql/pglite');
  const client = await PGlite.create(await pgliteOptions());
  try {
    await migrate(pgliteDb(client));
    const dump = await client.dumpDataDir('none');
    const partial = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
    await writeFile(partial, Buffer.from(await dump.arrayBuffer()));
    await rename(partial, file);
  } finally {
    await client.close();
  }
  await removeOldTemplates(file);
  return file;
}

async function removeOldTemplates(keep: string): Promise<void> {
  const dir = path.dirname(keep);
  for (const name of await readdir(dir)) {
    const full = path.join(dir, name);
    if (!name.startsWith(PREFIX) || full === keep) continue;
    const age = Date.now() - (await stat(full).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
    if (age > KEEP_OLD_MS) await rm(full, { force: true });
  }
}

/** The template this run's global setup made, if any (none when a file runs outside it). */
async function templateFile(): Promise<string | undefined> {
  // Imported here, not at the top: the global setup (the main process) imports this module too.
  const { inject } = await import('vitest');
  try {
    return inject('pgliteTemplate');
  } catch {
    return undefined;
  }
}

let templateBytes: Promise<Blob> | undefined;

/**
 * A new in-memory PGlite with every migration applied: a copy of the run's template, or (outside
 * the run's global setup) a fresh database migrated here.
 */
export async function openMigratedPglite(): Promise<Db> {
  const { PGlite } = await import('@electric-sql/pglite');
  const options = await pgliteOptions();
  const file = await templateFile();
  if (file && existsSync(file)) {
    templateBytes ??= readFile(file).then((bytes) => new Blob([bytes]));
    const db = pgliteDb(await PGlite.create({ ...options, loadDataDir: await templateBytes }));
    // Nothing to do, unless a migration was added since the run started (one short transaction).
    await migrate(db);
    return db;
  }
  const db = pgliteDb(await PGlite.create(options));
  await migrate(db);
  return db;
}

/**
 * Makes `dataDir` (a DATA_DIR/pgdata that does not exist yet) a migrated embedded database: the
 * run's template written into it, instead of the initdb child and every migration the first
 * command on a new DATA_DIR would run (tens of seconds on a loaded machine). For tests of the
 * commands, not of creating a database: test/cli.test.ts keeps one fresh DATA_DIR for that.
 * Outside the run's global setup (no template) it does nothing and the first command creates it.
 */
export async function seedMigratedDataDir(dataDir: string): Promise<void> {
  const file = await templateFile();
  if (!file || !existsSync(file)) return;
  const { PGlite } = await import('@electric-sql/pglite');
  templateBytes ??= readFile(file).then((bytes) => new Blob([bytes]));
  await mkdir(dataDir, { recursive: true });
  const client = await PGlite.create({ ...(await pgliteOptions()), dataDir, loadDataDir: await templateBytes });
  await client.close();
}
