/**
 * `backup create`: dump -> gzip -> OpenPGP -> temporary file -> fsync -> rename -> metadata.
 *
 * Everything streams (memory does not grow with the database, except PGlite's dump, see db.ts).
 * The file gets its real name only when it is complete and on disk, and the metadata only after
 * that, so an interrupted backup leaves at most a `.partial` file that nothing calls valid; the
 * file names its writer, and once that process is gone the next `backup create` (or `backup list`)
 * removes it (./partial.ts). A full disk is one sentence (BACKUP_STORAGE_FULL), nothing kept.
 * Encryption is not optional: without a key the command refuses (WAL-G's CVE-2021-38599 wrote
 * unencrypted backups silently when its key was missing).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fsyncPath } from '../platform/blob/dir.js';
import type { Clock } from '../platform/clock.js';
import { CIPHER, encryptStream, fingerprints, hasEncryptionKey } from './crypto.js';
import { startDump, type DbTarget } from './db.js';
import { isStorageFull } from '../http/errors.js';
import { BackupError, backupErrors, messageOf } from './errors.js';
import { gcPacer } from './gc.js';
import { ownerTag, sweepStaleTemps } from './partial.js';
import { backupFileName, metadataNameOf, writeMetadataFile, METADATA_FORMAT, type BackupMetadata } from './metadata.js';
import { silentProgress, type ProgressSink } from './progress.js';
import { HOW_TO_CONFIGURE, openS3, requireS3, type BackupSettings } from './settings.js';
import { Meter, ParallelGzip, Rechunk, chain, hasEndMarker, headerLine } from './streams.js';
import { AUDIT_ACTIONS } from '../security/audit/actions.js';
import type { ErasureLedger } from '../security/privacy/erasure/ledger.js';

/** One hook for audit events (`backup.create.completed`, ...): the CLI writes them to the audit log. */
export type BackupAudit = (event: {
  action: string;
  outcome: 'success' | 'failure' | 'denied';
  target: string;
  metadata: Record<string, unknown>;
}) => Promise<void>;

export interface BackupContext {
  settings: BackupSettings;
  clock: Clock;
  progress?: ProgressSink;
  audit?: BackupAudit;
  /**
   * The erasure ledger (DATA_DIR/audit/erasures/, outside the backups): restore and drill erase
   * again everyone erased after the backup started (src/security/privacy/erasure/reapply.ts).
   */
  erasureLedger?: ErasureLedger;
}

export interface CreateOptions {
  unencrypted?: boolean;
  uploadS3?: boolean;
  reason?: BackupMetadata['reason'];
}

export interface CreateResult {
  file: string;
  metadataFile: string;
  metadata: BackupMetadata;
  s3?: { data: string; metadata: string } | undefined;
}

const TOOL_VERSION = (() => {
  try {
    const pkg = JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../../package.json'), 'utf8')) as {
      name?: string;
      version?: string;
    };
    return { name: pkg.name ?? 'portfolio-backend', version: pkg.version ?? '0.0.0' };
  } catch {
    return { name: 'portfolio-backend', version: '0.0.0' };
  }
})();

/**
 * Writes a backup. Any failure, a refusal included (no key, an unwritable BACKUP_DIR, a dump that
 * fails), is recorded as `backup.create.failed` before it is thrown: a scheduled backup that stops
 * working raises the `backup-failed` alert (src/security/monitoring/) instead of failing quietly
 * in a cron mail nobody reads.
 */
export async function createBackup(
  target: DbTarget,
  ctx: BackupContext,
  options: CreateOptions = {},
): Promise<CreateResult> {
  try {
    return await writeBackup(target, ctx, options);
  } catch (err) {
    await ctx
      .audit?.({
        action: AUDIT_ACTIONS.backupCreateFailed,
        outcome: 'failure',
        target: 'create',
        metadata: { reason: options.reason ?? 'manual', detail: messageOf(err).slice(0, 300) },
      })
      .catch(() => undefined);
    throw err;
  }
}

async function writeBackup(target: DbTarget, ctx: BackupContext, options: CreateOptions): Promise<CreateResult> {
  const { settings } = ctx;
  const encrypted = !options.unencrypted;
  if (!encrypted && settings.production) {
    throw backupErrors.unencryptedRefused(
      '--unencrypted is refused with NODE_ENV=production: production backups are always encrypted',
    );
  }
  const keys = encrypted ? await settings.encryptionKeys() : { passphrase: undefined, publicKeys: [] };
  if (encrypted && !hasEncryptionKey(keys)) {
    throw backupErrors.notConfigured(
      `No backup encryption key is configured: ${HOW_TO_CONFIGURE} (or pass --unencrypted in development)`,
    );
  }
  if (options.uploadS3) requireS3(settings); // S3 misconfiguration is reported before any work

  await mkdir(settings.dir, { recursive: true, mode: 0o700 });
  // What a backup killed halfway left (its writer is gone): never finished, never listed.
  await sweepStaleTemps(settings.dir, ctx.clock.now());
  const started = ctx.clock.now();
  const dump = await startDump(target, settings.pgBinDir);
  let temp: string | undefined;
  try {
    // A name not taken yet (two backups within one second get the next second).
    let at = new Date(Math.floor(started.getTime() / 1000) * 1000);
    let file = '';
    let handle;
    for (;;) {
      file = backupFileName(dump.database, at, encrypted);
      temp = path.join(settings.dir, `.${file}.${ownerTag()}.partial`);
      const taken = await stat(path.join(settings.dir, file)).then(
        () => true,
        () => false,
      );
      if (!taken) {
        handle = await open(temp, 'wx', 0o600).catch((err: NodeJS.ErrnoException) => {
          if (err.code === 'EEXIST') return undefined;
          throw err;
        });
        if (handle) break;
      }
      at = new Date(at.getTime() + 1000);
    }
    const id = randomUUID();
    const plain = new Meter(gcPacer());
    const compressed = new Meter();
    const bar = (ctx.progress ?? silentProgress).start('backup', undefined);
    const final = new Meter((n) => bar.update(n));
    const source = Readable.from(withHeader(headerLine(id, dump.database, started.toISOString()), dump.stream));
    const gz = chain(source, plain, new ParallelGzip(settings.compressionLevel), compressed, new Rechunk());
    const body = encrypted ? await encryptStream(gz, keys, file.replace(/\.gpg$/, '')) : gz;
    const out = handle.createWriteStream();
    await pipeline(body, final, out);
    await dump.done;
    const tables = await dump.tables;
    bar.done();
    if (!hasEndMarker(plain.tail))
      throw backupErrors.dumpFailed('The dump ended without its end marker; nothing was kept');
    const fh = await open(temp, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    const finalPath = path.join(settings.dir, file);
    await rename(temp, finalPath);
    // Until its metadata is written, the complete file is removed on failure like the temp was.
    temp = finalPath;
    await fsyncPath(settings.dir);

    const completed = ctx.clock.now();
    const metadata: BackupMetadata = {
      format: METADATA_FORMAT,
      id,
      file,
      database: dump.database,
      engine: dump.engine,
      reason: options.reason ?? 'manual',
      startedAt: started.toISOString(),
      completedAt: completed.toISOString(),
      durationMs: completed.getTime() - started.getTime(),
      sizes: { dump: plain.bytes, compressed: compressed.bytes, encrypted: final.bytes },
      sha256: final.digest(),
      dumpSha256: plain.digest(),
      postgresVersion: dump.postgresVersion,
      schemaVersion: dump.schemaVersion,
      tool: { ...TOOL_VERSION, dumper: dump.dumper, node: process.version },
      compression: { algorithm: 'gzip', level: settings.compressionLevel },
      encryption: encrypted
        ? {
            format: 'openpgp',
            cipher: CIPHER,
            passphrase: Boolean(keys.passphrase),
            recipients: fingerprints(keys.publicKeys),
          }
        : { format: 'none' },
      tables,
    };
    const metadataFile = path.join(settings.dir, metadataNameOf(file));
    await writeMetadataFile(metadataFile, metadata);
    temp = undefined;

    let s3: CreateResult['s3'];
    if (options.uploadS3) s3 = await uploadBackup(settings, finalPath, metadataFile);
    await ctx.audit?.({
      action: 'backup.create.completed',
      outcome: 'success',
      target: file,
      metadata: {
        reason: metadata.reason,
        sizeBytes: final.bytes,
        sha256: metadata.sha256,
        encrypted,
        s3: Boolean(s3),
        durationMs: metadata.durationMs,
      },
    });
    return { file: finalPath, metadataFile, metadata, s3 };
  } catch (err) {
    dump.abort();
    await dump.done.catch(() => undefined);
    if (temp) await rm(temp, { force: true });
    if (isStorageFull(err) && !(err instanceof BackupError)) {
      throw backupErrors.storageFull(
        `No space left in ${settings.dir} for the backup (nothing was kept): free some space and run it again`,
        err,
      );
    }
    throw err;
  }
}

async function* withHeader(header: string, stream: Readable): AsyncGenerator<Buffer> {
  yield Buffer.from(header);
  for await (const chunk of stream) yield chunk as Buffer;
}

/** Data first, metadata second: an S3 listing never shows metadata for a backup that is not there. */
export async function uploadBackup(
  settings: BackupSettings,
  file: string,
  metadataFile: string,
): Promise<{ data: string; metadata: string }> {
  const store = await openS3(settings);
  const name = path.basename(file);
  try {
    const { createReadStream } = await import('node:fs');
    await store.put(name, createReadStream(file), { contentType: 'application/octet-stream' });
    await store.put(path.basename(metadataFile), createReadStream(metadataFile), { contentType: 'application/json' });
    return { data: store.describe(name), metadata: store.describe(path.basename(metadataFile)) };
  } catch (err) {
    throw backupErrors.s3(
      `Backup ${name} is complete locally, but the upload to ${store.location} failed: ${messageOf(err)}`,
      err,
    );
  } finally {
    await store.close();
  }
}
