/**
 * Registration with EMAIL_VERIFICATION=required must not tell by its timing whether an email is
 * taken. Wall-clock thresholds are noise on a busy machine, so this test shows the cause instead:
 * before the answer, a new and a taken email do exactly the same work (the same argon2 hashes,
 * the same database statements, the same mails queued: none that depend on the account), and
 * the answers are identical. The account-dependent work happens afterwards, in the background:
 * the new account and its verification mail, or the owner's "someone tried" notice.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.js';
import { createUser, strongPassword, uniqueEmail, type TestUser } from '../../../test/helpers/factories.js';
import { mailsTo } from '../../../test/support/accounts/helpers.js';
import type { Queryable } from '../../platform/db/index.js';
import * as password from '../../users/password.js';

// Every argon2 hash the app computes is counted.
vi.mock('../../users/password.js', async (importOriginal) => {
  const original = await importOriginal<typeof password>();
  return { ...original, hashPassword: vi.fn(original.hashPassword), verifyPassword: vi.fn(original.verifyPassword) };
});

let t: TestApp;
let owner: TestUser;
/**
 * SQL statements run by the observed request (normalised; its async context only, so timers of
 * other modules such as the revocation cache do not count), and background tasks held back.
 */
const statements: string[] = [];
const observed = new AsyncLocalStorage<true>();
let held: (() => Promise<unknown>)[] = [];

function normalise(sql: string): string {
  return sql.replace(/\s+/g, ' ').trim();
}

function recording(q: Queryable): Queryable {
  return {
    query: (sql, params) => {
      if (observed.getStore()) statements.push(normalise(sql));
      return q.query(sql, params);
    },
    exec: (sql) => {
      if (observed.getStore()) statements.push(normalise(sql));
      return q.exec(sql);
    },
  };
}

beforeAll(async () => {
  t = await buildTestApp({ EMAIL_VERIFICATION: 'required', MAIL_POLL_INTERVAL: '0' });
  owner = await createUser(t.app);
  // Record every statement, in or out of a transaction: repositories call these methods on the
  // shared Db object, so wrapping its methods sees them all.
  const db = t.deps.db;
  const original = { query: db.query.bind(db), exec: db.exec.bind(db), transaction: db.transaction.bind(db) };
  const plain = recording({ query: (sql, params) => original.query(sql, params), exec: (sql) => original.exec(sql) });
  db.query = (sql, params) => plain.query(sql, params);
  db.exec = (sql) => plain.exec(sql);
  db.transaction = (fn) => original.transaction((tx) => fn(recording(tx)));
  // Work started for after the answer waits until the test releases it.
  t.app.accounts.background.run = (_name: string, task: () => Promise<unknown>) => {
    held.push(task);
  };
});
afterAll(async () => {
  await t?.close();
});

async function release(): Promise<void> {
  const tasks = held;
  held = [];
  for (const task of tasks) await task();
}

interface Work {
  status: number;
  headers: Record<string, unknown>;
  body: unknown;
  hashes: number;
  verifies: number;
  statements: string[];
  mails: string[];
}

/** What one registration does before its answer, and the answer itself. */
async function registerAndObserve(email: string): Promise<Work> {
  await release();
  await t.app.audit.flush();
  statements.length = 0;
  vi.mocked(password.hashPassword).mockClear();
  vi.mocked(password.verifyPassword).mockClear();
  const enqueue = vi.spyOn(t.app.mail, 'enqueue');
  try {
    const res = await observed.run(true, () =>
      t.app.inject({
        method: 'POST',
        url: '/api/auth/register',
        payload: { email, password: strongPassword(), name: 'Mallory' },
      }),
    );
    const headers: Record<string, unknown> = { ...res.headers };
    delete headers['x-request-id'];
    delete headers['date'];
    const body = res.json<Record<string, unknown>>();
    delete body['requestId'];
    return {
      status: res.statusCode,
      headers,
      body,
      hashes: vi.mocked(password.hashPassword).mock.calls.length,
      verifies: vi.mocked(password.verifyPassword).mock.calls.length,
      // The request's own audit event is written by the request hook after every answer alike
      // (and the sealer runs on its own schedule): not part of the registration's work.
      statements: statements.filter((s) => !/\baudit_/.test(s)).map((s) => s.slice(0, 100)),
      mails: enqueue.mock.calls.map((c) => c[0].template),
    };
  } finally {
    enqueue.mockRestore();
  }
}

describe('registration (EMAIL_VERIFICATION=required): the same work before the answer', () => {
  it('a new and a taken email: same answer, same hashes, same statements, same mails', async () => {
    const fresh = uniqueEmail('fresh');
    const taken = await registerAndObserve(owner.email);
    const created = await registerAndObserve(fresh);

    expect(created.status).toBe(202);
    expect(taken).toEqual(created);
    // The expensive part is really done on both paths (the password is hashed once)...
    expect(created.hashes).toBe(1);
    // ...and nothing before the answer touches the database or the outbox.
    expect(created.statements).toEqual([]);
    expect(created.mails).toEqual([]);

    // Afterwards each path does its own work: the account and its link, or the owner's notice.
    await release();
    expect(await mailsTo(t.app, fresh, 'email_verification')).toHaveLength(1);
    expect(await mailsTo(t.app, owner.email, 'register_attempt')).toHaveLength(1);
    expect(await t.app.users.repo.getByEmail(fresh)).toBeDefined();
  });

  it('the same holds with different spellings of the taken email and repeated attempts', async () => {
    const runs: Work[] = [];
    for (const email of [owner.email.toUpperCase(), uniqueEmail('fresh'), owner.email, uniqueEmail('fresh')]) {
      runs.push(await registerAndObserve(email));
    }
    for (const run of runs) expect(run).toEqual(runs[0]);
    await release();
  });

  it('a refused password is refused alike for both, before any hash', async () => {
    const weak = async (email: string) => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/auth/register',
        payload: { email, password: 'password', name: 'M' },
      });
      const body = res.json<Record<string, unknown>>();
      delete body['requestId'];
      return { status: res.statusCode, body };
    };
    await release();
    vi.mocked(password.hashPassword).mockClear();
    const a = await weak(owner.email);
    const b = await weak(uniqueEmail('fresh'));
    expect(a.status).toBe(400);
    expect(a).toEqual(b);
    expect(vi.mocked(password.hashPassword)).not.toHaveBeenCalled();
    expect(held).toEqual([]);
  });
});
