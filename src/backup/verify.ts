/**
 * `backup verify` (and the first step of restore and drill): the file against its metadata
 * (name, size, SHA-256), then a full decrypt and decompress in a stream, checking the dump's
 * own id, its SHA-256 and pg_dump's end marker. Each failure is one sentence that says which.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { decryptStream, type DecryptionKeys } from './crypto.js';
import { backupErrors, messageOf } from './errors.js';
import { gcPacer } from './gc.js';
import { metadataNameOf, parseBackupName, readMetadataFile, type BackupMetadata } from './metadata.js';
import { silentProgress, type ProgressSink } from './progress.js';
import { HOW_TO_CONFIGURE } from './settings.js';
import { Meter, chain, hasEndMarker, headerId } from './streams.js';

export interface CheckedFile {
  file: string;
  metadataFile: string;
  metadata: BackupMetadata;
}

export interface VerifyReport extends CheckedFile {
  bytes: number;
  dumpBytes: number;
  ms: number;
}

/** Name, metadata, size: the cheap checks, before reading the file. */
export async function checkFile(file: string): Promise<CheckedFile> {
  const name = path.basename(file);
  const s = await stat(file).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') throw backupErrors.notFound(`No such backup file: ${file}`);
    throw err;
  });
  if (!s.isFile()) throw backupErrors.notABackup(`${file} is not a file`);
  const parsed = parseBackupName(name);
  if (!parsed) throw backupErrors.notABackup(`${name} is not a backup: backup files are named backup_<database>_<UTC time>.sql.gz.gpg`);
  const metadataFile = path.join(path.dirname(file), metadataNameOf(name));
  let metadata: BackupMetadata;
  try {
    metadata = await readMetadataFile(metadataFile);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw backupErrors.notABackup(`${name} has no metadata (${path.basename(metadataFile)}): it is incomplete or not a backup`);
    }
    throw backupErrors.notABackup(`${name} cannot be checked: ${messageOf(err)}`);
  }
  if (metadata.file !== name) {
    throw backupErrors.metadataMismatch(`${path.basename(metadataFile)} describes ${metadata.file}, not ${name}: the metadata belongs to another backup`);
  }
  if (parsed.encrypted !== (metadata.encryption.format === 'openpgp')) {
    throw backupErrors.metadataMismatch(`${name} and its metadata disagree about encryption: the metadata belongs to another backup`);
  }
  if (s.size < metadata.sizes.encrypted) {
    throw backupErrors.truncated(`${name} is truncated: ${s.size} of ${metadata.sizes.encrypted} bytes`);
  }
  if (s.size > metadata.sizes.encrypted) {
    throw backupErrors.corrupted(`${name} is ${s.size} bytes but its metadata says ${metadata.sizes.encrypted}: the file was changed or the metadata belongs to another backup`);
  }
  return { file, metadataFile, metadata };
}

export async function sha256File(file: string, progress: ProgressSink, label = 'checksum'): Promise<string> {
  const size = (await stat(file)).size;
  const bar = progress.start(label, size);
  const meter = new Meter((n) => bar.update(n));
  await pipeline(createReadStream(file), meter, new Writable({ write: (_c, _e, cb) => cb() }));
  bar.done();
  return meter.digest();
}

export async function checkChecksum(checked: CheckedFile, progress: ProgressSink): Promise<void> {
  const actual = await sha256File(checked.file, progress);
  if (actual !== checked.metadata.sha256) {
    throw backupErrors.corrupted(
      `${path.basename(checked.file)} does not match the SHA-256 in its metadata: the file is corrupted or the metadata belongs to another backup`,
    );
  }
}

export interface Plaintext {
  /** The SQL dump, decrypted and decompressed. */
  stream: Readable;
  /** Counts and hashes the SQL; read it after the stream ended. */
  sql: Meter;
  /** Counts and hashes the file as read. */
  raw: Meter;
  /** Throws when what was read is not the backup the metadata describes. */
  check(): void;
}

/**
 * The dump of a backup as a stream. An error while reading means a wrong key or damaged data:
 * callers check the file's checksum first, so by then it is the key.
 */
export async function openPlaintext(checked: CheckedFile, keys: DecryptionKeys, progress: ProgressSink, label: string): Promise<Plaintext> {
  const { metadata, file } = checked;
  const name = path.basename(file);
  const bar = progress.start(label, metadata.sizes.encrypted);
  const raw = new Meter((n) => bar.update(n));
  const input = chain(createReadStream(file), raw);
  let decrypted: Readable = input;
  if (metadata.encryption.format === 'openpgp') {
    if (!keys.passphrase && keys.privateKeys.length === 0) {
      throw backupErrors.notConfigured(`No key to decrypt ${name}: ${HOW_TO_CONFIGURE}, or BACKUP_PRIVATE_KEY_FILE`);
    }
    try {
      decrypted = await decryptStream(input, keys);
    } catch (err) {
      input.destroy();
      throw wrongKey(name, err);
    }
  }
  const sql = new Meter(gcPacer());
  const stream = chain(decrypted, createGunzip(), sql);
  return {
    stream,
    sql,
    raw,
    check: () => {
      bar.done();
      if (raw.digest() !== metadata.sha256) throw backupErrors.corrupted(`${name} changed while it was read: its SHA-256 no longer matches`);
      const id = headerId(sql.head);
      if (id !== metadata.id) throw backupErrors.metadataMismatch(`The dump inside ${name} is not the one its metadata describes: the metadata belongs to another backup`);
      if (!hasEndMarker(sql.tail)) throw backupErrors.incomplete(`The dump inside ${name} has no end marker: it was cut short when it was made`);
      if (sql.digest() !== metadata.dumpSha256) throw backupErrors.corrupted(`The dump inside ${name} does not match the SHA-256 in its metadata`);
    },
  };
}

export function wrongKey(name: string, err: unknown): Error {
  if (err instanceof Error && err.name === 'BackupError') return err;
  return backupErrors.wrongKey(
    `${name} cannot be decrypted with the configured passphrase or key (the file matches its checksum, so the passphrase or key is wrong): ${messageOf(err)}`,
  );
}

/** The full check. Nothing is written anywhere. */
export async function verifyFile(file: string, keys: DecryptionKeys, progress: ProgressSink = silentProgress): Promise<VerifyReport> {
  const started = Date.now();
  const checked = await checkFile(file);
  await checkChecksum(checked, progress);
  const plain = await openPlaintext(checked, keys, progress, 'verify');
  try {
    await pipeline(plain.stream, new Writable({ write: (_c, _e, cb) => cb() }));
  } catch (err) {
    throw wrongKey(path.basename(file), err);
  }
  plain.check();
  return { ...checked, bytes: plain.raw.bytes, dumpBytes: plain.sql.bytes, ms: Date.now() - started };
}
