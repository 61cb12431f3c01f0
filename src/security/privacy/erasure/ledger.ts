/**
 * The erasure ledger (issue 19, part 4; docs/PRIVACY.md): who was erased and when, nothing else
 * (a subject id and two times per line, no personal data), kept OUTSIDE the database and its
 * backups, beside the audit checkpoints (`DATA_DIR/audit/erasures/ledger.jsonl`). A backup taken
 * before an erasure still holds the person; `backup restore` and `backup drill` read this file and
 * erase again, before the restored database is used, everyone erased after the backup started.
 *
 * Append-only: one JSON line per erasure, written with O_APPEND and flushed to disk before the
 * database records it as written (`users.erasure_ledgered_at`); a crash in between writes the line
 * again at the next pass, and a subject listed twice is erased twice, which changes nothing.
 * Keyed by user id, as the later crypto-shredding part's data keys will be.
 */
import { mkdir, open, readFile } from 'node:fs/promises';
import path from 'node:path';
import { isUuid } from '../../../platform/ids.js';

export interface LedgerEntry {
  v: 1;
  /** The erased account's id (the tombstone's id). */
  subject: string;
  /** When the database erasure committed. */
  erasedAt: string;
  /** When this line was written. */
  recordedAt: string;
}

export function erasureLedgerDir(dataDir: string): string {
  return path.resolve(dataDir, 'audit', 'erasures');
}

const FILE = 'ledger.jsonl';

function parseEntry(line: string): LedgerEntry | undefined {
  try {
    const v = JSON.parse(line) as Record<string, unknown>;
    if (v['v'] !== 1 || typeof v['subject'] !== 'string' || !isUuid(v['subject'])) return undefined;
    const erasedAt = v['erasedAt'];
    const recordedAt = v['recordedAt'];
    if (typeof erasedAt !== 'string' || Number.isNaN(Date.parse(erasedAt))) return undefined;
    if (typeof recordedAt !== 'string' || Number.isNaN(Date.parse(recordedAt))) return undefined;
    return { v: 1, subject: v['subject'], erasedAt, recordedAt };
  } catch {
    return undefined;
  }
}

export class ErasureLedger {
  constructor(readonly dir: string) {}

  get file(): string {
    return path.join(this.dir, FILE);
  }

  /** Appends the entries and flushes them to disk. */
  async append(entries: readonly { subject: string; erasedAt: Date }[], now: Date): Promise<void> {
    if (entries.length === 0) return;
    const lines = entries
      .map((e) => {
        if (!isUuid(e.subject)) throw new Error('erasure ledger: not a subject id');
        const entry: LedgerEntry = {
          v: 1,
          subject: e.subject,
          erasedAt: e.erasedAt.toISOString(),
          recordedAt: now.toISOString(),
        };
        return `${JSON.stringify(entry)}\n`;
      })
      .join('');
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const handle = await open(this.file, 'a', 0o600);
    try {
      await handle.appendFile(lines, 'utf8');
      await handle.datasync();
    } finally {
      await handle.close();
    }
  }

  /** Every entry; `unreadable` counts lines that do not parse (reported, never silently used). */
  async readAll(): Promise<{ entries: LedgerEntry[]; unreadable: number }> {
    let raw: string;
    try {
      raw = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [], unreadable: 0 };
      throw err;
    }
    const entries: LedgerEntry[] = [];
    let unreadable = 0;
    for (const line of raw.split('\n')) {
      if (line.trim() === '') continue;
      const entry = parseEntry(line);
      if (entry) entries.push(entry);
      else unreadable++;
    }
    return { entries, unreadable };
  }

  /**
   * The subjects erased at or after `since` (a backup's start: an erasure that committed before
   * it is in the backup already; one after it is not), once each.
   */
  async subjectsSince(since: Date): Promise<{ subjects: { subject: string; erasedAt: Date }[]; unreadable: number }> {
    const { entries, unreadable } = await this.readAll();
    const seen = new Map<string, Date>();
    for (const e of entries) {
      const at = new Date(e.erasedAt);
      if (at.getTime() < since.getTime() || seen.has(e.subject)) continue;
      seen.set(e.subject, at);
    }
    return { subjects: [...seen].map(([subject, erasedAt]) => ({ subject, erasedAt })), unreadable };
  }
}
