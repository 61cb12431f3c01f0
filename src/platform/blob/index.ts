/**
 * Blob storage: named byte streams in a folder (`dir`, the embedded default) or an S3 bucket
 * (`s3`, any S3-compatible store). One small interface so the modules that keep files (backups
 * now, uploads later) do not care where the bytes live.
 *
 * Keys are relative, `/`-separated names (`backups/backup_app_20260101T020000Z.sql.gz.gpg`).
 * Bodies are streams both ways: nothing here holds a whole object in memory.
 */
import type { Readable } from 'node:stream';

export interface BlobInfo {
  key: string;
  size: number;
  lastModified: Date;
}

export interface PutOptions {
  contentType?: string;
  /** Known length (lets S3 skip multipart for small objects; informative for `dir`). */
  contentLength?: number;
  /** Small string metadata stored with the object (S3 user metadata; a sidecar is not written for `dir`). */
  metadata?: Record<string, string>;
}

export interface PresignOptions {
  /** Seconds the URL stays valid. */
  expiresIn: number;
  /** Content-Disposition the store must answer with (signed into the URL). */
  contentDisposition?: string;
  contentType?: string;
  now?: Date;
}

export interface BlobStore {
  readonly kind: 'dir' | 's3';
  /** Where the store points, for messages (`/var/backups`, `s3://bucket/prefix/`). Never a credential. */
  readonly location: string;
  /** Writes the whole stream, then makes the object visible: a failed put never leaves a partial object under `key`. */
  put(key: string, body: Readable | Buffer, options?: PutOptions): Promise<BlobInfo>;
  /** A stream of the object's bytes; throws BlobNotFoundError when it does not exist. */
  get(key: string): Promise<Readable>;
  /** Size and date, or null when the object does not exist. */
  head(key: string): Promise<BlobInfo | null>;
  /** Every object whose key starts with `prefix`, in key order. */
  list(prefix?: string): AsyncIterable<BlobInfo>;
  /** Removes the object; deleting a missing object is not an error. */
  delete(key: string): Promise<void>;
  /** A human-readable address of one object (`s3://bucket/key`, or the file path). */
  describe(key: string): string;
  close(): Promise<void>;
  /** Stores that serve objects themselves (S3) sign a time-limited GET URL; absent for `dir`. */
  presignGet?(key: string, options: PresignOptions): Promise<string>;
}

export class BlobNotFoundError extends Error {
  constructor(readonly where: string) {
    super(`No such object: ${where}`);
    this.name = 'BlobNotFoundError';
  }
}

/**
 * Keys come from our own code, but a key is still checked before it becomes a path or an S3 key:
 * no absolute paths, no `..`, no empty segments, no control characters.
 */
export function checkKey(key: string): string {
  if (key === '' || key.length > 1024 || key.startsWith('/') || /[\u0000-\u001f\\]/.test(key)) {
    throw new Error(`Invalid blob key "${key}"`);
  }
  for (const segment of key.split('/')) {
    if (segment === '' || segment === '.' || segment === '..') throw new Error(`Invalid blob key "${key}"`);
  }
  return key;
}

export { DirBlobStore } from './dir.js';
export type { S3BlobStoreOptions } from './s3.js';
export { s3OptionsFrom } from './options.js';

/**
 * The S3 store, loaded on first use: the AWS SDK is large (about 20 MB of memory), and most
 * processes (the CLI without S3, tests) never need it.
 */
export async function openS3BlobStore(options: import('./s3.js').S3BlobStoreOptions): Promise<BlobStore> {
  const { S3BlobStore } = await import('./s3.js');
  return new S3BlobStore(options);
}
