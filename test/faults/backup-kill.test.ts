/**
 * `backup create` (its own process, as an operator or cron runs it) killed -9 while it writes the
 * backup file. Nothing is half done afterwards: `backup list` shows the backup made before and no
 * partial one, no temporary file is left in BACKUP_DIR, and the next `backup create` and
 * `backup verify` succeed.
 * Mechanisms guarded: the data file is written under a temporary name that names its writer
 * (`.….partial`, fsync, rename, then the metadata: src/backup/create.ts), and a temporary file whose
 * writer is gone is removed by the listing and by the next `backup create` (src/backup/partial.ts).
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgliteOptions } from '../../src/platform/db/pglite.js';
import { preparePgliteTemplate } from '../helpers/pglite-template.js';
import { ROOT, runTs } from '../helpers/spawn.js';
import { PASSPHRASE } from '../support/backup/helpers.js';

interface Listed {
  name: string;
  valid: boolean;
  status: string;
}

describe('backup create killed -9 while it writes', () => {
  let dir: string;
  let env: Record<string, string>;
  const bdir = () => path.join(dir, 'data', 'backups');
  const cli = (args: string[]) => runTs('src/cli/main.ts', ['backup', ...args], { env, timeoutMs: 180_000 });
  const list = async () => {
    const r = await cli(['list', '--json']);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as Listed[];
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'pf-faults-backup-'));
    const passphraseFile = path.join(dir, 'passphrase');
    await writeFile(passphraseFile, `${PASSPHRASE}\n`, { mode: 0o600 });
    env = { DATA_DIR: path.join(dir, 'data'), LOG_LEVEL: 'silent', BACKUP_PASSPHRASE_FILE: passphraseFile };
    // A migrated embedded database (the test run's template, not initdb and every migration),
    // with enough data (about 25 MB of dump) that writing the backup takes a moment.
    const template = await readFile(await preparePgliteTemplate());
    await mkdir(path.join(dir, 'data'), { recursive: true });
    const pg = await PGlite.create({
      ...(await pgliteOptions()),
      dataDir: path.join(dir, 'data', 'pgdata'),
      loadDataDir: new Blob([template]),
    });
    await pg.exec(`create table filler (id int primary key, body text);
      insert into filler select g, md5(g::text) || repeat(md5((g * 7)::text), 6) from generate_series(1, 100000) g;`);
    await pg.close();
  }, 240_000);

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('leaves no partial backup listed, no temporary file, and the next backup and verify succeed', async () => {
    const first = await cli(['create']);
    expect(first.code, first.stderr).toBe(0);
    const before = await list();
    expect(before.map((e) => e.valid)).toEqual([true]);

    // One process (node with tsx's loader, not the tsx wrapper), so the kill hits the writer.
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), 'backup', 'create'], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: 'ignore',
    });
    const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
    let killedWhileWriting = false;
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline && child.exitCode === null) {
      const partial = (await readdir(bdir())).find((n) => n.endsWith('.partial'));
      if (partial && (await stat(path.join(bdir(), partial)).catch(() => null))?.size) {
        child.kill('SIGKILL');
        killedWhileWriting = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    await exited;
    expect(killedWhileWriting, 'the backup finished before it could be killed').toBe(true);
    // The kill left its partial file behind (nothing can run after SIGKILL).
    expect((await readdir(bdir())).filter((n) => n.endsWith('.partial'))).toHaveLength(1);

    // Restarted: the listing shows the backup from before, and nothing of the killed one.
    const after = await list();
    expect(after).toEqual(before);
    const leftovers = (await readdir(bdir())).filter((n) => n.startsWith('.'));
    expect(leftovers, 'temporary files left in BACKUP_DIR').toEqual([]);

    // The next backup and its verification succeed; exactly two valid backups, nothing else.
    const next = await cli(['create']);
    expect(next.code, next.stderr).toBe(0);
    const file = /Created (\S+\.sql\.gz\.gpg)/.exec(next.stdout)?.[1];
    expect(file).toBeDefined();
    const verified = await cli(['verify', path.basename(file!)]);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    // Two backups with their metadata, nothing else (the first one listed valid above).
    const names = await readdir(bdir());
    expect(names.filter((n) => n.startsWith('.'))).toEqual([]);
    expect(names.filter((n) => n.endsWith('.gpg'))).toHaveLength(2);
    expect(names.filter((n) => n.endsWith('.json'))).toHaveLength(2);
  }, 300_000);
});
