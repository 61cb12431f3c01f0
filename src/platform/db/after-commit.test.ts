/**
 * afterCommit: work that must see a committed transaction (announcing a change to other nodes)
 * runs once it committed, never when it rolled back, and cannot turn a commit into an error.
 * On PGlite, and on PostgreSQL with TEST_DATABASE_URL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDb } from '../../../test/helpers/app.js';
import { afterCommit, type Db } from './index.js';

let db: Db;
let drop: () => Promise<void>;
beforeAll(async () => {
  ({ db, drop } = await openTestDb());
  await db.exec('create table after_commit_probe (n int)');
});
afterAll(async () => {
  await drop();
});

describe('afterCommit', () => {
  it('runs after the commit, when the change is visible to everyone', async () => {
    const probe: { seen?: Promise<number> } = {};
    await db.transaction(async (tx) => {
      await tx.query('insert into after_commit_probe values (1)');
      afterCommit(tx, () => {
        // A hook that reads from outside the transaction: it must see the row already committed.
        probe.seen = db
          .query<{ n: number }>('select count(*)::int as n from after_commit_probe')
          .then((r) => r[0]?.n ?? -1);
      });
      expect(probe.seen).toBeUndefined();
    });
    expect(probe.seen).toBeDefined();
    expect(await probe.seen).toBe(1);
  });

  it('never runs when the transaction rolls back', async () => {
    let ran = false;
    await expect(
      db.transaction(async (tx) => {
        afterCommit(tx, () => (ran = true));
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(ran).toBe(false);
  });

  it('runs at once outside a transaction (the statement already committed)', () => {
    let ran = false;
    afterCommit(db, () => (ran = true));
    expect(ran).toBe(true);
  });

  it('runs every hook in order; one that throws neither stops the others nor fails the commit', async () => {
    const order: string[] = [];
    const result = await db.transaction(async (tx) => {
      afterCommit(tx, () => order.push('a'));
      afterCommit(tx, () => {
        throw new Error('hook failed');
      });
      afterCommit(tx, () => order.push('c'));
      return 'committed';
    });
    expect(result).toBe('committed');
    expect(order).toEqual(['a', 'c']);
  });
});
