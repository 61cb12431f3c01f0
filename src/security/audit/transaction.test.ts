/**
 * "An event commits with its state change": a state change that fails leaves no audit event
 * claiming success, and one that succeeds always has its event, because both are written in
 * one transaction (the sealer only ever sees committed events).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.js';
import { strongPassword, uniqueEmail } from '../../../test/helpers/factories.js';
import { newId } from '../../platform/ids.js';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ RATE_LIMIT_ENABLED: 'false' });
});
afterAll(async () => {
  await t.close();
});

const registerEvents = async () => {
  await t.app.audit.flush();
  return t.deps.db.query<{ actor: string; target_id: string }>(`select actor, target_id from audit_events where action = 'auth.register' and outcome = 'success'`);
};

describe('events commit with their state change', () => {
  it('a registration that fails (taken email, weak password) writes no success event; each one that succeeds has exactly one', async () => {
    const taken = uniqueEmail();
    const attempts: { email: string; password: string; ok: boolean }[] = [];
    for (let i = 0; i < 12; i++) {
      const kind = i % 3;
      if (kind === 0) attempts.push({ email: i === 0 ? taken : uniqueEmail(), password: strongPassword(), ok: true });
      if (kind === 1) attempts.push({ email: taken.toUpperCase(), password: strongPassword(), ok: false }); // unique violation inside the transaction
      if (kind === 2) attempts.push({ email: uniqueEmail(), password: 'password1234', ok: false });
    }
    const register = (a: { email: string; password: string }) =>
      t.app.inject({ method: 'POST', url: '/api/auth/register', payload: { email: a.email, password: a.password, name: 'N' } });
    // The first attempt owns the taken email, so it must commit before its rivals start; the
    // rest run concurrently (on PostgreSQL, two racing inserts of one email have no set winner).
    const [first, ...rest] = attempts;
    const results = [await register(first!), ...(await Promise.all(rest.map(register)))];
    results.forEach((r, i) => expect(r.statusCode).toBe(attempts[i]?.ok ? 201 : r.statusCode === 409 ? 409 : 400));
    const created = results.filter((r) => r.statusCode === 201).map((r) => r.json().user.id as string);
    const users = await t.deps.db.query<{ id: string }>(`select id from users`);
    const events = await registerEvents();
    expect(events.map((e) => e.target_id).sort()).toEqual(created.sort());
    // Every user row that registration created has its event, and no event names a user that does not exist.
    const userIds = new Set(users.map((u) => u.id));
    for (const e of events) expect(userIds.has(e.target_id)).toBe(true);
    // The failures are in the request log, as failures.
    const failures = await t.deps.db.query<{ n: number }>(
      `select count(*)::int as n from audit_events where action = 'http.post' and metadata->>'route' = '/api/auth/register' and outcome = 'failure'`,
    );
    expect(failures[0]?.n).toBe(attempts.filter((a) => !a.ok).length);
  });

  it('a transaction that records success and then fails leaves neither the change nor the event', async () => {
    const id = newId();
    await expect(
      t.deps.db.transaction(async (tx) => {
        await tx.query(`insert into users (id, email, name, password_hash) values ($1, $2, 'X', 'x')`, [id, uniqueEmail()]);
        await t.app.audit.record({ action: 'user.created', actor: 'system', outcome: 'success', target: { type: 'user', id } }, tx);
        throw new Error('the next step failed');
      }),
    ).rejects.toThrow('the next step failed');
    await t.app.audit.flush();
    expect(await t.deps.db.query(`select 1 from users where id = $1`, [id])).toHaveLength(0);
    expect(await t.deps.db.query(`select 1 from audit_events where target_id = $1`, [id])).toHaveLength(0);
    expect(await t.deps.db.query(`select 1 from audit_inbox where target_id = $1`, [id])).toHaveLength(0);
  });

  it('an invalid event aborts the state change with it (a bug is not silently unaudited)', async () => {
    const id = newId();
    await expect(
      t.deps.db.transaction(async (tx) => {
        await tx.query(`insert into users (id, email, name, password_hash) values ($1, $2, 'X', 'x')`, [id, uniqueEmail()]);
        await t.app.audit.record({ action: 'Not A Dotted Name', actor: 'system', outcome: 'success' }, tx);
      }),
    ).rejects.toMatchObject({ code: 'AUDIT_EVENT_INVALID' });
    expect(await t.deps.db.query(`select 1 from users where id = $1`, [id])).toHaveLength(0);
  });

  it('a succeeding change and its event are both there, chained', async () => {
    const id = newId();
    await t.deps.db.transaction(async (tx) => {
      await tx.query(`insert into users (id, email, name, password_hash) values ($1, $2, 'X', 'x')`, [id, uniqueEmail()]);
      await t.app.audit.record({ action: 'user.created', actor: 'system', outcome: 'success', target: { type: 'user', id } }, tx);
    });
    await t.app.audit.flush();
    const rows = await t.deps.db.query<{ seq: string }>(`select seq from audit_events where target_id = $1`, [id]);
    expect(rows).toHaveLength(1);
    expect((await t.app.audit.verify()).ok).toBe(true);
  });
});
