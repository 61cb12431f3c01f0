/**
 * Where a server process stages uploads: a folder of its own under `DATA_DIR/upload-staging`,
 * named by its pid and a random suffix (`<pid>-<8 hex>`). The name is what lets the next process
 * tell the leftovers of a process that died (kill -9, a crash, the machine going down in the middle
 * of an upload) from the files of one that is still running beside it:
 *
 * - a folder whose pid is gone, or is our own pid (a previous life: in a container the server is
 *   often pid 1 every time), belonged to a dead process: its uploads were interrupted;
 * - a folder whose pid is alive and not ours belongs to another process on this DATA_DIR: left alone;
 * - loose files and `.out` folders directly under `upload-staging` are from before per-process
 *   folders: interrupted as well.
 *
 * Every staged name starts with its media id (`<id>-<hex>.upload|.out|.retry`), so the ids of the
 * interrupted uploads come from the names; the caller rejects those still in a non-final state.
 * DATA_DIR is per node (docs/UPLOADS.md): pids mean nothing across machines.
 *
 * Written here rather than taken from a library: it is a directory listing and a pid check.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';

const OWN_FOLDER = /^(\d+)-[0-9a-f]{8}$/;
const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

export interface StagingClaim {
  /** This process's staging folder (created). */
  dir: string;
  /** Media ids found in what dead processes left; their files are gone. */
  interrupted: string[];
}

function alive(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but is someone else's.
    return (err as { code?: string }).code === 'EPERM';
  }
}

function idOf(name: string): string | undefined {
  return ID.exec(name)?.[0].toLowerCase();
}

export async function claimStaging(base: string): Promise<StagingClaim> {
  await mkdir(base, { recursive: true, mode: 0o700 });
  const interrupted = new Set<string>();
  for (const entry of await readdir(base, { withFileTypes: true })) {
    const full = path.join(base, entry.name);
    const owner = entry.isDirectory() ? OWN_FOLDER.exec(entry.name) : null;
    if (owner) {
      if (alive(Number(owner[1]))) continue;
      for (const name of await readdir(full).catch(() => [] as string[])) {
        const id = idOf(name);
        if (id) interrupted.add(id);
      }
    } else {
      const id = idOf(entry.name);
      if (id) interrupted.add(id);
    }
    await rm(full, { recursive: true, force: true });
  }
  const dir = path.join(base, `${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(dir, { mode: 0o700 });
  return { dir, interrupted: [...interrupted] };
}
