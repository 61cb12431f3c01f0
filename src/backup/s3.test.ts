/**
 * Off-site copies in S3 (tested against s3rver on loopback): upload beside the metadata, list,
 * verify and restore straight from the bucket, and a clear error, with the database untouched,
 * when the object is missing.
 */
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3BlobStore } from '../platform/blob/s3.js';
import { startLocalS3, type LocalS3 } from '../../test/support/blob/s3rver.js';
import { catalogFor } from './cli-support.js';
import { createBackup, type CreateResult } from './create.js';
import { locate } from './locate.js';
import { restoreBackup } from './restore.js';
import { backupEnv, fingerprint, fixture, seed, type Env, type Fixture } from '../../test/support/backup/helpers.js';
import { verifyFile } from './verify.js';

let s3: LocalS3;
let f: Fixture;
let env: Env;
let created: CreateResult;

beforeAll(async () => {
  s3 = await startLocalS3('pf-backups');
  f = await fixture('pglite', undefined);
  await seed(f, 8);
  env = await backupEnv({
    AWS_S3_BUCKET: s3.bucket,
    AWS_S3_ENDPOINT: s3.endpoint,
    AWS_S3_FORCE_PATH_STYLE: 'true',
    AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
  });
});
afterAll(async () => {
  await f?.close();
  await env?.close();
  await s3?.close();
});

describe('backups in S3', () => {
  it('create --upload-s3 puts the backup and its metadata beside it, under BACKUP_S3_PREFIX', async () => {
    created = await createBackup(f.target, env.ctx, { uploadS3: true });
    expect(created.s3?.data).toBe(`s3://pf-backups/backups/${created.metadata.file}`);
    const store = new S3BlobStore(env.ctx.settings.s3!);
    try {
      const keys = [];
      for await (const o of store.list('')) keys.push(o.key);
      expect(keys.sort()).toEqual(
        [created.metadata.file.replace('.sql.gz.gpg', '.json'), created.metadata.file].sort(),
      );
      expect((await store.head(created.metadata.file))?.size).toBe(created.metadata.sizes.encrypted);
    } finally {
      await store.close();
    }
  });

  it('list shows it in both places, then only in S3 once the local copy is gone', async () => {
    expect((await catalogFor(env.ctx.settings))[0]).toMatchObject({
      name: created.metadata.file,
      locations: ['local', 's3'],
      valid: true,
    });
    await rm(created.file);
    await rm(created.metadataFile);
    expect((await catalogFor(env.ctx.settings))[0]).toMatchObject({
      name: created.metadata.file,
      locations: ['s3'],
      valid: true,
    });
  });

  it('verify and restore read from S3 (by s3:// address or by bare name)', async () => {
    const before = await fingerprint(f);
    const located = await locate(`s3://pf-backups/backups/${created.metadata.file}`, env.ctx.settings);
    try {
      expect(located.where).toBe('s3');
      await expect(verifyFile(located.file, await env.ctx.settings.decryptionKeys())).resolves.toMatchObject({
        metadata: { id: created.metadata.id },
      });
    } finally {
      await located.cleanup();
    }
    await f.sql('delete from bk_values');
    const byName = await locate(created.metadata.file, env.ctx.settings);
    try {
      env.clock.advance(10_000);
      await restoreBackup(byName.file, f.target, env.ctx);
    } finally {
      await byName.cleanup();
    }
    expect(await fingerprint(f)).toEqual(before);
  });

  it('a missing S3 object is one clear sentence and the database is unchanged', async () => {
    const before = await fingerprint(f);
    const missing = 's3://pf-backups/backups/backup_pglite_20200101T000000Z.sql.gz.gpg';
    const err = await locate(missing, env.ctx.settings).then(
      () => undefined,
      (e: unknown) => e as { code: string; message: string },
    );
    expect(err?.code).toBe('BACKUP_NOT_FOUND');
    expect(err?.message).toBe(`No such backup in S3: ${missing}`);
    expect(await fingerprint(f)).toEqual(before);
  });

  it('an address outside the configured bucket is refused', async () => {
    await expect(
      locate('s3://other-bucket/backups/backup_pglite_20200101T000000Z.sql.gz.gpg', env.ctx.settings),
    ).rejects.toThrow(/not in the configured bucket pf-backups/);
  });
});
