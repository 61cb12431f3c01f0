/**
 * A database that goes away (restart, crash, a killed backend) is an outage, not a bug: the db
 * layer reports it as one type, the HTTP layer answers 503 DATABASE_UNAVAILABLE with Retry-After,
 * and a connection that dies inside a transaction neither kills the process nor goes back to the
 * pool. The PostgreSQL cases run with TEST_DATABASE_URL (a backend terminated with
 * pg_terminate_backend gets the same FATAL 57P01 a fast shutdown sends).
 */
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDb } from '../../../test/helpers/app.js';
import { TEST_DATABASE_URL } from '../../../test/helpers/services.js';
import { problemPlugin } from '../../http/problem-plugin.js';
import type { Db } from './index.js';
import { classifyDatabaseError, DatabaseUnavailableError, isDatabaseUnavailable } from './unavailable.js';

function pgError(message: string, code?: string): Error {
  return Object.assign(new Error(message), code === undefined ? {} : { code });
}

describe('what counts as the database being unavailable', () => {
  it.each([
    ['fast shutdown', pgError('terminating connection due to administrator command', '57P01')],
    ['crash restart', pgError('terminating connection because of crash of another server process', '57P02')],
    ['starting up', pgError('the database system is starting up', '57P03')],
    ['connection failure', pgError('connection failure', '08006')],
    ['too many connections', pgError('sorry, too many clients already', '53300')],
    ['refused', pgError('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')],
    ['reset', pgError('read ECONNRESET', 'ECONNRESET')],
    ['pg: died', pgError('Connection terminated unexpectedly')],
    ['pg-pool: no connection in time', pgError('timeout exceeded when trying to connect')],
    ['pg: dead client', pgError('Client has encountered a connection error and is not queryable')],
  ])('%s', (_name, err) => {
    expect(isDatabaseUnavailable(err)).toBe(true);
    expect(classifyDatabaseError(err)).toBeInstanceOf(DatabaseUnavailableError);
  });

  it.each([
    ['unique violation', pgError('duplicate key value violates unique constraint', '23505')],
    ['syntax error', pgError('syntax error at or near "selec"', '42601')],
    ['serialization failure', pgError('could not serialize access', '40001')],
    ['a plain bug', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['a message that only mentions a connection', new Error('user said: Connection terminated unexpectedly')],
  ])('not: %s', (_name, err) => {
    expect(isDatabaseUnavailable(err)).toBe(false);
    expect(classifyDatabaseError(err)).toBe(err);
  });

  it('is answered 503 DATABASE_UNAVAILABLE with Retry-After, without the driver’s words', async () => {
    const app = Fastify({ logger: false });
    await app.register(problemPlugin);
    app.get('/outage', () => {
      throw new DatabaseUnavailableError(pgError('connect ECONNREFUSED 10.0.0.7:5432', 'ECONNREFUSED'));
    });
    app.get('/raw', () => {
      throw pgError('terminating connection due to administrator command', '57P01');
    });
    for (const url of ['/outage', '/raw']) {
      const res = await app.inject({ url });
      expect(res.statusCode).toBe(503);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.headers['retry-after']).toBe('5');
      expect(res.json()).toMatchObject({ code: 'DATABASE_UNAVAILABLE', status: 503, retryAfter: 5 });
      expect(res.body).not.toMatch(/ECONNREFUSED|10\.0\.0\.7|administrator command/);
    }
    await app.close();
  });
});

describe.runIf(TEST_DATABASE_URL)('a PostgreSQL connection that dies inside a transaction', () => {
  let db: Db;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    ({ db, drop } = await openTestDb());
    await db.exec('create table unavailable_probe (n int)');
  });
  afterAll(async () => {
    await drop();
  });

  it('fails that transaction as unavailable, keeps the process alive, and the pool replaces the connection', async () => {
    const outcome = db.transaction(async (tx) => {
      await tx.query('insert into unavailable_probe values (1)');
      const [me] = await tx.query<{ pid: number }>('select pg_backend_pid() as pid');
      // What a fast shutdown does to every backend, done to this one from another connection.
      await db.query('select pg_terminate_backend($1)', [me?.pid]);
      // Idle between two statements: the FATAL arrives as an 'error' event on the client. With
      // no listener of ours, that event is an uncaught exception and the test run fails.
      await new Promise((r) => setTimeout(r, 300));
      await tx.query('insert into unavailable_probe values (2)');
    });
    await expect(outcome).rejects.toBeInstanceOf(DatabaseUnavailableError);
    // Nothing of the broken transaction was kept, and the next transactions get live connections.
    for (let i = 0; i < 12; i++) {
      await db.transaction(async (tx) => tx.query('insert into unavailable_probe values (3)'));
    }
    const rows = await db.query<{ n: number; c: number }>(
      'select n, count(*)::int as c from unavailable_probe group by n order by n',
    );
    expect(rows).toEqual([{ n: 3, c: 12 }]);
  });

  it('idle pooled connections killed under it: the next statements get new connections', async () => {
    // This pool's own backends only (other test files share the database).
    const seen = await Promise.all(
      Array.from({ length: 5 }, () => db.query<{ pid: number }>('select pg_backend_pid() as pid, pg_sleep(0.05)')),
    );
    const pids = [...new Set(seen.flat().map((r) => r.pid))];
    expect(pids.length).toBeGreaterThan(1);
    await db.query('select pg_terminate_backend(p) from unnest($1::int[]) as p where p <> pg_backend_pid()', [pids]);
    await new Promise((r) => setTimeout(r, 300));
    const after = await Promise.all(
      Array.from({ length: 10 }, () => db.query<{ pid: number }>('select pg_backend_pid() as pid')),
    );
    expect(after).toHaveLength(10);
  });
});
