/**
 * The temporary files of a backup being written (`.backup_….sql.gz.gpg.p<pid>@<host>.partial`)
 * and of its metadata (`.backup_….json.<hex>.p<pid>@<host>.partial`) carry their writer: the
 * process and the host. A partial file whose writer is gone (`backup create` killed -9, the
 * machine lost power) is garbage that nothing will ever finish: the catalog neither lists it nor
 * keeps it, and `backup create` sweeps such files before it writes. A partial file of a writer
 * still running, or of another host (a shared BACKUP_DIR), is left alone; one whose writer cannot
 * be judged (another host, or the owner-less names of older versions) goes after a day, as before.
 *
 * A pid reused by another process after the kill makes a dead writer look alive: its partial file
 * is then kept (listed as in progress) until that process ends or a day has passed; never the
 * other way round, so a backup in progress is never swept.
 */
import os from 'node:os';
import path from 'node:path';
import { rm, stat } from 'node:fs/promises';
import { dirNames } from '../platform/dir-names.js';

const DAY = 24 * 3600 * 1000;

const SUFFIX = '.partial';
const OWNER = /\.p(\d{1,10})@([A-Za-z0-9-]{1,63})$/;

export interface TempName {
  /** What the file becomes when complete (a metadata temp's name also carries random hex). */
  target: string;
  /** Its writer, absent in the names of older versions. */
  pid?: number | undefined;
  host?: string | undefined;
}

/** `.backup_<…>[.p<pid>@<host>].partial`, the temporary files of the backup folder. */
export function parseTempName(name: string): TempName | undefined {
  if (!name.startsWith('.backup_') || !name.endsWith(SUFFIX)) return undefined;
  const inner = name.slice(1, -SUFFIX.length);
  const m = OWNER.exec(inner);
  if (!m) return { target: inner };
  return { target: inner.slice(0, m.index), pid: Number(m[1]), host: m[2] };
}

function thisHost(): string {
  return (
    os
      .hostname()
      .replace(/[^A-Za-z0-9-]/g, '-')
      .slice(0, 63) || 'host'
  );
}

/** `p<pid>@<host>` of this process: what its temporary file names carry. */
export function ownerTag(): string {
  return `p${process.pid}@${thisHost()}`;
}

/** Whether `name` is a temporary file of the backup folder. */
export function isTempName(name: string): boolean {
  return parseTempName(name) !== undefined;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, it belongs to someone else.
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * Whether the writer of a temporary file is gone, so the file will never be completed.
 * `mtime` is the file's last change: for a writer that cannot be judged, a day of silence.
 */
export function writerGone(name: string, mtime: Date, now: Date = new Date()): boolean {
  const t = parseTempName(name);
  if (!t) return false;
  const { pid, host } = t;
  if (pid === undefined || host !== thisHost()) return now.getTime() - mtime.getTime() > DAY;
  if (pid === process.pid) return false;
  return !processAlive(pid);
}

/** Removes the temporary files whose writer is gone; returns their names. */
export async function sweepStaleTemps(dir: string, now: Date = new Date()): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await dirNames(dir)) {
    if (!isTempName(name)) continue;
    const file = path.join(dir, name);
    // eslint-disable-next-line security/detect-non-literal-fs-filename -- a name read from BACKUP_DIR itself
    const s = await stat(file).catch(() => null);
    if (!s?.isFile() || !writerGone(name, s.mtime, now)) continue;
    await rm(file, { force: true });
    removed.push(name);
  }
  return removed;
}
