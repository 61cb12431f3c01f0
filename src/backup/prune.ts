/**
 * Retention: backups older than BACKUP_RETENTION_DAYS go, except the newest BACKUP_MIN_KEEP
 * valid ones and, whatever the settings, the newest verified (drilled) backup: a retention rule
 * must never delete the last copy known to restore. Interrupted (`.partial`) files older than a
 * day and invalid backups past retention are cleaned up too.
 */
import { rm } from 'node:fs/promises';
import type { BlobStore } from '../platform/blob/index.js';
import { newestVerified, type CatalogEntry } from './catalog.js';

export interface PrunePolicy {
  now: Date;
  retentionDays: number;
  minKeep: number;
}

export interface PrunePlan {
  keep: { entry: CatalogEntry; why: string }[];
  remove: { entry: CatalogEntry; why: string }[];
}

const DAY = 24 * 3600 * 1000;

export function planPrune(entries: readonly CatalogEntry[], policy: PrunePolicy): PrunePlan {
  const cutoff = policy.now.getTime() - policy.retentionDays * DAY;
  const sorted = [...entries].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  const protectedName = newestVerified(sorted)?.name;
  const newestValid = new Set(sorted.filter((e) => e.valid).slice(0, Math.max(1, policy.minKeep)).map((e) => e.name));
  const plan: PrunePlan = { keep: [], remove: [] };
  for (const entry of sorted) {
    const age = entry.createdAt.getTime();
    if (entry.name === protectedName) plan.keep.push({ entry, why: 'newest verified backup' });
    else if (newestValid.has(entry.name)) plan.keep.push({ entry, why: `among the newest ${policy.minKeep}` });
    else if (entry.problem?.startsWith('interrupted')) {
      if (age < policy.now.getTime() - DAY) plan.remove.push({ entry, why: 'interrupted backup older than a day' });
      else plan.keep.push({ entry, why: 'may still be in progress' });
    } else if (age < cutoff) plan.remove.push({ entry, why: `older than ${policy.retentionDays} days` });
    else plan.keep.push({ entry, why: `within ${policy.retentionDays} days` });
  }
  return plan;
}

/** Deletes one backup everywhere it is: data first, then metadata (a lone metadata file is harmless). */
export async function deleteBackup(entry: CatalogEntry, store: BlobStore | undefined): Promise<void> {
  if (entry.local) {
    await rm(entry.local.file, { force: true });
    if (entry.local.metadataFile) await rm(entry.local.metadataFile, { force: true });
  }
  if (entry.s3 && store) {
    await store.delete(entry.s3.key);
    await store.delete(entry.s3.metadataKey);
  }
}
