/**
 * Uploads interrupted by a process that died (kill -9 in the middle of a request): the next
 * process on the same DATA_DIR clears what the dead one staged and rejects its uploads that were
 * still in flight, so no file is left in staging and no row in a non-final state. A process still
 * running beside it keeps its files. (test/faults/ kills a real server mid-upload.)
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../../../test/helpers/app.js';
import { createPortfolio, createUser } from '../../../test/helpers/factories.js';
import { stagedEntries, uploadTestApp } from '../../../test/support/uploads/helpers.js';
import { buildApp } from '../../app.js';
import { claimStaging } from './staging.js';

/** A pid that was just used by a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

describe('claimStaging', () => {
  let base: string;
  beforeAll(async () => {
    base = await mkdtemp(path.join(os.tmpdir(), 'pf-staging-'));
  });
  afterAll(async () => {
    await rm(base, { recursive: true, force: true });
  });

  it('clears what dead processes (and our own previous life) left, keeps a live process’s files, and names the interrupted ids', async () => {
    const [a, b, c, d, e] = Array.from({ length: 5 }, () => randomUUID());
    const dead = `${deadPid()}-0a0b0c0d`;
    await mkdir(path.join(base, dead));
    await writeFile(path.join(base, dead, `${a}-11112222.upload`), 'x');
    await mkdir(path.join(base, dead, `${b}-33334444.out`));
    // Our own pid: in a container the restarted server often has the same one.
    const previous = `${process.pid}-deadbeef`;
    await mkdir(path.join(base, previous));
    await writeFile(path.join(base, previous, `${c}-55556666.upload`), 'x');
    // A process alive beside us (this test's parent, say) keeps its folder.
    const live = `${process.ppid}-cafebabe`;
    await mkdir(path.join(base, live));
    await writeFile(path.join(base, live, `${d}-77778888.upload`), 'x');
    // Before per-process folders: loose files.
    await writeFile(path.join(base, `${e}-9999aaaa.upload`), 'x');

    const claim = await claimStaging(base);
    expect(claim.interrupted.sort()).toEqual([a, b, c, e].sort());
    expect(path.dirname(claim.dir)).toBe(base);
    expect((await readdir(base)).sort()).toEqual([path.basename(claim.dir), live].sort());
    expect(await readdir(path.join(base, live))).toEqual([`${d}-77778888.upload`]);
  });
});

describe('a restart after a process died mid-upload', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await uploadTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('rejects the uploads it left in flight (UPLOAD_INTERRUPTED, audited), keeps finished ones, and empties staging', async () => {
    const owner = await createUser(t.app);
    const portfolio = await createPortfolio(t.app, owner);
    const create = (id: string) =>
      t.app.uploads.repo.create({
        id,
        portfolioId: portfolio.id,
        projectId: null,
        sectionId: null,
        experienceId: null,
        language: null,
        uploadedBy: owner.id,
        kind: 'image',
        category: 'gallery',
        isDefaultResume: false,
        originalName: 'photo.png',
        declaredType: 'image/png',
        extension: 'png',
        now: t.clock.now(),
      });
    const inFlight = randomUUID();
    const finished = randomUUID();
    await create(inFlight);
    await create(finished);
    await t.app.uploads.repo.update(finished, { status: 'rejected', statusReason: 'UPLOAD_EMPTY' }, t.clock.now());
    // What a server killed during both uploads left in its staging folder.
    const dead = path.join(t.config.DATA_DIR, 'upload-staging', `${deadPid()}-01020304`);
    await mkdir(dead, { recursive: true });
    await writeFile(path.join(dead, `${inFlight}-aaaabbbb.upload`), 'half a file');
    await writeFile(path.join(dead, `${finished}-ccccdddd.upload`), 'x');

    // The next process on this DATA_DIR and database.
    const restarted = await buildApp(t.deps, { logger: false });
    await restarted.ready();
    try {
      expect(await t.app.uploads.repo.get(inFlight)).toMatchObject({
        status: 'rejected',
        statusReason: 'UPLOAD_INTERRUPTED',
      });
      expect(await t.app.uploads.repo.get(finished)).toMatchObject({
        status: 'rejected',
        statusReason: 'UPLOAD_EMPTY',
      });
      expect(await stagedEntries(t.config.DATA_DIR)).toEqual([]);
      await restarted.audit.flush();
      const events = await t.deps.db.query<{ action: string; target_id: string }>(
        `select action, target_id from audit_events where action = 'media.rejected' and target_id = $1`,
        [inFlight],
      );
      expect(events).toHaveLength(1);
    } finally {
      await restarted.close();
    }
  });
});
