/**
 * Backups must open without this program: stock GnuPG (`gpg --batch --passphrase-file F
 * --decrypt`), then gunzip, gives the plain pg_dump script (docs/BACKUP_RECOVERY.md, "restore
 * with only gpg, gunzip and psql"). gnupg comes from Debian (.ci/run installs it).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import * as openpgp from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/index.js';
import { createBackup } from './create.js';
import { backupSettings } from './settings.js';
import { backupEnv, fixture, seed, PASSPHRASE, type Env, type Fixture } from '../../test/support/backup/helpers.js';
import { verifyFile } from './verify.js';
import { END_MARKER } from './streams.js';

let f: Fixture;
let env: Env;
let gnupgHome: string;

beforeAll(async () => {
  f = await fixture('pglite', undefined);
  await seed(f, 5);
  env = await backupEnv();
  gnupgHome = await mkdtemp(path.join(os.tmpdir(), 'pf-gnupg-'));
});
afterAll(async () => {
  await f?.close();
  await env?.close();
  await rm(gnupgHome, { recursive: true, force: true });
});

function gpg(args: string[]): Buffer {
  const r = spawnSync('gpg', ['--homedir', gnupgHome, '--batch', '--quiet', '--no-tty', ...args], {
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw new Error(`gpg is not installed (apt-get install gnupg): ${r.error.message}`);
  if (r.status !== 0) throw new Error(`gpg failed: ${r.stderr.toString()}`);
  return r.stdout;
}

describe('stock gpg', () => {
  it('gpg --batch --passphrase-file F --decrypt opens a created backup, and gunzip gives the dump', async () => {
    const created = await createBackup(f.target, env.ctx);
    const gz = gpg(['--passphrase-file', env.passphraseFile, '--decrypt', created.file]);
    const sql = gunzipSync(gz).toString('utf8');
    expect(sql).toContain('CREATE TABLE public.bk_values');
    expect(sql).toContain(END_MARKER);
    expect(sql.startsWith(`-- portfolio-backup id=${created.metadata.id} `)).toBe(true);
    // gpg reports the cipher it used: AES256, never a weaker default.
    const r = spawnSync('gpg', [
      '--homedir',
      gnupgHome,
      '--batch',
      '--no-tty',
      '-v',
      '--passphrase-file',
      env.passphraseFile,
      '--decrypt',
      '--output',
      '/dev/null',
      created.file,
    ]);
    expect(r.stderr.toString()).toMatch(/AES256/);
  });

  it('a wrong passphrase makes gpg fail too', async () => {
    const created = await createBackup(f.target, env.ctx);
    const wrong = path.join(env.dir, 'wrong');
    await writeFile(wrong, 'definitely not the passphrase\n');
    expect(() => gpg(['--passphrase-file', wrong, '--decrypt', created.file])).toThrow(/gpg failed/);
  });

  it('backups encrypted to a public key open with the private key, in gpg and in verify', async () => {
    const { privateKey, publicKey } = await openpgp.generateKey({
      type: 'ecc',
      curve: 'curve25519Legacy',
      userIDs: [{ name: 'Backups', email: 'backup@example.test' }],
      format: 'armored',
    });
    const pub = path.join(env.dir, 'pub.asc');
    const priv = path.join(env.dir, 'priv.asc');
    await writeFile(pub, publicKey);
    await writeFile(priv, privateKey, { mode: 0o600 });
    // The backup host holds only the public key: no passphrase at all.
    const encryptOnly = loadConfig({ ...env.env, BACKUP_PASSPHRASE_FILE: '', BACKUP_PUBLIC_KEY_FILE: pub });
    const created = await createBackup(f.target, { ...env.ctx, settings: backupSettings(encryptOnly) });
    expect(created.metadata.encryption).toMatchObject({
      passphrase: false,
      recipients: [expect.stringMatching(/^[0-9A-F]{40}$/)],
    });

    execFileSync('gpg', ['--homedir', gnupgHome, '--batch', '--quiet', '--import', priv]);
    const sql = gunzipSync(gpg(['--decrypt', created.file])).toString('utf8');
    expect(sql).toContain(END_MARKER);

    const restoreHost = loadConfig({ ...env.env, BACKUP_PASSPHRASE_FILE: '', BACKUP_PRIVATE_KEY_FILE: priv });
    await expect(verifyFile(created.file, await backupSettings(restoreHost).decryptionKeys())).resolves.toMatchObject({
      metadata: { id: created.metadata.id },
    });
    // Without the private key it cannot be read.
    await expect(verifyFile(created.file, { passphrase: PASSPHRASE, privateKeys: [] })).rejects.toThrow(
      /cannot be decrypted/,
    );
  });
});
