/**
 * Temporary files of the backup folder name their writer: one whose writer is gone is swept (by
 * `backup create` and by the listing), one whose writer runs is never touched.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listLocal } from './catalog.js';
import { ownerTag, sweepStaleTemps, writerGone } from './partial.js';

const NAME = 'backup_app_20260101T020000Z.sql.gz.gpg';

/** The pid of a process that has exited (and was ours, so it is not running again yet). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  const pid = child.pid!;
  await new Promise((r) => child.once('exit', r));
  return pid;
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'pf-backup-partial-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('backup temporary files', () => {
  it('sweeps the partial data and metadata files of a dead writer, keeps a live one', async () => {
    const host = ownerTag().split('@')[1];
    const dead = await deadPid();
    const deadData = `.${NAME}.p${dead}@${host}.partial`;
    const deadMeta = `.backup_app_20260101T020000Z.json.0a1b2c3d.p${dead}@${host}.partial`;
    const live = `.${NAME.replace('0200', '0300')}.${ownerTag()}.partial`;
    for (const n of [deadData, deadMeta, live]) await writeFile(path.join(dir, n), 'x');

    expect((await sweepStaleTemps(dir)).sort()).toEqual([deadData, deadMeta].sort());
    expect(await readdir(dir)).toEqual([live]);
    const listed = await listLocal(dir);
    expect(listed.map((e) => [e.name, e.status])).toEqual([[live, 'incomplete']]);
  });

  it("the listing removes a dead writer's partial file instead of listing it", async () => {
    const host = ownerTag().split('@')[1];
    await writeFile(path.join(dir, `.${NAME}.p${await deadPid()}@${host}.partial`), 'x');
    expect(await listLocal(dir)).toEqual([]);
    expect(await readdir(dir)).toEqual([]);
  });

  it('a writer on another host, or an owner-less name, is judged by a day of silence', async () => {
    const now = new Date('2026-01-02T12:00:00Z');
    const hour = new Date(now.getTime() - 3600_000);
    const twoDays = new Date(now.getTime() - 48 * 3600_000);
    const other = `.${NAME}.p1@elsewhere.partial`;
    const legacy = `.${NAME}.partial`;
    expect(writerGone(other, hour, now)).toBe(false);
    expect(writerGone(legacy, hour, now)).toBe(false);
    expect(writerGone(other, twoDays, now)).toBe(true);
    expect(writerGone(legacy, twoDays, now)).toBe(true);
    await writeFile(path.join(dir, other), 'x');
    await utimes(path.join(dir, other), hour, hour);
    expect(await sweepStaleTemps(dir, now)).toEqual([]);
    expect(await readdir(dir)).toEqual([other]);
  });
});
