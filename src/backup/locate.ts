/**
 * Turns what an operator types (a path, a bare backup name, or s3://bucket/key) into a local
 * file with its metadata beside it. An S3 backup is downloaded (streamed to disk) into a private
 * folder under BACKUP_DIR first: every check then runs on exactly the bytes that will be restored.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { BlobNotFoundError, type BlobStore } from '../platform/blob/index.js';
import { backupErrors, messageOf } from './errors.js';
import { metadataNameOf, parseBackupName } from './metadata.js';
import { openS3, type BackupSettings } from './settings.js';

export interface Located {
  file: string;
  where: 'local' | 's3';
  /** S3 key (relative to the prefix) when it came from S3: drill results are uploaded back. */
  s3Key?: string;
  cleanup(): Promise<void>;
}

const none = async () => undefined;

export async function locate(ref: string, settings: BackupSettings): Promise<Located> {
  if (ref.startsWith('s3://')) {
    const u = /^s3:\/\/([^/]+)\/(.+)$/.exec(ref);
    if (!u?.[1] || !u[2]) throw backupErrors.notFound(`${ref} is not an S3 address like s3://bucket/backups/backup_app_20260101T020000Z.sql.gz.gpg`);
    if (!settings.s3) throw backupErrors.notConfigured(`${ref} is in S3, but S3 is not configured: set AWS_S3_BUCKET`);
    if (u[1] !== settings.s3.bucket) throw backupErrors.notFound(`${ref} is not in the configured bucket ${settings.s3.bucket}`);
    const prefix = settings.s3.prefix ?? '';
    if (!u[2].startsWith(prefix)) throw backupErrors.notFound(`${ref} is not under the configured prefix ${prefix}`);
    return download(u[2].slice(prefix.length), settings);
  }
  const direct = path.resolve(ref);
  if (await exists(direct)) return { file: direct, where: 'local', cleanup: none };
  if (!ref.includes('/') && parseBackupName(ref)) {
    const inDir = path.join(settings.dir, ref);
    if (await exists(inDir)) return { file: inDir, where: 'local', cleanup: none };
    if (settings.s3) return download(ref, settings);
  }
  throw backupErrors.notFound(`No such backup: ${ref}`);
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    (s) => s.isFile(),
    () => false,
  );
}

async function download(key: string, settings: BackupSettings): Promise<Located> {
  const store = await openS3(settings);
  await mkdir(settings.dir, { recursive: true, mode: 0o700 });
  const dir = await mkdtemp(path.join(settings.dir, '.s3-'));
  const cleanup = async () => {
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const name = path.basename(key);
    await fetchTo(store, key, path.join(dir, name));
    await fetchTo(store, metadataNameOf(key), path.join(dir, metadataNameOf(name)), true);
    return { file: path.join(dir, name), where: 's3', s3Key: key, cleanup };
  } catch (err) {
    await cleanup();
    if (err instanceof BlobNotFoundError) throw backupErrors.notFound(`No such backup in S3: ${err.where}`);
    throw err instanceof Error && err.name === 'BackupError' ? err : backupErrors.s3(`Cannot download ${store.describe(key)}: ${messageOf(err)}`, err);
  } finally {
    await store.close();
  }
}

async function fetchTo(store: BlobStore, key: string, file: string, optional = false): Promise<void> {
  try {
    await pipeline(await store.get(key), createWriteStream(file, { mode: 0o600 }));
  } catch (err) {
    if (optional && err instanceof BlobNotFoundError) return; // reported by the metadata check
    throw err;
  }
}
