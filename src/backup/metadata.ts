/**
 * Backup names and the JSON metadata written beside every backup. The metadata never holds a
 * key or passphrase: only what is needed to check the file (its SHA-256, sizes, the dump's own
 * SHA-256 and id) and to prove a restore (per-table row counts and content checksums).
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { fsyncPath } from '../platform/blob/dir.js';
import { ownerTag } from './partial.js';

export const METADATA_FORMAT = 'portfolio-backup/1';

export interface TableChecksum {
  schema: string;
  name: string;
  rows: number;
  /** Order-independent digest of every row's text form (see checksums.ts). */
  checksum: string;
}

export interface DrillRecord {
  at: string;
  ok: boolean;
  /** Measured restore time into the scratch database, verification included (the RTO). */
  rtoMs: number;
  target: string;
  tables: number;
  rows: number;
  /** Accounts erased again from the erasure ledger after the load (docs/PRIVACY.md "Backups"). */
  erasuresReapplied?: number;
  detail?: string;
}

export interface BackupMetadata {
  format: typeof METADATA_FORMAT;
  id: string;
  file: string;
  database: string;
  engine: 'postgres' | 'pglite';
  reason: 'manual' | 'pre-restore' | 'scheduled';
  startedAt: string;
  completedAt: string;
  durationMs: number;
  sizes: { dump: number; compressed: number; encrypted: number };
  /** SHA-256 of the final file as stored. */
  sha256: string;
  /** SHA-256 of the plain SQL dump (checked again while restoring). */
  dumpSha256: string;
  postgresVersion: string;
  schemaVersion: number;
  tool: { name: string; version: string; dumper: string; node: string };
  compression: { algorithm: 'gzip'; level: number };
  encryption: { format: 'openpgp'; cipher: string; passphrase: boolean; recipients: string[] } | { format: 'none' };
  tables: TableChecksum[];
  /** The last integrity check (`backup verify`). */
  verified?: { at: string; ok: boolean } | undefined;
  /** The last restore drill (`backup drill`): only a passed drill makes a backup "verified". */
  drill?: DrillRecord | undefined;
}

const NAME = /^backup_([A-Za-z0-9_.-]{1,100})_(\d{8}T\d{6}Z)\.sql\.gz(\.gpg)?$/;

export interface ParsedName {
  database: string;
  time: Date;
  encrypted: boolean;
  base: string;
}

export function parseBackupName(file: string): ParsedName | null {
  const m = NAME.exec(file);
  if (!m?.[1] || !m[2]) return null;
  const t = m[2];
  const time = new Date(
    `${t.slice(0, 4)}-${t.slice(4, 6)}-${t.slice(6, 8)}T${t.slice(9, 11)}:${t.slice(11, 13)}:${t.slice(13, 15)}Z`,
  );
  if (Number.isNaN(time.getTime())) return null;
  return { database: m[1], time, encrypted: Boolean(m[3]), base: `backup_${m[1]}_${t}` };
}

export function stamp(d: Date): string {
  return d
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '');
}

export function safeDbName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 100) || 'db';
}

export function backupFileName(database: string, at: Date, encrypted: boolean): string {
  return `backup_${safeDbName(database)}_${stamp(at)}.sql.gz${encrypted ? '.gpg' : ''}`;
}

/** `backup_app_20260101T020000Z.sql.gz.gpg` -> `backup_app_20260101T020000Z.json` */
export function metadataNameOf(file: string): string {
  return file.replace(/\.sql\.gz(\.gpg)?$/, '.json');
}

export function isMetadata(value: unknown): value is BackupMetadata {
  const m = value as Partial<BackupMetadata> | null;
  return (
    typeof m === 'object' &&
    m !== null &&
    m.format === METADATA_FORMAT &&
    typeof m.id === 'string' &&
    typeof m.file === 'string' &&
    typeof m.sha256 === 'string' &&
    typeof m.dumpSha256 === 'string' &&
    typeof m.completedAt === 'string' &&
    typeof m.sizes === 'object' &&
    m.sizes !== null &&
    typeof m.sizes.encrypted === 'number' &&
    Array.isArray(m.tables)
  );
}

export function parseMetadata(text: string, where: string): BackupMetadata {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`${where} is not valid JSON`);
  }
  if (!isMetadata(value)) throw new Error(`${where} is not backup metadata (format ${METADATA_FORMAT})`);
  return value;
}

export async function readMetadataFile(file: string): Promise<BackupMetadata> {
  return parseMetadata(await readFile(file, 'utf8'), path.basename(file));
}

/** Temp file, fsync, rename, fsync the folder: readers see the old or the new metadata, never half. */
export async function writeMetadataFile(file: string, meta: BackupMetadata): Promise<void> {
  const dir = path.dirname(file);
  const temp = path.join(dir, `.${path.basename(file)}.${randomBytes(4).toString('hex')}.${ownerTag()}.partial`);
  try {
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(`${JSON.stringify(meta, null, 2)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
    await fsyncPath(dir);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}
