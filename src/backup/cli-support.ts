import { listLocal, listStore, merge, type CatalogEntry } from './catalog.js';
import { backupErrors, messageOf } from './errors.js';
import { openS3, type BackupSettings } from './settings.js';

/** Local and (when configured) S3 backups, newest first. */
export async function catalogFor(settings: BackupSettings): Promise<CatalogEntry[]> {
  const local = await listLocal(settings.dir);
  if (!settings.s3) return merge(local);
  const store = await openS3(settings);
  try {
    return merge(local, await listStore(store));
  } catch (err) {
    throw backupErrors.s3(`Cannot list ${store.location}: ${messageOf(err)}`, err);
  } finally {
    await store.close();
  }
}

/** The JSON shape of `backup list --json`. */
export function describeEntry(e: CatalogEntry) {
  return {
    name: e.name,
    database: e.database,
    createdAt: e.createdAt.toISOString(),
    size: e.size,
    locations: e.locations,
    status: e.status,
    valid: e.valid,
    encrypted: e.encrypted,
    ...(e.problem ? { problem: e.problem } : {}),
    reason: e.metadata?.reason ?? null,
    sha256: e.metadata?.sha256 ?? null,
    lastVerify: e.metadata?.verified ?? null,
    lastDrill: e.drill ?? null,
    verified: e.valid && e.drill?.ok ? { at: e.drill.at, rtoMs: e.drill.rtoMs } : null,
  };
}
