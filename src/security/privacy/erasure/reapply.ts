/**
 * What `backup restore` and `backup drill` run after loading a dump and before the database is
 * used (docs/PRIVACY.md "Backups"): the erasure ledger's entries newer than the backup, as SQL.
 */
import { m0017 } from '../../../platform/db/migrations/0017_erasure.js';
import type { ErasureLedger } from './ledger.js';
import { reapplySql } from './repository.js';

/**
 * An erasure stamped a little before the backup started may have committed after its snapshot
 * (the time is taken before the commit): entries this much older than the start are applied too.
 * Applying one the backup already has changes nothing.
 */
export const REAPPLY_MARGIN_MS = 3_600_000;

export interface ReapplyPlan {
  /** The script (empty when there is nothing to erase again). */
  sql: string;
  /** Accounts erased again. */
  subjects: number;
  /** Ledger lines that do not parse (reported; a restore with any is refused, see restore.ts). */
  unreadable: number;
}

export async function reapplyPlan(
  ledger: ErasureLedger,
  backup: { startedAt: string; schemaVersion: number },
): Promise<ReapplyPlan> {
  const since = new Date(Date.parse(backup.startedAt) - REAPPLY_MARGIN_MS);
  const { subjects, unreadable } = await ledger.subjectsSince(since);
  return { sql: reapplySql(subjects, backup.schemaVersion, m0017), subjects: subjects.length, unreadable };
}
