/** A backup file and its metadata as the catalog reads them, for RPO tests (the status never reads the bytes). */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { METADATA_FORMAT, backupFileName, metadataNameOf, type BackupMetadata } from '../../../src/backup/metadata.js';

/** `drillOk`: true for a verified (drilled) backup, false for a failed drill, undefined for none. */
export async function fakeBackup(dir: string, at: Date, drillOk: boolean | undefined): Promise<void> {
  const file = backupFileName('app', at, true);
  const body = Buffer.from('not really encrypted, the health check does not read it');
  await writeFile(path.join(dir, file), body);
  const meta: Partial<BackupMetadata> = {
    format: METADATA_FORMAT,
    id: '00000000-0000-4000-8000-000000000000',
    file,
    completedAt: at.toISOString(),
    sha256: 'x',
    dumpSha256: 'y',
    sizes: { dump: 1, compressed: 1, encrypted: body.length },
    tables: [],
    encryption: { format: 'openpgp', cipher: 'AES-256', passphrase: true, recipients: [] },
    ...(drillOk === undefined
      ? {}
      : { drill: { at: at.toISOString(), ok: drillOk, rtoMs: 1000, target: 'x', tables: 0, rows: 0 } }),
  };
  await writeFile(path.join(dir, metadataNameOf(file)), JSON.stringify(meta));
}
