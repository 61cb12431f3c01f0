/**
 * The backup commands as an operator runs them (`npm run cli -- backup ...`): refusals are one
 * sentence with a non-zero exit and say how to fix it; nothing unencrypted is ever written by
 * accident; restore needs a confirmation; a backup killed halfway leaves nothing valid.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliInProcess } from '../../test/helpers/cli.js';
import { seedMigratedDataDir } from '../../test/helpers/pglite-template.js';
import { ROOT, runTs } from '../../test/helpers/spawn.js';
import { PASSPHRASE } from '../../test/support/backup/helpers.js';

let dir: string;
let env: Record<string, string>;
const cli = (args: string[], extra: Record<string, string> = {}) =>
  runCliInProcess(['backup', ...args], { env: { ...env, ...extra } });
const backupsDir = () => path.join(dir, 'data', 'backups');
const oneSentence = (stderr: string) => {
  const lines = stderr
    .trim()
    .split('\n')
    .filter((l) => !/: .*(done|%)/.test(l) && !l.startsWith('warning:'));
  expect(lines).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at /);
};

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'pf-backup-cli-'));
  const passphraseFile = path.join(dir, 'passphrase');
  await writeFile(passphraseFile, `${PASSPHRASE}\n`, { mode: 0o600 });
  env = { DATA_DIR: path.join(dir, 'data'), LOG_LEVEL: 'silent', BACKUP_PASSPHRASE_FILE: passphraseFile };
  await seedMigratedDataDir(path.join(dir, 'data', 'pgdata'));
  const migrated = await runCliInProcess(['db', 'migrate'], { env });
  expect(migrated.code).toBe(0);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('backup CLI', () => {
  it('refuses to write a backup without an encryption key, and says how to configure one', async () => {
    const r = await cli(['create'], { BACKUP_PASSPHRASE_FILE: '' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /No backup encryption key is configured: set BACKUP_PASSPHRASE_FILE .* or BACKUP_PASSPHRASE/,
    );
    oneSentence(r.stderr);
    expect(await readdir(backupsDir()).catch(() => [])).toEqual([]);
  }, 120_000);

  it('refuses --unencrypted in production', async () => {
    const r = await cli(['create', '--unencrypted'], {
      NODE_ENV: 'production',
      PUBLIC_URL: 'https://api.example.test',
      JWT_SECRET: 'x'.repeat(40),
      AUDIT_SIGNING_KEY: 'A'.repeat(43),
      MFA_ENCRYPTION_KEY: 'M'.repeat(43),
      AUDIT_PII_KEY: 'P'.repeat(43),
      SECURITY_CONTACT: 'mailto:security@example.test',
      SECURITY_TXT_EXPIRES: new Date(Date.now() + 100 * 24 * 3600 * 1000).toISOString(),
      BACKUP_PASSPHRASE_FILE: '',
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--unencrypted is refused with NODE_ENV=production/);
    oneSentence(r.stderr);
  }, 120_000);

  it('create, list, verify, restore (confirmation, dry run), drill, prune', async () => {
    const created = await cli(['create']);
    expect(created.stderr).not.toMatch(/warning/);
    expect(created.code).toBe(0);
    const file = /Created (\S+\.sql\.gz\.gpg)/.exec(created.stdout)?.[1];
    expect(file).toBeDefined();
    expect(path.basename(file!)).toMatch(/^backup_pglite_\d{8}T\d{6}Z\.sql\.gz\.gpg$/);

    const listed = JSON.parse((await cli(['list', '--json'])).stdout) as {
      name: string;
      valid: boolean;
      verified: unknown;
    }[];
    expect(listed).toEqual([expect.objectContaining({ name: path.basename(file!), valid: true, verified: null })]);

    const verified = await cli(['verify', path.basename(file!)]);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(
      /is intact: SHA-256 matches its metadata, it decrypts, and the .* dump is complete/,
    );

    const noTty = await cli(['restore', file!]);
    expect(noTty.code).toBe(1);
    expect(noTty.stderr).toMatch(/pass --yes/);
    oneSentence(noTty.stderr);

    const dry = await cli(['restore', file!, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/^Dry run, nothing was changed\./);
    expect(dry.stdout).toMatch(/drop schema public/);
    expect((await readdir(backupsDir())).filter((n) => n.endsWith('.gpg'))).toHaveLength(1);

    const restored = await cli(['restore', file!, '--yes']);
    expect(restored.stderr).not.toMatch(/warning/);
    expect(restored.code).toBe(0);
    expect(restored.stdout).toMatch(/Safety backup of the previous state: .*backup_pglite_/);

    const drill = await cli(['drill', file!]);
    expect(drill.code).toBe(0);
    expect(drill.stdout).toMatch(/^Drill passed: .* Marked verified\./);
    const after = JSON.parse((await cli(['list', '--json'])).stdout) as {
      name: string;
      verified: { rtoMs: number } | null;
    }[];
    expect(after.find((e) => e.name === path.basename(file!))?.verified?.rtoMs).toBeGreaterThan(0);

    const prune = await cli(['prune', '--dry-run']);
    expect(prune.code).toBe(0);
    expect(prune.stdout).toMatch(/Would delete 0 and kept 2 backups; newest verified: backup_pglite_/);

    // The events are in the audit log, and the chain still verifies.
    const audit = await runCliInProcess(['audit', 'verify'], { env });
    expect(audit.code).toBe(0);
  }, 240_000);

  it('verify of a missing backup and of a non-backup: one sentence each', async () => {
    const missing = await cli(['verify', 'backup_app_20200101T000000Z.sql.gz.gpg']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^No such backup: backup_app_20200101T000000Z\.sql\.gz\.gpg\.\n$/);
    const junk = path.join(dir, 'junk.bin');
    await writeFile(junk, 'junk');
    const notBackup = await cli(['verify', junk]);
    expect(notBackup.stderr).toMatch(/junk\.bin is not a backup/);
    oneSentence(notBackup.stderr);
  }, 120_000);
});

describe('a backup killed with SIGKILL halfway', () => {
  it("leaves nothing that backup list shows: the dead writer's partial file is removed", async () => {
    const killDir = await mkdtemp(path.join(os.tmpdir(), 'pf-backup-kill-'));
    try {
      // Enough data that writing the backup takes a moment (about 25 MB of dump).
      await mkdir(path.join(killDir, 'data'), { recursive: true });
      const pg = await PGlite.create(path.join(killDir, 'data', 'pgdata'));
      await pg.exec(`create table filler (id int primary key, body text);
        insert into filler select g, md5(g::text) || repeat(md5((g * 7)::text), 6) from generate_series(1, 100000) g;`);
      await pg.close();
      const killEnv = { ...env, DATA_DIR: path.join(killDir, 'data') };
      // One process (node with tsx's loader, not the tsx wrapper that forks a child), so the
      // SIGKILL hits the process that writes the backup.
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), 'backup', 'create'],
        {
          cwd: ROOT,
          env: { ...process.env, ...killEnv },
          stdio: 'ignore',
        },
      );
      const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
      const bdir = path.join(killDir, 'data', 'backups');
      // Kill as soon as the backup file is being written.
      let sawPartial = false;
      const deadline = Date.now() + 120_000;
      while (Date.now() < deadline && child.exitCode === null) {
        const partial = (await readdir(bdir).catch(() => [])).find((n) => n.endsWith('.partial'));
        if (partial && (await stat(path.join(bdir, partial)).catch(() => null))?.size) {
          sawPartial = true;
          child.kill('SIGKILL');
          break;
        }
        await new Promise((r) => setTimeout(r, 5));
      }
      await exited;
      expect(sawPartial, 'the backup finished before it could be killed').toBe(true);
      const names = await readdir(bdir);
      expect(names.some((n) => n.endsWith('.partial'))).toBe(true);
      expect(names.filter((n) => n.endsWith('.gpg') || n.endsWith('.json'))).toEqual([]);
      // The partial file names its writer, which is gone: the listing removes it, lists nothing.
      const listed = await runTs('src/cli/main.ts', ['backup', 'list', '--json'], { env: killEnv });
      expect(JSON.parse(listed.stdout)).toEqual([]);
      expect(await readdir(bdir)).toEqual([]);
      const drill = await runTs('src/cli/main.ts', ['backup', 'drill'], { env: killEnv });
      expect(drill.stderr).toMatch(/No valid backup to drill/);
    } finally {
      await rm(killDir, { recursive: true, force: true });
    }
  }, 240_000);
});
