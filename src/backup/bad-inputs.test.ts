/**
 * Corruption must be found before a restore touches anything (the classic failure: damage
 * discovered only halfway through a restore). Each bad input gets one clear sentence, no safety
 * backup is taken, and the target database is unchanged, row by row.
 */
import { copyFile, mkdir, readFile, readdir, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_DATABASE_URL } from '../../test/helpers/services.js';
import { createBackup, type CreateResult } from './create.js';
import { backupSettings } from './settings.js';
import { loadConfig } from '../config/index.js';
import { metadataNameOf } from './metadata.js';
import { restoreBackup } from './restore.js';
import {
  backupEnv,
  fingerprint,
  fixture,
  seed,
  type Env,
  type Fixture,
  type Kind,
} from '../../test/support/backup/helpers.js';

const KINDS: Kind[] = TEST_DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];

describe.each(KINDS)('bad inputs on %s', (kind) => {
  let f: Fixture;
  let env: Env;
  let a: CreateResult;
  let b: CreateResult;
  let before: Record<string, string[]>;
  let work: string;

  beforeAll(async () => {
    f = await fixture(kind, TEST_DATABASE_URL);
    env = await backupEnv();
    await seed(f, 10);
    a = await createBackup(f.target, env.ctx);
    env.clock.advance(5_000);
    await seed(f, 2);
    b = await createBackup(f.target, env.ctx);
    // The state the database must keep through every failed restore below.
    await f.sql(`delete from bk_values where id % 2 = 0`);
    before = await fingerprint(f);
    work = path.join(env.dir, 'work');
    await mkdir(work);
  });
  afterAll(async () => {
    await f?.close();
    await env?.close();
  });

  /** A copy of backup `r` (and its metadata) in its own folder, to damage. */
  async function copyOf(r: CreateResult, sub: string): Promise<string> {
    const dir = path.join(work, sub);
    await mkdir(dir);
    const file = path.join(dir, path.basename(r.file));
    await copyFile(r.file, file);
    await copyFile(r.metadataFile, path.join(dir, metadataNameOf(path.basename(r.file))));
    return file;
  }

  async function expectRefused(file: string, code: string, message: RegExp, ctx = env.ctx): Promise<void> {
    const backupsBefore = (await readdir(env.ctx.settings.dir)).length;
    const err = await restoreBackup(file, f.target, ctx).then(
      () => undefined,
      (e: unknown) => e as { code?: string; message: string },
    );
    expect(err, 'the restore should have failed').toBeDefined();
    expect(err?.message).toMatch(message);
    expect(err?.code).toBe(code);
    expect(err?.message.split('\n')).toHaveLength(1);
    // Untouched: no safety backup taken, every row as it was.
    expect((await readdir(env.ctx.settings.dir)).length).toBe(backupsBefore);
    expect(await fingerprint(f)).toEqual(before);
  }

  it('wrong passphrase', async () => {
    const config = loadConfig({
      ...env.env,
      BACKUP_PASSPHRASE_FILE: '',
      BACKUP_PASSPHRASE: 'not the right passphrase at all',
    });
    await expectRefused(
      a.file,
      'BACKUP_WRONG_PASSPHRASE',
      /cannot be decrypted with the configured passphrase or key/,
      { ...env.ctx, settings: backupSettings(config) },
    );
  });

  it('one flipped byte', async () => {
    const file = await copyOf(a, 'flipped');
    const bytes = await readFile(file);
    const i = Math.floor(bytes.length / 2);
    bytes[i] = (bytes[i] ?? 0) ^ 0x01;
    await writeFile(file, bytes);
    await expectRefused(file, 'BACKUP_CORRUPTED', /does not match the SHA-256 in its metadata/);
  });

  it('truncated file', async () => {
    const file = await copyOf(a, 'truncated');
    await truncate(file, Math.floor(a.metadata.sizes.encrypted * 0.6));
    await expectRefused(file, 'BACKUP_TRUNCATED', /is truncated: \d+ of \d+ bytes/);
  });

  it('metadata from another backup', async () => {
    const file = await copyOf(a, 'swapped');
    await copyFile(b.metadataFile, path.join(path.dirname(file), metadataNameOf(path.basename(file))));
    await expectRefused(
      file,
      'BACKUP_METADATA_MISMATCH',
      /describes .* not .*: the metadata belongs to another backup/,
    );
  });

  it('metadata from another backup, renamed to match', async () => {
    const file = await copyOf(a, 'swapped-edited');
    const other = JSON.parse(await readFile(b.metadataFile, 'utf8')) as Record<string, unknown>;
    await writeFile(
      path.join(path.dirname(file), metadataNameOf(path.basename(file))),
      JSON.stringify({ ...other, file: path.basename(file), sizes: a.metadata.sizes }),
    );
    await expectRefused(file, 'BACKUP_CORRUPTED', /metadata belongs to another backup/);
  });

  it('a file that is not a backup', async () => {
    const junk = path.join(work, 'notes.txt');
    await writeFile(junk, 'hello');
    await expectRefused(junk, 'BACKUP_NOT_A_BACKUP', /notes\.txt is not a backup/);
    const named = path.join(work, 'backup_app_20260101T000000Z.sql.gz.gpg');
    await writeFile(named, 'not openpgp at all');
    await expectRefused(named, 'BACKUP_NOT_A_BACKUP', /has no metadata .* incomplete or not a backup/);
  });

  it('a missing file', async () => {
    await expectRefused(
      path.join(work, 'backup_app_20260101T000001Z.sql.gz.gpg'),
      'BACKUP_NOT_FOUND',
      /No such backup file/,
    );
  });

  it('a backup of the other engine', async () => {
    // PGlite and PostgreSQL dumps are not interchangeable (INSERT vs COPY, version-specific DDL).
    const meta = JSON.parse(await readFile(a.metadataFile, 'utf8')) as Record<string, unknown>;
    const file = await copyOf(a, 'engine');
    await writeFile(
      path.join(path.dirname(file), metadataNameOf(path.basename(file))),
      JSON.stringify({ ...meta, engine: kind === 'pglite' ? 'postgres' : 'pglite' }),
    );
    await expectRefused(file, 'BACKUP_REFUSED', /restores only into/);
  });
});
