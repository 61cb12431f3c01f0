import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Readable } from 'node:stream';
import { BlobNotFoundError, checkKey, type BlobInfo, type BlobStore, type PresignOptions, type PutOptions } from './index.js';
import { presignGetUrl } from './presign.js';

export interface S3BlobStoreOptions {
  bucket: string;
  region: string;
  /** S3-compatible endpoint (MinIO, s3rver, ...); unset: AWS. */
  endpoint?: string | undefined;
  /** Path-style addressing (`endpoint/bucket/key`), which most S3-compatible stores need. */
  forcePathStyle?: boolean;
  /** Every key is stored under this prefix (e.g. `backups/`). */
  prefix?: string;
  /** Server-side encryption requested on every put. */
  serverSideEncryption?: 'AES256' | 'aws:kms' | undefined;
  kmsKeyId?: string | undefined;
  /** Static credentials; unset: the SDK's default chain (environment, profile, instance role). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined;
  /** Multipart part size in bytes: also the most a put holds in memory per part in flight. */
  partSize?: number;
  /** Parts uploaded in parallel (memory is about partSize * queueSize). */
  queueSize?: number;
}

/**
 * S3 as a blob store. put() streams through a multipart upload (lib-storage), so memory stays at
 * partSize * queueSize whatever the object size, and S3 only shows the object once the upload is
 * completed: an interrupted put leaves no object (the aborted parts are removed).
 */
export class S3BlobStore implements BlobStore {
  readonly kind = 's3' as const;
  readonly client: S3Client;
  private readonly prefix: string;

  constructor(private readonly o: S3BlobStoreOptions) {
    this.prefix = o.prefix ?? '';
    const config: S3ClientConfig = {
      region: o.region,
      forcePathStyle: o.forcePathStyle ?? false,
      ...(o.endpoint ? { endpoint: o.endpoint } : {}),
      ...(o.credentials ? { credentials: o.credentials } : {}),
      // S3-compatible stores often reject the SDK's newer default flexible checksums
      // (aws-chunked trailers); checksums are then sent and checked only where S3 requires them.
      ...(o.endpoint ? { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' } : {}),
    };
    this.client = new S3Client(config);
  }

  get location(): string {
    return `s3://${this.o.bucket}/${this.prefix}`;
  }

  describe(key: string): string {
    return `s3://${this.o.bucket}/${this.fullKey(key)}`;
  }

  private fullKey(key: string): string {
    return `${this.prefix}${checkKey(key)}`;
  }

  async put(key: string, body: Readable | Buffer, options: PutOptions = {}): Promise<BlobInfo> {
    const sse = this.o.serverSideEncryption;
    const upload = new Upload({
      client: this.client,
      params: {
        Bucket: this.o.bucket,
        Key: this.fullKey(key),
        Body: body,
        ...(options.contentType ? { ContentType: options.contentType } : {}),
        ...(options.metadata ? { Metadata: options.metadata } : {}),
        ...(sse ? { ServerSideEncryption: sse } : {}),
        ...(sse === 'aws:kms' && this.o.kmsKeyId ? { SSEKMSKeyId: this.o.kmsKeyId } : {}),
      },
      partSize: this.o.partSize ?? 8 * 1024 * 1024,
      queueSize: this.o.queueSize ?? 2,
      leavePartsOnError: false,
    });
    await upload.done();
    const info = await this.head(key);
    if (!info) throw new Error(`Upload of ${this.describe(key)} completed but the object is not there`);
    return info;
  }

  async get(key: string): Promise<Readable> {
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.o.bucket, Key: this.fullKey(key) }));
      if (!(res.Body instanceof Readable)) throw new Error(`Unexpected body type for ${this.describe(key)}`);
      return res.Body;
    } catch (err) {
      if (isNotFound(err)) throw new BlobNotFoundError(this.describe(key));
      throw err;
    }
  }

  async head(key: string): Promise<BlobInfo | null> {
    try {
      const res = await this.client.send(new HeadObjectCommand({ Bucket: this.o.bucket, Key: this.fullKey(key) }));
      return { key, size: res.ContentLength ?? 0, lastModified: res.LastModified ?? new Date(0) };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async *list(prefix = ''): AsyncIterable<BlobInfo> {
    let token: string | undefined;
    do {
      const res = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.o.bucket, Prefix: `${this.prefix}${prefix}`, ContinuationToken: token }),
      );
      for (const o of res.Contents ?? []) {
        if (!o.Key) continue;
        yield { key: o.Key.slice(this.prefix.length), size: o.Size ?? 0, lastModified: o.LastModified ?? new Date(0) };
      }
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token);
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.o.bucket, Key: this.fullKey(key) }));
  }

  /**
   * A presigned GET URL for one object (SigV4 query authentication): S3 serves it without our
   * server in the path, with the response headers fixed by the signature.
   */
  async presignGet(key: string, options: PresignOptions): Promise<string> {
    const credentials = await this.client.config.credentials();
    const endpoint = this.o.endpoint ?? `https://s3.${this.o.region}.amazonaws.com`;
    return presignGetUrl({
      endpoint,
      region: this.o.region,
      bucket: this.o.bucket,
      key: this.fullKey(key),
      forcePathStyle: this.o.forcePathStyle ?? false,
      credentials,
      expiresIn: options.expiresIn,
      now: options.now ?? new Date(),
      responseHeaders: {
        ...(options.contentDisposition ? { contentDisposition: options.contentDisposition } : {}),
        ...(options.contentType ? { contentType: options.contentType } : {}),
      },
    });
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } } | null;
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}
