/**
 * Retention and export bundles. Pruning must not become a way to hide history: the pruned segment
 * is exported and verified first, the prune is itself an event carrying the range and the
 * bundle's hash, verification continues from a signed anchor, and a bundle verifies offline
 * with nothing but the public key.
 */
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asAttacker, auditFixture, DB_KINDS, type AuditFixture } from '../../../test/helpers/audit.js';
import { sha256File, verifyBundle } from './bundle.js';
import { parseSigningKey, trustedKeys } from './signing.js';

const DAY = 86_400_000;

describe.each(DB_KINDS)('retention and bundles on %s', (kind) => {
  let f: AuditFixture;
  beforeEach(async () => {
    f = await auditFixture(kind, { AUDIT_RETENTION_DAYS: '30', AUDIT_CHECKPOINT_EVERY: '1000' }, { batchSize: 7 });
    for (let day = 0; day < 10; day++) {
      for (let i = 0; i < 3; i++) await f.audit.record({ action: 'test.daily', actor: 'system', outcome: 'success', metadata: { day, i } });
      f.clock.advance(10 * DAY);
    }
    await f.audit.flush();
  });
  afterEach(async () => {
    await f.close();
  });

  it('prunes what is older than AUDIT_RETENTION_DAYS: bundle, signed anchor, prune event, batched deletes', async () => {
    // Now = day 100; events of days 0..60 (7 days x 3 events) are older than 30 days.
    const r = await f.audit.prune({ batch: 4 });
    expect(r).toMatchObject({ fromSeq: 1, toSeq: 21, pruned: 21 });
    expect(await sha256File(r.bundle!)).toBe(r.bundleSha256);
    const bounds = await f.audit.repo.bounds();
    expect(bounds.min).toBe(22);
    const [event] = await f.audit.repo.query({ action: 'audit.prune' }, 1);
    expect(event?.metadata).toMatchObject({ fromSeq: 1, toSeq: 21, bundleSha256: r.bundleSha256, bundleFile: 'audit-1-21.jsonl' });
    const verified = await f.audit.verify();
    expect(verified.damage).toBeNull();
    expect(verified.firstSeq).toBe(22);
    const bundle = await f.audit.verifyBundle(r.bundle!);
    expect(bundle.ok).toBe(true);
    expect(bundle.events).toBe(21);

    // A second run later continues from the new anchor.
    f.clock.advance(40 * DAY);
    const again = await f.audit.prune();
    expect(again).toMatchObject({ fromSeq: 22, toSeq: 31 });
    expect((await f.audit.verify()).damage).toBeNull();
    expect(await f.audit.prune()).toMatchObject({ pruned: 0, toSeq: null });
  });

  it('still reports a deletion that did not go through prune, and refuses to let prune delete beyond its record', async () => {
    await f.audit.prune();
    await asAttacker(f.db, (q) => q.query(`delete from audit_events where seq between 22 and 23`).then(() => undefined));
    expect((await f.audit.verify()).damage).toMatchObject({ kind: 'deleted', seq: 22 });
    await expect(f.db.query(`select audit_prune_batch(25, 10)`)).rejects.toThrow(/not covered/);
  });

  it('reports a forged prune record (rows deleted, anchor invented) as "deleted"', async () => {
    const row10 = (await f.audit.repo.getBySeq(10))!;
    await asAttacker(f.db, async (q) => {
      await q.query(`insert into audit_prunes (to_seq, from_seq, anchor_hash, bundle_sha256, bundle_file, time) values (10, 1, $1, $2, 'x', now())`, [row10.hash, 'ab'.repeat(32)]);
      await q.query(`delete from audit_events where seq <= 10`);
    });
    expect((await f.audit.verify()).damage).toMatchObject({ kind: 'deleted', seq: 1 });
  });

  it('a bundle detects edits, reordering, a missing end checkpoint, and an untrusted key', async () => {
    const out = path.join(f.dataDir, 'b.jsonl');
    await f.audit.exportBundle({ fromSeq: 3, toSeq: 12, out });
    const lines = (await readFile(out, 'utf8')).trimEnd().split('\n');
    const write = async (name: string, ls: string[]) => {
      const file = path.join(f.dataDir, name);
      await writeFile(file, `${ls.join('\n')}\n`);
      return file;
    };
    const isEvent = (l: string, seq: number) => l.startsWith('{"type":"event"') && l.includes(`"seq":${seq},`);

    const swapped = lines.map((l) => (isEvent(l, 6) ? l.replace('"seq":6,', '"seq":7,') : isEvent(l, 7) ? l.replace('"seq":7,', '"seq":6,') : l));
    expect((await f.audit.verifyBundle(await write('swap.jsonl', swapped))).damage).toMatchObject({ kind: 'reordered', seq: 6 });

    const dropped = lines.filter((l) => !isEvent(l, 8));
    expect((await f.audit.verifyBundle(await write('drop.jsonl', dropped))).damage).toMatchObject({ kind: 'deleted', seq: 8 });

    const unsigned = lines.filter((l) => !l.startsWith('{"type":"checkpoint"'));
    expect((await f.audit.verifyBundle(await write('unsigned.jsonl', unsigned))).damage).toMatchObject({ kind: 'bad_signature', seq: 12 });

    const stranger = trustedKeys(parseSigningKey(randomBytes(32).toString('base64url')), []);
    expect((await verifyBundle(out, stranger)).damage).toMatchObject({ kind: 'bad_signature', seq: 12 });

    await expect(f.audit.verifyBundle(await write('junk.jsonl', ['not json']))).rejects.toMatchObject({ code: 'AUDIT_BUNDLE_INVALID' });
  });
});
