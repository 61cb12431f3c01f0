/**
 * The S3 store's options from the configuration, in one place for every module that keeps
 * objects in AWS_S3_BUCKET (backups under BACKUP_S3_PREFIX, uploads under UPLOAD_S3_PREFIX).
 * Kept apart from s3.ts so reading the options never loads the AWS SDK.
 */
import type { Config } from '../../config/index.js';
import type { S3BlobStoreOptions } from './s3.js';

/** The AWS_* variables the S3 store reads. */
export type S3Config = Pick<
  Config,
  | 'AWS_S3_BUCKET'
  | 'AWS_REGION'
  | 'AWS_S3_ENDPOINT'
  | 'AWS_S3_FORCE_PATH_STYLE'
  | 'AWS_S3_SSE'
  | 'AWS_S3_KMS_KEY_ID'
  | 'AWS_ACCESS_KEY_ID'
  | 'AWS_SECRET_ACCESS_KEY'
>;

/**
 * The store's options with every key under `prefix`, or undefined when AWS_S3_BUCKET is unset.
 * Static credentials only when both halves are set; otherwise the SDK's default chain.
 */
export function s3OptionsFrom(config: S3Config, prefix: string): S3BlobStoreOptions | undefined {
  if (!config.AWS_S3_BUCKET) return undefined;
  return {
    bucket: config.AWS_S3_BUCKET,
    region: config.AWS_REGION,
    endpoint: config.AWS_S3_ENDPOINT,
    forcePathStyle: config.AWS_S3_FORCE_PATH_STYLE,
    prefix,
    serverSideEncryption: config.AWS_S3_SSE,
    kmsKeyId: config.AWS_S3_KMS_KEY_ID,
    credentials:
      config.AWS_ACCESS_KEY_ID && config.AWS_SECRET_ACCESS_KEY
        ? { accessKeyId: config.AWS_ACCESS_KEY_ID, secretAccessKey: config.AWS_SECRET_ACCESS_KEY }
        : undefined,
  };
}
