/**
 * Concurrent writers must not fork the chain or leave holes in it: 8 writers each commit 2,000
 * events, one transaction per event, while the sealer chains in the background. Afterwards the
 * chain verifies, seq runs 1..16000 with no gap, and every writer's events appear in the order
 * that writer committed them.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { auditFixture, DB_KINDS, type AuditFixture } from '../../../test/helpers/audit.js';

const WRITERS = 8;
const PER_WRITER = 2000;

describe.each(DB_KINDS)('concurrent writers on %s', (kind) => {
  let f: AuditFixture | undefined;
  afterEach(async () => {
    await f?.close();
  });

  it(`${WRITERS} writers x ${PER_WRITER} events: the chain verifies and seq has no gap`, async () => {
    f = await auditFixture(kind, { AUDIT_CHECKPOINT_EVERY: '1000' }, { poolSize: WRITERS + 2 });
    const fx = f;
    fx.audit.start();
    const writer = async (w: number) => {
      for (let i = 0; i < PER_WRITER; i++) {
        await fx.db.transaction(async (tx) => {
          await fx.audit.record({ action: 'test.concurrent.write', actor: 'system', outcome: 'success', target: { type: 'writer', id: String(w) }, metadata: { w, i } }, tx);
        });
      }
    };
    await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
    await fx.audit.flush();

    const bounds = await fx.audit.repo.bounds();
    expect(bounds).toEqual({ min: 1, max: WRITERS * PER_WRITER, count: WRITERS * PER_WRITER });
    const result = await fx.audit.verify();
    expect(result.damage).toBeNull();
    expect(result.events).toBe(WRITERS * PER_WRITER);
    expect(result.checkpoints.valid).toBeGreaterThanOrEqual(1);

    // Per writer, chain order follows commit order.
    const rows = await fx.db.query<{ w: number; i: number }>(
      `select (metadata->>'w')::int as w, (metadata->>'i')::int as i from audit_events order by seq`,
    );
    const last = new Map<number, number>();
    for (const r of rows) {
      expect(r.i).toBe((last.get(r.w) ?? -1) + 1);
      last.set(r.w, r.i);
    }
    expect(await fx.audit.repo.inboxSize()).toBe(0);
  }, 240_000);
});
