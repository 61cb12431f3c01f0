/**
 * What backups exist, here and in S3, and which of them are valid: a data file whose name,
 * metadata and size agree. A `.partial` file still being written, or a file without metadata, is
 * listed as incomplete and is never valid; a `.partial` file whose writer is gone is removed.
 * `backup verify` does the full check; this is the cheap one that `list`, `prune`, `drill` and the
 * health check use.
 */
import { stat } from 'node:fs/promises';
import { dirNames } from '../platform/dir-names.js';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import type { BlobStore } from '../platform/blob/index.js';
import { messageOf } from './errors.js';
import { parseTempName, sweepStaleTemps } from './partial.js';
import {
  metadataNameOf,
  parseBackupName,
  parseMetadata,
  readMetadataFile,
  type BackupMetadata,
  type DrillRecord,
} from './metadata.js';

export type Location = 'local' | 's3';

export interface CatalogEntry {
  name: string;
  database: string;
  /** When the backup was made (metadata completedAt, else the time in its name). */
  createdAt: Date;
  size: number;
  encrypted: boolean;
  status: 'valid' | 'incomplete' | 'invalid';
  valid: boolean;
  problem?: string | undefined;
  locations: Location[];
  metadata?: BackupMetadata | undefined;
  /** Local paths, when the backup is here. */
  local?: { file: string; metadataFile: string } | undefined;
  /** S3 keys (relative to BACKUP_S3_PREFIX), when it is there. */
  s3?: { key: string; metadataKey: string } | undefined;
  /** Whether the last drill passed: only then is the backup "verified". */
  drill?: DrillRecord | undefined;
}

/** A backup file being written (./partial.ts): the name it will have, or undefined. */
function partialOf(name: string): string | undefined {
  const target = parseTempName(name)?.target;
  return target && /\.sql\.gz(\.gpg)?$/.test(target) ? target : undefined;
}

function judge(
  name: string,
  size: number,
  metadata: BackupMetadata | undefined,
  metadataProblem: string | undefined,
): Pick<CatalogEntry, 'status' | 'valid' | 'problem'> {
  if (!metadata) return { status: 'incomplete', valid: false, problem: metadataProblem ?? 'no metadata' };
  if (metadata.file !== name)
    return { status: 'invalid', valid: false, problem: `metadata describes ${metadata.file}` };
  if (size !== metadata.sizes.encrypted)
    return { status: 'invalid', valid: false, problem: `size ${size} but metadata says ${metadata.sizes.encrypted}` };
  return { status: 'valid', valid: true };
}

export async function listLocal(dir: string): Promise<CatalogEntry[]> {
  // A partial file whose writer is gone (killed halfway) will never be completed: it is removed,
  // not listed. One still being written (or of another host) is listed as incomplete.
  await sweepStaleTemps(dir).catch(() => []);
  const names = await dirNames(dir);
  const out: CatalogEntry[] = [];
  for (const n of names) {
    const partial = partialOf(n);
    const parsed = parseBackupName(partial ?? n);
    if (!parsed) continue;
    const file = path.join(dir, n);
    const s = await stat(file).catch(() => null);
    if (!s?.isFile()) continue;
    if (partial) {
      out.push({
        name: n,
        database: parsed.database,
        createdAt: s.mtime,
        size: s.size,
        encrypted: parsed.encrypted,
        status: 'incomplete',
        valid: false,
        problem: 'interrupted or still in progress (partial file)',
        locations: ['local'],
        local: { file, metadataFile: '' },
      });
      continue;
    }
    const metadataFile = path.join(dir, metadataNameOf(n));
    let metadata: BackupMetadata | undefined;
    let problem: string | undefined;
    try {
      metadata = await readMetadataFile(metadataFile);
    } catch (err) {
      problem = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no metadata' : messageOf(err);
    }
    out.push({
      name: n,
      database: parsed.database,
      createdAt: metadata ? new Date(metadata.completedAt) : parsed.time,
      size: s.size,
      encrypted: parsed.encrypted,
      ...judge(n, s.size, metadata, problem),
      locations: ['local'],
      metadata,
      local: { file, metadataFile },
      drill: metadata?.drill,
    });
  }
  return out;
}

export async function listStore(store: BlobStore): Promise<CatalogEntry[]> {
  const objects = new Map<string, number>();
  for await (const o of store.list('')) objects.set(o.key, o.size);
  const out: CatalogEntry[] = [];
  for (const [key, size] of objects) {
    if (key.includes('/')) continue;
    const parsed = parseBackupName(key);
    if (!parsed) continue;
    const metadataKey = metadataNameOf(key);
    let metadata: BackupMetadata | undefined;
    let problem: string | undefined;
    if (objects.has(metadataKey)) {
      try {
        metadata = parseMetadata(await text(await store.get(metadataKey)), metadataKey);
      } catch (err) {
        problem = messageOf(err);
      }
    }
    out.push({
      name: key,
      database: parsed.database,
      createdAt: metadata ? new Date(metadata.completedAt) : parsed.time,
      size,
      encrypted: parsed.encrypted,
      ...judge(key, size, metadata, problem),
      locations: ['s3'],
      metadata,
      s3: { key, metadataKey },
      drill: metadata?.drill,
    });
  }
  return out;
}

/** Local and S3 listings merged by name, newest first. */
export function merge(...lists: CatalogEntry[][]): CatalogEntry[] {
  const byName = new Map<string, CatalogEntry>();
  for (const e of lists.flat()) {
    const seen = byName.get(e.name);
    if (!seen) {
      byName.set(e.name, { ...e, locations: [...e.locations] });
      continue;
    }
    const better = !seen.valid && e.valid ? e : seen;
    const drill = [seen.drill, e.drill]
      .filter((d): d is DrillRecord => Boolean(d))
      .sort((a, b) => (a.at < b.at ? 1 : -1))[0];
    byName.set(e.name, {
      ...better,
      locations: [...new Set([...seen.locations, ...e.locations])],
      local: seen.local ?? e.local,
      s3: seen.s3 ?? e.s3,
      drill,
    });
  }
  return [...byName.values()].sort(
    (a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.name < b.name ? 1 : -1),
  );
}

export function isVerified(e: CatalogEntry): boolean {
  return e.valid && e.drill?.ok === true;
}

/** The newest backup whose last drill passed. */
export function newestVerified(entries: readonly CatalogEntry[]): CatalogEntry | undefined {
  return entries.filter(isVerified).sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())[0];
}
