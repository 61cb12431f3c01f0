/**
 * The recovery point as the health check reports it: how old the newest verified (drilled)
 * backup is, against BACKUP_RPO_HOURS. Read from the backup folder (and S3 when configured),
 * cached so a readiness probe every few seconds does not list a bucket every few seconds.
 */
import type { Config } from '../config/index.js';
import { openS3BlobStore } from '../platform/blob/index.js';
import { listLocal, listStore, merge, newestVerified, type CatalogEntry } from './catalog.js';
import { backupDir, s3Options } from './settings.js';

export interface RpoStatus {
  /** ok: a verified backup within the RPO; stale: older; none: no verified backup at all. */
  status: 'ok' | 'stale' | 'none';
  newestVerifiedAt: string | null;
  ageHours: number | null;
  rpoHours: number;
}

const CACHE_MS = 5 * 60 * 1000;
let cache: { key: string; at: number; entries: Promise<CatalogEntry[]> } | undefined;

async function catalog(config: Config): Promise<CatalogEntry[]> {
  const lists = [listLocal(backupDir(config))];
  const s3 = s3Options(config);
  if (s3) {
    lists.push(
      openS3BlobStore(s3).then((store) => listStore(store).finally(() => store.close())),
    );
  }
  return merge(...(await Promise.all(lists)));
}

export async function rpoStatus(config: Config, now: Date, options: { fresh?: boolean } = {}): Promise<RpoStatus> {
  const key = `${backupDir(config)}|${config.AWS_S3_BUCKET ?? ''}`;
  if (options.fresh || !cache || cache.key !== key || now.getTime() - cache.at > CACHE_MS || now.getTime() < cache.at) {
    const entries = catalog(config);
    entries.catch(() => undefined);
    cache = { key, at: now.getTime(), entries };
  }
  let entries: CatalogEntry[];
  try {
    entries = await cache.entries;
  } catch (err) {
    cache = undefined;
    throw err;
  }
  const newest = newestVerified(entries);
  const rpoHours = config.BACKUP_RPO_HOURS;
  if (!newest) return { status: 'none', newestVerifiedAt: null, ageHours: null, rpoHours };
  const ageHours = Math.max(0, (now.getTime() - newest.createdAt.getTime()) / 3_600_000);
  return { status: ageHours > rpoHours ? 'stale' : 'ok', newestVerifiedAt: newest.createdAt.toISOString(), ageHours: Math.round(ageHours * 10) / 10, rpoHours };
}
