/**
 * Retention that deletes the last good copy is how backups fail quietly. Whatever
 * BACKUP_RETENTION_DAYS and BACKUP_MIN_KEEP say, the newest verified (drilled) backup survives,
 * and so do the newest BACKUP_MIN_KEEP valid ones.
 */
import fc from 'fast-check';
import { readdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listLocal, newestVerified, type CatalogEntry } from './catalog.js';
import { createBackup } from './create.js';
import { drillFile } from './drill.js';
import { deleteBackup, planPrune } from './prune.js';
import { backupEnv, fixture, seed, type Env, type Fixture } from '../../test/support/backup/helpers.js';

const DAY = 24 * 3600 * 1000;
const NOW = new Date('2026-06-01T00:00:00Z');

function entry(i: number, ageDays: number, valid: boolean, drillOk: boolean | undefined): CatalogEntry {
  return {
    name: `backup_app_${String(i).padStart(4, '0')}.sql.gz.gpg`,
    database: 'app',
    createdAt: new Date(NOW.getTime() - ageDays * DAY),
    size: 1,
    encrypted: true,
    status: valid ? 'valid' : 'invalid',
    valid,
    locations: ['local'],
    ...(drillOk === undefined
      ? {}
      : { drill: { at: NOW.toISOString(), ok: drillOk, rtoMs: 1, target: 'x', tables: 1, rows: 1 } }),
  };
}

const catalog = fc.array(
  fc.record({
    age: fc.double({ min: 0, max: 400, noNaN: true }),
    valid: fc.boolean(),
    drill: fc.option(fc.boolean(), { nil: undefined }),
  }),
  { maxLength: 40 },
);

describe('planPrune (property)', () => {
  it('never deletes the newest verified backup, whatever the settings', () => {
    fc.assert(
      fc.property(
        catalog,
        fc.integer({ min: 1, max: 36_500 }),
        fc.integer({ min: 1, max: 50 }),
        (specs, retentionDays, minKeep) => {
          const entries = specs.map((s, i) => entry(i, s.age, s.valid, s.drill));
          const plan = planPrune(entries, { now: NOW, retentionDays, minKeep });
          const verified = newestVerified(entries);
          const removed = new Set(plan.remove.map((r) => r.entry.name));
          if (verified) expect(removed.has(verified.name)).toBe(false);
          // Every entry is decided exactly once.
          expect(plan.keep.length + plan.remove.length).toBe(entries.length);
          // The newest minKeep valid backups stay.
          const newestValid = entries
            .filter((e) => e.valid)
            .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())
            .slice(0, minKeep);
          for (const e of newestValid) expect(removed.has(e.name)).toBe(false);
          // Nothing younger than the retention period is deleted (interrupted leftovers aside).
          for (const r of plan.remove)
            expect(NOW.getTime() - r.entry.createdAt.getTime()).toBeGreaterThan(retentionDays * DAY - 1);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('keeps an old verified backup when every newer one is unverified', () => {
    const entries = [
      entry(1, 100, true, true),
      entry(2, 90, true, undefined),
      entry(3, 80, true, false),
      entry(4, 1, true, undefined),
    ];
    const plan = planPrune(entries, { now: NOW, retentionDays: 30, minKeep: 1 });
    expect(plan.remove.map((r) => r.entry.name).sort()).toEqual([
      entry(2, 0, true, undefined).name,
      entry(3, 0, true, undefined).name,
    ]);
    expect(plan.keep.find((k) => k.entry.name === entry(1, 0, true, true).name)?.why).toBe('newest verified backup');
  });
});

describe('prune on real backups', () => {
  let f: Fixture;
  let env: Env;
  beforeAll(async () => {
    f = await fixture('pglite', undefined);
    await seed(f, 3);
    env = await backupEnv();
  });
  afterAll(async () => {
    await f?.close();
    await env?.close();
  });

  it('with a one-day retention and min keep 1, the drilled old backup and the newest survive', async () => {
    const made = [];
    for (let i = 0; i < 4; i++) {
      env.ctx.clock = { now: () => new Date(NOW.getTime() - (40 - i * 10) * DAY) };
      made.push(await createBackup(f.target, env.ctx));
    }
    // Only the oldest (40 days) passed a drill.
    const oldest = made[0]!;
    await drillFile(oldest.file, env.ctx, undefined);
    const entries = await listLocal(env.ctx.settings.dir);
    const plan = planPrune(entries, { now: NOW, retentionDays: 1, minKeep: 1 });
    for (const r of plan.remove) await deleteBackup(r.entry, undefined);
    const left = (await readdir(env.ctx.settings.dir)).filter((n) => n.endsWith('.gpg')).sort();
    expect(left).toEqual([oldest.metadata.file, made[3]!.metadata.file].sort());
    expect((await readdir(env.ctx.settings.dir)).filter((n) => n.endsWith('.json'))).toHaveLength(2);
  }, 60_000);
});
