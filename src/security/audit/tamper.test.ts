/**
 * Tampering as an attacker with full database access would try it. A plain hash chain misses
 * several of these (deleting the newest rows, or rewriting everything with recomputed hashes,
 * still "verifies"); with signed checkpoints kept outside the database, each one must be reported
 * with the right kind of damage and the first bad seq. Runs on PGlite, and on PostgreSQL when
 * TEST_DATABASE_URL is set.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asAttacker, auditFixture, DB_KINDS, type AuditFixture } from '../../../test/helpers/audit.js';
import { chainHash, GENESIS_HASH } from './canonical.js';
import { parseSigningKey, signCheckpoint } from './signing.js';

const USER = '0195f3a0-0000-7000-8000-000000000001';

async function seed(f: AuditFixture, n: number): Promise<void> {
  for (let i = 1; i <= n; i++) {
    await f.audit.record({
      action: i % 3 === 0 ? 'auth.login.failed' : 'content.portfolio.updated',
      actor: i % 3 === 0 ? 'anonymous' : USER,
      outcome: i % 3 === 0 ? 'failure' : 'success',
      target: { type: 'portfolio', id: `p-${i}` },
      ip: '203.0.113.7',
      userAgent: 'vitest',
      requestId: `req-${i}`,
      metadata: { i, note: 'ünïcødé ✓', nested: { list: [1, 2.5, 'x'], flag: true } },
    });
    // Checkpoints every 10 events (AUDIT_CHECKPOINT_EVERY=10): seal as we go, as the background loop would.
    if (i % 10 === 0) await f.audit.flush();
  }
  await f.audit.flush();
}

describe.each(DB_KINDS)('tamper suite on %s', (kind) => {
  let f: AuditFixture;
  beforeEach(async () => {
    f = await auditFixture(kind, { AUDIT_CHECKPOINT_EVERY: '10' });
    await seed(f, 25);
    // Checkpoints now at 10 and 20; sign the head too, as the time-based checkpoint would.
    await f.audit.checkpoint();
  });
  afterEach(async () => {
    await f.close();
  });

  const rows = async () =>
    f.db.query<{ seq: string | number; hash: string; prev_hash: string }>(`select seq, hash, prev_hash from audit_events order by seq`);

  it('an untouched chain verifies, with checkpoints at 10, 20 and 25', async () => {
    const r = await f.audit.verify();
    expect(r.damage).toBeNull();
    expect(r.ok).toBe(true);
    expect(r.events).toBe(25);
    expect(r.lastCheckpoint?.seq).toBe(25);
    expect(r.checkpoints.valid).toBeGreaterThanOrEqual(3);
    const files = await f.audit.files.readAll();
    expect(files.map((c) => c.seq)).toEqual([10, 20, 25]);
  });

  it('refuses UPDATE, DELETE and TRUNCATE through ordinary SQL (trigger)', async () => {
    await expect(f.db.query(`update audit_events set actor = 'system' where seq = 3`)).rejects.toThrow(/append-only/);
    await expect(f.db.query(`delete from audit_events where seq = 25`)).rejects.toThrow(/append-only/);
    await expect(f.db.query(`truncate audit_events`)).rejects.toThrow(/append-only/);
    await expect(f.db.query(`delete from audit_checkpoints`)).rejects.toThrow(/append-only/);
    await expect(f.db.query(`select audit_prune_batch(10, 100)`)).rejects.toThrow(/not covered by a recorded prune/);
    expect((await f.audit.verify()).ok).toBe(true);
  });

  it('detects a modified field as "modified" at its seq', async () => {
    await asAttacker(f.db, (q) => q.query(`update audit_events set actor = 'system' where seq = 7`).then(() => undefined));
    const r = await f.audit.verify();
    expect(r.damage).toMatchObject({ kind: 'modified', seq: 7 });
  });

  it('detects modified metadata (one nested value) as "modified"', async () => {
    await asAttacker(f.db, (q) => q.query(`update audit_events set metadata = jsonb_set(metadata, '{nested,flag}', 'false') where seq = 16`).then(() => undefined));
    expect((await f.audit.verify()).damage).toMatchObject({ kind: 'modified', seq: 16 });
  });

  it('detects a deleted middle row as "deleted" at the missing seq', async () => {
    await asAttacker(f.db, (q) => q.query(`delete from audit_events where seq = 12`).then(() => undefined));
    expect((await f.audit.verify()).damage).toMatchObject({ kind: 'deleted', seq: 12 });
  });

  it('detects deleted oldest rows (not through prune) as "deleted" at seq 1', async () => {
    await asAttacker(f.db, (q) => q.query(`delete from audit_events where seq <= 5`).then(() => undefined));
    expect((await f.audit.verify()).damage).toMatchObject({ kind: 'deleted', seq: 1 });
  });

  it('detects deleted newest rows as "truncated" at the first missing seq', async () => {
    await asAttacker(f.db, (q) => q.query(`delete from audit_events where seq >= 21`).then(() => undefined));
    // The chain that is left is internally perfect; only the signed checkpoint at 25 betrays it.
    const r = await f.audit.verify();
    expect(r.damage).toMatchObject({ kind: 'truncated', seq: 21 });
  });

  it('detects the tail truncated with the database checkpoints deleted too (files outside the database remain)', async () => {
    await asAttacker(f.db, async (q) => {
      await q.query(`delete from audit_events where seq >= 21`);
      await q.query(`delete from audit_checkpoints where seq > 20`);
    });
    expect((await f.audit.verify()).damage).toMatchObject({ kind: 'truncated', seq: 21 });
  });

  it('detects two swapped rows as "reordered" at the first of them', async () => {
    await asAttacker(f.db, (q) =>
      q
        .query(
          `update audit_events a
              set v = b.v, time = b.time, action = b.action, actor = b.actor, outcome = b.outcome, ip = b.ip,
                  user_agent = b.user_agent, target_type = b.target_type, target_id = b.target_id,
                  request_id = b.request_id, metadata = b.metadata, prev_hash = b.prev_hash, hash = b.hash
             from audit_events b
            where (a.seq = 14 and b.seq = 15) or (a.seq = 15 and b.seq = 14)`,
        )
        .then(() => undefined),
    );
    expect((await f.audit.verify()).damage).toMatchObject({ kind: 'reordered', seq: 14 });
  });

  /** The attacker edits seq 3 and recomputes every hash after it, as a plain hash chain allows. */
  async function rewriteFrom3(): Promise<void> {
    const all = await f.audit.repo.range(0, 1000);
    let prev = GENESIS_HASH;
    await asAttacker(f.db, async (q) => {
      for (const e of all) {
        const content = e.seq === 3 ? { ...e, actor: 'system' } : e;
        const hash = chainHash(content, prev);
        await q.query(`update audit_events set actor = $2, prev_hash = $3, hash = $4 where seq = $1`, [e.seq, content.actor, prev, hash]);
        prev = hash;
      }
    });
  }

  it('detects a whole-chain rewrite with recomputed hashes as "forked" at the first signed checkpoint', async () => {
    await rewriteFrom3();
    const r = await f.audit.verify();
    expect(r.damage).toMatchObject({ kind: 'forked', seq: 10 });
  });

  it('detects a rewrite whose checkpoints were re-signed with the attacker\'s own key as "bad_signature"', async () => {
    await rewriteFrom3();
    const attackerKey = parseSigningKey(randomBytes(32).toString('base64url'));
    const forged = (await rows()).filter((r) => [10, 20, 25].includes(Number(r.seq)));
    await asAttacker(f.db, async (q) => {
      await q.query(`delete from audit_checkpoints`);
      for (const r of forged) {
        const cp = signCheckpoint(attackerKey, { seq: Number(r.seq), hash: r.hash, time: f.clock.now().toISOString() });
        await q.query(`insert into audit_checkpoints (seq, hash, time, kid, signature) values ($1, $2, $3, $4, $5)`, [cp.seq, cp.hash, cp.time, cp.kid, cp.sig]);
      }
    });
    const r = await f.audit.verify();
    expect(r.damage).toMatchObject({ kind: 'bad_signature', seq: 10 });
  });

  it('detects a checkpoint whose signature was altered as "bad_signature" at its seq', async () => {
    await asAttacker(f.db, (q) => q.query(`update audit_checkpoints set hash = $1 where seq = 20`, ['ab'.repeat(32)]).then(() => undefined));
    expect((await f.audit.verify()).damage).toMatchObject({ kind: 'bad_signature', seq: 20 });
  });

  it('detects a row chained onto another predecessor as "forked"', async () => {
    // Two writers that both read head 25 and each appended "seq 26": the loser's row links to 24.
    await f.audit.record({ action: 'auth.login.succeeded', actor: USER, outcome: 'success' });
    await f.audit.flush();
    const r24 = (await f.audit.repo.getBySeq(24))!;
    const r26 = (await f.audit.repo.getBySeq(26))!;
    const hash = chainHash(r26, r24.hash);
    await asAttacker(f.db, (q) => q.query(`update audit_events set prev_hash = $2, hash = $3 where seq = $1`, [26, r24.hash, hash]).then(() => undefined));
    expect((await f.audit.verify()).damage).toMatchObject({ kind: 'forked', seq: 26 });
  });

  it('the server-built fast encoding agrees with the full one on awkward values (no re-checks)', async () => {
    await f.audit.record({
      action: 'test.awkward.values',
      actor: 'anonymous',
      outcome: 'denied',
      ip: '2001:db8::1',
      userAgent: 'quote " backslash \\ tab \t newline \n é ✓ 𝄞 \u2028 <script>',
      target: { type: 'odd.type-1', id: '/path?x="y"&z=\\' },
      requestId: null,
      metadata: { 'key with "quotes"': 'v', 10: 'numeric key', 9: 'another', nested: { b: [null, false, -0, 1e21, 1e-7] } },
    });
    await f.audit.record({ action: 'test.no.target', actor: 'system', outcome: 'success' });
    await f.audit.flush();
    const r = await f.audit.verify();
    expect(r.damage).toBeNull();
    expect(r.rechecked).toBe(0);
  });

  it('detects a timestamp nudged by less than a millisecond as "modified"', async () => {
    await asAttacker(f.db, (q) => q.query(`update audit_events set time = time + interval '300 microseconds' where seq = 5`).then(() => undefined));
    expect((await f.audit.verify()).damage).toMatchObject({ kind: 'modified', seq: 5 });
  });

  it('verify --from starts mid-chain and still checks the later checkpoints', async () => {
    const from = await f.audit.verify({ fromSeq: 15 });
    expect(from.ok).toBe(true);
    expect(from.firstSeq).toBe(15);
    expect(from.events).toBe(11);
    await asAttacker(f.db, (q) => q.query(`delete from audit_events where seq >= 24`).then(() => undefined));
    expect((await f.audit.verify({ fromSeq: 15 })).damage).toMatchObject({ kind: 'truncated', seq: 24 });
  });
});
