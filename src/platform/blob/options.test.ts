/**
 * One builder for the S3 store's options: backups and uploads read the same AWS_* variables with
 * the same defaults and differ only in the key prefix (BACKUP_S3_PREFIX, UPLOAD_S3_PREFIX).
 */
import { describe, expect, it } from 'vitest';
import { backupSettings, s3Options } from '../../backup/settings.js';
import { loadConfig } from '../../config/index.js';
import { openUploadStore } from '../../security/uploads/plugin.js';
import { s3OptionsFrom } from './index.js';

const full = {
  AWS_S3_BUCKET: 'portfolio-bucket',
  AWS_REGION: 'eu-west-1',
  AWS_S3_ENDPOINT: 'https://minio.internal:9000',
  AWS_S3_FORCE_PATH_STYLE: 'true',
  AWS_S3_SSE: 'aws:kms',
  AWS_S3_KMS_KEY_ID: 'arn:aws:kms:eu-west-1:111122223333:key/abcd-1234',
  AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'not-a-real-secret',
};

describe('s3OptionsFrom', () => {
  it('maps every AWS_* variable and puts keys under the prefix given', () => {
    expect(s3OptionsFrom(loadConfig(full), 'somewhere/')).toEqual({
      bucket: 'portfolio-bucket',
      region: 'eu-west-1',
      endpoint: 'https://minio.internal:9000',
      forcePathStyle: true,
      prefix: 'somewhere/',
      serverSideEncryption: 'aws:kms',
      kmsKeyId: 'arn:aws:kms:eu-west-1:111122223333:key/abcd-1234',
      credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'not-a-real-secret' },
    });
  });

  it('uses the defaults and the SDK credential chain when only the bucket is set', () => {
    expect(s3OptionsFrom(loadConfig({ AWS_S3_BUCKET: 'portfolio-bucket' }), 'p/')).toEqual({
      bucket: 'portfolio-bucket',
      region: 'us-east-1',
      endpoint: undefined,
      forcePathStyle: false,
      prefix: 'p/',
      serverSideEncryption: 'AES256',
      kmsKeyId: undefined,
      credentials: undefined,
    });
    // Half a key pair is no key pair: the default chain, never a credential with an empty half.
    const half = loadConfig({ AWS_S3_BUCKET: 'portfolio-bucket', AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE' });
    expect(s3OptionsFrom(half, 'p/')?.credentials).toBeUndefined();
  });

  it('is off without AWS_S3_BUCKET', () => {
    expect(s3OptionsFrom(loadConfig({}), 'p/')).toBeUndefined();
    expect(s3Options(loadConfig({}))).toBeUndefined();
  });

  it('backups and uploads get the same store options but for their prefix', async () => {
    const config = loadConfig(full);
    expect(s3Options(config)).toEqual(s3OptionsFrom(config, 'backups/'));
    expect(backupSettings(config).s3).toEqual(s3OptionsFrom(config, 'backups/'));
    const store = await openUploadStore(loadConfig({ ...full, UPLOAD_STORAGE: 's3' }));
    try {
      expect(store.kind).toBe('s3');
      expect(store.location).toBe('s3://portfolio-bucket/media/');
    } finally {
      await store.close();
    }
    await expect(openUploadStore(loadConfig({ UPLOAD_STORAGE: 's3' }))).rejects.toThrow(
      'UPLOAD_STORAGE=s3 needs AWS_S3_BUCKET',
    );
  });
});
